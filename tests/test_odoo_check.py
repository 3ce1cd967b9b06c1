"""``exsim odoo check`` verifies values and required fields, per Odoo version."""

from __future__ import annotations

import pytest

from sim.config import load_scenario
from sim.odoo import mapping
from sim.odoo.check import Schema, check, check_pattern, check_writes
from sim.odoo.guard import mark_test_database
from sim.odoo.settings import Settings
from sim.odoo.transport import connect
from tests.odoo_server import OdooTestServer


@pytest.fixture(scope="module", params=[17, 18, 19])
def server(request):
    srv = OdooTestServer(version=request.param).start()
    yield srv
    srv.stop()


@pytest.fixture
def t(server):
    return connect(Settings(server.url, server.db_name, "admin", "admin", api_key=server.api_key))


def test_exsims_assumptions_hold_on_each_version(server, t):
    mark_test_database(t)
    report = check(t, list(load_scenario("default").categories))
    assert report.version == f"{server.version}.0"
    assert report.protocol == ("Json2Transport" if server.version >= 19 else "JsonRpcTransport")
    assert report.problems == [] and report.ok
    assert set(report.writes.values()) == {"ok"} and set(report.mappings.values()) == {"ok"}


def test_a_value_the_server_does_not_offer_is_one_line(server, t):
    schema = Schema(t)
    product = check_writes(t, schema, "product.product", {"name": None, "type": "product"})
    cron = check_writes(t, schema, "ir.cron", {"name": None, "numbercall": -1})
    if server.version >= 18:  # 18 dropped type 'product' and ir.cron.numbercall
        assert product == [
            "product.product.type: value 'product' not offered (has 'consu', 'service', 'combo')"
        ]
        assert cron == ["ir.cron.numbercall missing (exsim sends it)"]
    else:
        assert product == [] and cron == []


def test_a_required_field_without_default_is_named(t):
    problems = check_writes(t, Schema(t), "sale.order", {"name": None})
    assert problems == [
        "sale.order.partner_id required: exsim does not send it and Odoo has no default"
    ]


def test_a_pattern_value_and_path_are_checked(t, monkeypatch):
    monkeypatch.setitem(
        mapping.PATTERNS,
        "bogus",
        mapping.Pattern(
            "bogus",
            "stock.picking",
            "picking_out",
            (("state", "=", "locked"), ("partner_id.no_such_field", "=", 1)),
            "scheduled_date",
            "origin",
        ),
    )
    problems = check_pattern(Schema(t), "bogus")
    assert problems[0].startswith("stock.picking.state: value 'locked' not offered (has 'draft'")
    assert problems[1] == "res.partner.no_such_field missing"


def test_oca_modules_are_listed_with_what_deploy_does_without_them(t):
    """The test server (without its OCA option) has none of the OCA modules: each is listed
    as not installed, with what deploy-policy does instead; none is counted as a problem."""
    from sim.odoo.capabilities import OCA_MODULES

    report = check(t, ["credit_hold"])
    assert report.oca == dict.fromkeys(OCA_MODULES, False)
    assert len(report.oca_lines) == len(OCA_MODULES)
    assert (
        "OCA sale_exception: not installed: exception_rule on sale orders is an automation rule"
        in ("\n".join(report.oca_lines))
    )
    assert not [p for p in report.problems if "OCA" in p or "exception" in p]
