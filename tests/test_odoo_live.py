"""deploy-policy + inject + observe on the test server: the live log matches the simulator's.

The same scenario stream and policy are played through Odoo's own automation machinery (event
rules in the write, the shared time-rule job with its ``last_run`` window, a scan cron) on the
test server's clock; the detection outcome of every case (detected or not, and by which
mechanism) must be the simulator's, including the time-rule blind spot for backdated pickings.
"""

from __future__ import annotations

import pytest

from sim.odoo.observe import compare, detections
from tests.odoo_server.live import clean, live_run, write_configs

pytestmark = pytest.mark.odoo_live


@pytest.fixture
def cleaned(odoo_settings):
    clean(odoo_settings)
    yield
    clean(odoo_settings)


def test_live_detection_matches_simulation(fake_odoo, odoo_settings, cleaned, tmp_path):
    s, p = write_configs(tmp_path)
    run = live_run(odoo_settings, s, p)
    sim, live = detections(run.sim), detections(run.live)
    assert len(live) == len(sim) == len(run.cases) > 10
    joined = sim.join(live, suffixes=("_sim", "_live"))
    assert (joined["mechanism_sim"].fillna("-") == joined["mechanism_live"].fillna("-")).all()
    # the blind spot is there on both sides: backdated pickings missed by the time rule
    picks = joined[joined["category_sim"] == "picking_sla"]
    assert picks["mechanism_sim"].isna().sum() > 0
    assert picks["mechanism_live"].isna().sum() == picks["mechanism_sim"].isna().sum()
    assert (picks["mechanism_sim"].dropna() == "time_rule").all()
    # event rules fire in the write: zero latency live, as simulated
    short = joined[joined["category_sim"] == "stock_shortage"]
    assert (short["latency_live"] == 0).all() and (short["mechanism_live"] == "event_rule").all()
    # detection latencies agree to the minute (the server clock has one-second resolution)
    both = joined.dropna(subset=["latency_sim", "latency_live"])
    assert (both["latency_sim"] - both["latency_live"]).abs().max() < 1 / 60 + 1e-9
    report = compare(run.sim, run.live)
    assert report["agreement"] == 1.0
    assert report["by_category"]["picking_sla"]["live"]["miss_rate"] > 0
