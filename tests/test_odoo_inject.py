"""Seeding and injection against an Odoo 17 (the test server, or a real one with -m odoo_live).

Seed is idempotent; every category's recipe makes the record its pattern describes (model,
state, trigger date, case key) and tags it; a killed injection resumes without duplicates.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from sim.odoo import inject, mapping, seed
from sim.odoo.plan import PlannedCase, TimeMap
from sim.odoo.transport import connect
from tests.odoo_server.live import clean, settings_of

pytestmark = pytest.mark.odoo_live


@pytest.fixture
def t(odoo_settings):
    clean(odoo_settings)
    yield connect(settings_of(odoo_settings))
    clean(odoo_settings)


def _cases(categories, rep=7, start=0):
    return [
        PlannedCase(rep, start + i, c, 5.0 * i, 5.0 * i - 45.0, 250.0, "key")
        for i, c in enumerate(categories)
    ]


def test_seed_is_idempotent(t):
    first = seed.seed(t)
    count = t.call("ir.model.data", "search_count", [["module", "=", "exsim"]])
    second = seed.seed(t)
    assert first.created and not second.created
    assert t.call("ir.model.data", "search_count", [["module", "=", "exsim"]]) == count
    assert second.partners == first.partners and second.stocked == first.stocked
    qty = t.call("product.product", "read", [first.stocked], ["qty_available"])[0]
    assert qty["qty_available"] >= seed.STOCK_ON_HAND


def test_inject_creates_each_category_record(t):
    master = seed.seed(t)
    tm = TimeMap(inject.utc_now() - timedelta(hours=2))
    cases = _cases(sorted(mapping.PATTERNS))
    stats = inject.Injector(t, master, tm).run(cases, lambda cs: [cs])
    assert stats.cases == len(cases) and stats.batches == 1
    for c in cases:
        p = mapping.pattern_for(c.category)
        found = t.call(p.model, "search", p.rule_domain())
        tags = t.call(
            "ir.model.data",
            "search_read",
            [["module", "=", "exsim"], ["name", "=", f"{c.tag}_{p.model.replace('.', '_')}"]],
            fields=["res_id"],
        )
        assert len(tags) == 1, c.category
        assert tags[0]["res_id"] in found, f"{c.category}: record does not match its pattern"
        if p.trigger_field in ("scheduled_date", "date_planned", "commitment_date"):
            row = t.call(p.model, "read", [tags[0]["res_id"]], [p.trigger_field])[0]
            assert row[p.trigger_field] == tm.odoo(c.trigger), c.category


def test_killed_inject_resumes_without_duplicates(t):
    master = seed.seed(t)
    tm = TimeMap(inject.utc_now())
    cats = ["picking_sla", "stock_shortage", "inbound_delay", "master_data_gap"] * 3
    cases = _cases(cats, rep=8)

    def dies_after_two(cs):
        yield cs[:3]
        yield cs[3:5]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        inject.Injector(t, master, tm).run(cases, dies_after_two)
    # the process also died between a create and its tag: an untagged order exists
    half = cases[5]  # a stock_shortage case
    t.call(
        "sale.order",
        "create",
        [
            {
                "name": mapping.case_key(half.category, 8, half.case_id),
                "partner_id": master.partners["key"],
                "order_line": [(0, 0, {"product_id": master.unstocked, "product_uom_qty": 1.0})],
            }
        ],
    )
    with pytest.raises(inject.InjectError, match="--resume"):
        inject.Injector(t, master, tm).run(cases, lambda cs: [cs])
    stats = inject.Injector(t, master, tm).run(cases, lambda cs: [cs], resume=True)
    assert stats.skipped == 5
    for c in cases:
        p = mapping.pattern_for(c.category)
        key = mapping.case_key(c.category, 8, c.case_id)
        assert len(t.call(p.model, "search", [[p.key_path, "=", key]])) == 1, key
    orders = t.call(
        "sale.order",
        "search_read",
        [["name", "=", mapping.case_key(half.category, 8, half.case_id)]],
        fields=["state"],
    )
    assert [o["state"] for o in orders] == ["sale"]
    tags = t.call(
        "ir.model.data", "search_count", [["module", "=", "exsim"], ["name", "=like", "case_8_%"]]
    )
    # stock_shortage cases carry two tags (order and delivery)
    assert tags == len(cases) + cats.count("stock_shortage")
