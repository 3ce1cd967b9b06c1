"""The scenario's master data: generated deterministically, written in batches, idempotent,
cleaned up -- on the test server in each version mode, or a real Odoo with -m odoo_live."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app
from sim.config import load_scenario
from sim.odoo import cleanup, masterdata, seed
from sim.odoo.masterdata import SeedSize, plan
from sim.odoo.transport import connect
from sim.scenarios.schema import TIERS
from tests.odoo_server.live import clean, settings_of
from tests.profiles import examples

SCENARIO = load_scenario("default")


@settings(max_examples=examples(25), deadline=None)
@given(
    customers=st.integers(0, 60),
    products=st.integers(0, 60),
    gap=st.floats(0.0, 1.0),
    seed_=st.integers(0, 10**6),
)
def test_plan_invariants(customers, products, gap, seed_):
    size = SeedSize(customers, products, 3, 2, gap_share=gap, seed=seed_)
    records = plan(SCENARIO, size)
    assert len(records) == size.total()
    assert len({r.name for r in records}) == len(records)
    assert plan(SCENARIO, size) == records  # same seed, same world
    custs = [r for r in records if r.name.startswith("seed_customer_")]
    prods = [r for r in records if r.model == "product.product"]
    assert len(custs) == customers and len(prods) == products
    for c in custs:
        assert c.tier in TIERS and c.vals["credit_limit"] > 0
        assert c.vals["ref"].startswith(f"exsim/seed/{c.tier}/")
        assert c.gap == ("street" not in c.vals and "city" not in c.vals)
    for p in prods:
        assert p.abc in "ABC" and p.vals["default_code"].startswith(f"EXSIM-{p.abc}-")
        assert p.gap == (p.vals["weight"] == 0.0) and p.on_hand >= 0
    assert len({p.vals["default_code"] for p in prods}) == len(prods)


def test_plan_follows_the_scenario_mix():
    records = plan(SCENARIO, SeedSize(customers=2000, products=2000, seed=1))
    custs = [r for r in records if r.name.startswith("seed_customer_")]
    prods = [r for r in records if r.model == "product.product"]
    share = {t: sum(c.tier == t for c in custs) / len(custs) for t in TIERS}
    for tier, weight in SCENARIO.tier_mix.items():
        assert abs(share[tier] - weight / sum(SCENARIO.tier_mix.values())) < 0.04
    a = [p for p in prods if p.abc == "A"]
    c = [p for p in prods if p.abc == "C"]
    assert abs(len(a) / len(prods) - 0.2) < 0.04 and abs(len(c) / len(prods) - 0.5) < 0.04
    median = sorted(p.vals["list_price"] for p in a)[len(a) // 2]
    assert median > sorted(p.vals["list_price"] for p in c)[len(c) // 2] * 5  # A items dear
    gaps = sum(r.gap for r in custs) / len(custs)
    assert 0.03 < gaps < 0.07
    assert plan(SCENARIO, SeedSize(customers=50, seed=2)) != plan(SCENARIO, SeedSize(50, seed=3))


@pytest.fixture
def t(odoo_settings):
    clean(odoo_settings)
    yield connect(settings_of(odoo_settings))
    clean(odoo_settings)


@pytest.mark.odoo_live
def test_seed_writes_batches_idempotently_and_cleanup_removes_it(t, monkeypatch):
    monkeypatch.setattr(masterdata, "BATCH", 40)  # several batches per model
    size = SeedSize(customers=90, products=70, suppliers=4, carriers=3, gap_share=0.1, seed=5)
    calls = len(t.calls) if hasattr(t, "calls") else 0
    first = seed.seed(t, SCENARIO, size).bulk
    creates = [c for c in t.calls[calls:] if c.method == "create" and c.n > 1]
    assert max(c.n for c in creates) == 40  # batched
    again = seed.seed(t, SCENARIO, size).bulk
    # + the second warehouse, unless an earlier run's (archived by cleanup) is taken back
    assert size.total() <= first.created <= size.total() + 1 and again.created == 0
    assert again.customers == first.customers and again.products == first.products
    ids = [i for group in first.customers.values() for i in group]
    rows = t.call("res.partner", "read", ids, ["street", "credit_limit", "ref"])
    assert sum(not r["street"] for r in rows) == first.gaps["customers"] > 0
    assert all(r["credit_limit"] > 0 and r["ref"].startswith("exsim/seed/") for r in rows)
    products = [i for group in first.products.values() for i in group]
    stock = t.call("product.product", "read", products, ["qty_available", "weight"])
    assert sum(p["weight"] == 0 for p in stock) == first.gaps["products"]
    assert sum(p["qty_available"] > 0 for p in stock) >= len(products) * 0.7
    assert len(first.warehouses) == len(SCENARIO.warehouses)
    report = cleanup.cleanup(t)
    assert not report.failed
    left = t.call("res.partner", "search", [["ref", "=like", "exsim/seed/%"]])
    assert left == [] and not t.call("ir.model.data", "search", [["module", "=", "exsim"]])


def test_cli_seed_reports_the_master_data(fake_odoo, odoo_settings):
    env = {
        "EXSIM_ODOO_URL": odoo_settings.url,
        "EXSIM_ODOO_DB": odoo_settings.db,
        "EXSIM_ODOO_USER": odoo_settings.user,
        "EXSIM_ODOO_PASSWORD": odoo_settings.password,
        "EXSIM_ODOO_API_KEY": odoo_settings.api_key or "",
    }
    clean(odoo_settings)
    fake_odoo.execute(2, "ir.config_parameter", "set_param", ["exsim.test_database", "1"])
    try:
        args = ["odoo", "seed", "--customers", "30", "--products", "20", "--suppliers", "2"]
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        assert "customers key" in result.output and "deliberate gaps" in result.output
        bad = CliRunner().invoke(app, ["odoo", "seed", "--gap-share", "2"], env=env)
        assert bad.exit_code == 2 and "--gap-share" in bad.output
    finally:
        clean(odoo_settings)
