"""The whole live loop on the test server as each Odoo version: seed, deploy (event rule, time
rule, scan under safe_eval), inject and observe agree with the simulator on 17, 18 and 19
(19 over JSON-2), and exsim adapts its writes to each version's data model."""

from __future__ import annotations

import pytest

from sim.metrics.sim_vs_live import detections_by_case, sim_vs_live
from sim.odoo import capabilities
from sim.odoo.transport import Json2Transport, JsonRpcTransport, connect
from tests.odoo_server import OdooTestServer
from tests.odoo_server.live import clean, live_run, settings_of, write_configs
from tests.odoo_server.plugin import OdooSettings


@pytest.fixture(params=[17, 18, 19])
def versioned(request):
    server = OdooTestServer(version=request.param).start()
    settings = OdooSettings(
        server.url, server.db_name, "admin", "admin", True, server, server.api_key
    )
    yield settings
    server.stop()


def test_live_loop_matches_the_simulation_on_each_version(versioned, tmp_path):
    t = connect(settings_of(versioned))
    caps = capabilities.detect(t)
    assert caps.major == versioned.server.version
    assert isinstance(t, Json2Transport if caps.major >= 19 else JsonRpcTransport)
    s, p = write_configs(tmp_path)
    run = live_run(versioned, s, p)
    sim, live = detections_by_case(run.sim), detections_by_case(run.live)
    assert len(live) == len(sim) == len(run.cases) > 10
    joined = sim.join(live, lsuffix="_sim", rsuffix="_live")
    assert (joined["mechanism_sim"].fillna("-") == joined["mechanism_live"].fillna("-")).all()
    assert set(joined["mechanism_live"].dropna()) == {"event_rule", "time_rule", "scan"}
    assert sim_vs_live(run.sim, run.live)["agreement"] == 1.0
    crons = t.call("ir.cron", "search_read", [["cron_name", "=like", "exsim scan %"]], fields=[])
    assert crons  # the scan ran as a real code action on this version
    clean(versioned)


def test_writes_follow_the_version(versioned):
    t = connect(settings_of(versioned))
    caps = capabilities.detect(t)
    product = t.call("product.product", "create", [{"name": "v", **caps.storable_product()}])
    row = t.call("product.product", "read", product, ["type"])[0]
    if caps.major >= 18:
        assert row["type"] == "consu" and caps.cron_values() == {}
        assert t.call("product.product", "read", product, ["is_storable"])[0]["is_storable"]
    else:
        assert row["type"] == "product" and caps.cron_values() == {"numbercall": -1}
    assert caps.move_uom == ("uom_id" if caps.major >= 19 else "product_uom")
