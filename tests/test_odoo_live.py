"""deploy-policy + inject + observe on the test server: the live log matches the simulator's.

The same scenario stream and policy are played through Odoo's own automation machinery (event
rules in the write, the shared time-rule job with its ``last_run`` window, a scan cron) on the
test server's clock; the detection outcome of every case (detected or not, and by which
mechanism) must be the simulator's, including the time-rule blind spot for backdated pickings.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from sim import eventlog
from sim.config import load_policy
from sim.metrics.sim_vs_live import detections_by_case, sim_vs_live
from sim.odoo import deploy, inject
from sim.odoo.observe import ObserveError, observe
from sim.odoo.plan import TimeMap, at_speed
from sim.odoo.transport import connect
from tests.odoo_server.live import clean, live_run, settings_of, write_configs
from tests.odoo_server.pacer import ClockPacer

pytestmark = pytest.mark.odoo_live


@pytest.fixture
def cleaned(odoo_settings):
    clean(odoo_settings)
    yield
    clean(odoo_settings)


def test_live_detection_matches_simulation(fake_odoo, odoo_settings, cleaned, tmp_path):
    s, p = write_configs(tmp_path)
    run = live_run(odoo_settings, s, p)
    sim, live = detections_by_case(run.sim), detections_by_case(run.live)
    assert len(live) == len(sim) == len(run.cases) > 10
    joined = sim.join(live, lsuffix="_sim", rsuffix="_live")
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
    report = sim_vs_live(run.sim, run.live)
    assert report["agreement"] == 1.0
    assert report["by_category"]["picking_sla"]["live"]["miss_rate"] > 0


def test_observing_later_still_compares_at_the_horizon(fake_odoo, odoo_settings, cleaned, tmp_path):
    """Odoo keeps running after the horizon (the scan flags more cases two hours later); the
    simulation stops there, so observe cuts what happened after it."""
    s, p = write_configs(tmp_path)
    run = live_run(odoo_settings, s, p)
    t = connect(settings_of(odoo_settings))
    info = inject.load_run(t)
    pacer = ClockPacer(fake_odoo, TimeMap(datetime.fromisoformat(info["anchor"])))
    before = int(t.call("mail.activity", "search_count", [["summary", "=like", "exsim %"]]))
    pacer.advance_to(info["horizon_min"] + 120)
    assert t.call("mail.activity", "search_count", [["summary", "=like", "exsim %"]]) > before
    later = eventlog.to_pandas(observe(t, info))
    assert sim_vs_live(run.sim, later)["agreement"] == 1.0
    assert later["ts"].max() < info["horizon_min"]


def test_webhook_detections_need_the_receivers_log(fake_odoo, odoo_settings, cleaned, tmp_path):
    policy = load_policy(
        write_configs(tmp_path)[1], {"detection": {"stock_shortage": {"webhook": {}}}}
    )
    t = connect(settings_of(odoo_settings))
    deploy.deploy_policy(t, policy, ["stock_shortage"], webhook_url="http://127.0.0.1:9/x")
    run = {"anchor": "2026-01-05T00:00:00", "speed": 1.0, "horizon_min": 60.0}
    with pytest.raises(ObserveError, match="webhook_stock_shortage.*--webhooks"):
        observe(t, run)
    with pytest.raises(ObserveError, match="no such file"):
        observe(t, run, tmp_path / "missing.jsonl")
    (tmp_path / "hooks.jsonl").write_text("")
    assert observe(t, run, tmp_path / "hooks.jsonl").num_rows == 0


def test_parity_at_speed_needs_the_prediction(fake_odoo, odoo_settings, cleaned, tmp_path):
    """At speed 60 Odoo runs the 60-minute scan every 60 simulated minutes but the 30-minute
    time rule's job every 60 (a 1-wall-minute floor on 30/60/10): the simulation of the policy
    *as Odoo runs it at that speed* matches case for case; the policy as written does not."""
    s, p = write_configs(tmp_path, days=0.5)
    run = live_run(odoo_settings, s, p, speed=60.0)
    assert sim_vs_live(run.sim, run.live)["agreement"] == 1.0
    clean(odoo_settings)
    naive = live_run(odoo_settings, s, p, speed=60.0, predict=False)
    assert sim_vs_live(naive.sim, naive.live)["agreement"] < 1.0


def test_at_speed_rewrites_what_odoo_clamps():
    policy = load_policy("odoo-rules")
    fast, notes = at_speed(policy, 60.0, ["picking_sla", "inbound_delay", "stock_shortage"])
    rule = fast.detection["picking_sla"].time_rule
    assert (rule.delay, rule.unit, rule.job_interval_min, rule.lag_min) == (120, "minutes", 60, 60)
    assert fast.detection["inbound_delay"].time_rule.delay == 1440
    assert any("time-rule job: every 60 simulated min, not 12" in n for n in notes)
    scans = load_policy("webhook-n8n-reconciled")
    fast, notes = at_speed(scans, 60.0)
    assert fast.detection["picking_sla"].scan.interval_min == 60  # 15 min -> 1 wall minute
    assert at_speed(policy, 1.0) == (policy, [])


def test_observe_reads_resolution_and_measures_sla(fake_odoo, odoo_settings, cleaned, tmp_path):
    """Marking a case's activity done resolves it (Odoo posts an activity-done message);
    cancelling a detected case's record resolves it too; the live summary measures SLA and
    time to resolve from them."""
    from sim.metrics import summarize_reps

    s, p = write_configs(tmp_path)
    run = live_run(odoo_settings, s, p)
    t = connect(settings_of(odoo_settings))
    info = inject.load_run(t)
    tm = TimeMap(datetime.fromisoformat(info["anchor"]))
    det = detections_by_case(run.live)
    shortage = det[(det["category"] == "stock_shortage")].index[0]
    inbound = det[(det["category"] == "inbound_delay") & det["mechanism"].notna()].index[0]
    key = f"exsim/stock_shortage/{shortage[0]}/{shortage[1]}"
    picking = t.call("stock.picking", "search", [["origin", "=", key]])
    activity = t.call(
        "mail.activity", "search", [["res_model", "=", "stock.picking"], ["res_id", "in", picking]]
    )
    fake_odoo.clock.set(tm.at(det.loc[shortage, "occurred"] + 25))
    t.call("mail.activity", "action_feedback", activity, feedback="stock found")
    order = t.call(
        "purchase.order",
        "search",
        [["name", "=", f"exsim/inbound_delay/{inbound[0]}/{inbound[1]}"]],
    )
    fake_odoo.clock.set(tm.at(det.loc[inbound, "occurred"] + 200))
    t.call("purchase.order", "button_cancel", order)
    live = eventlog.to_pandas(
        observe(t, info, sla_min={"stock_shortage": 20, "inbound_delay": 240})
    )
    resolved = live[live["event"] == "resolved"].set_index(["rep", "case_id"])
    assert resolved.loc[shortage, "detail"] == "activity_done"
    assert resolved.loc[shortage, "ts"] == pytest.approx(
        det.loc[shortage, "occurred"] + 25, abs=1 / 60
    )
    assert resolved.loc[inbound, "detail"] == "cancelled"
    summary = summarize_reps(live)
    assert summary["sla"]["by_category"]["stock_shortage"] < 1.0  # 25 min against 20: breached
    assert summary["sla"]["by_category"]["inbound_delay"] > 0


def test_technical_metrics_from_odoo_logs(tmp_path):
    """Job runs, durations, failures and wake-up lag read from Odoo 17 and 18 log lines."""
    from sim.odoo.technical import parse_log, wake_lags_s

    log = tmp_path / "odoo.log"
    log.write_text(
        "2026-12-01 10:00:05,100 42 INFO exsim odoo.addons.base.models.ir_cron: "
        "Starting job `exsim scan picking_sla`. \n"
        "2026-12-01 10:00:05,600 42 INFO exsim odoo.addons.base.models.ir_cron: "
        "Job `exsim scan picking_sla` done. \n"
        "2026-12-01 10:01:07,000 42 INFO exsim odoo.addons.base.models.ir_cron: "
        "Job 'exsim scan picking_sla' (7) starting\n"
        "2026-12-01 10:01:07,200 42 ERROR exsim odoo.addons.base.models.ir_cron: "
        "Call from cron exsim scan picking_sla for server action #9 failed in Job #7\n"
        "2026-12-01 10:01:07,300 42 INFO exsim odoo.addons.base.models.ir_cron: "
        "Job 'exsim scan picking_sla' (7) done in 0.300s\n"
        "2026-12-01 10:01:09,000 42 WARNING exsim odoo.addons.base.models.ir_actions: "
        "Webhook call timed out after 1s - it may or may not have been successful\n"
    )
    parsed = parse_log(log)
    runs = parsed["runs"]["exsim scan picking_sla"]
    assert [(round(d, 3), failed) for _, d, failed in runs] == [(0.5, False), (0.3, True)]
    assert parsed["webhook_failures"] == 1
    anchor = datetime(2026, 12, 1, 10, 0, 0)
    assert wake_lags_s([s for s, _, _ in runs], anchor, 60.0) == pytest.approx([5.1, 7.0])


def test_the_prediction_counts_only_what_odoo_took():
    """A mechanism Odoo could not take (no activities on stock quants) detects nothing live;
    the prediction built from what is deployed misses those cases too, and keeps the rest."""
    from sim.config import load_scenario
    from sim.odoo.plan import build_plan, deployed_only

    scenario = load_scenario("default", {"horizon_days": 1})
    policy = load_policy("scan-hourly")
    cats = list(scenario.categories)
    deployed = {f"scan_{c}" for c in cats} - {"scan_inventory_discrepancy"}
    _, full = build_plan(scenario, policy, 0)
    _, took = build_plan(scenario, deployed_only(policy, cats, deployed), 0)
    full, took = detections_by_case(full), detections_by_case(took)
    quants = took["category"] == "inventory_discrepancy"
    assert quants.any() and took.loc[quants, "mechanism"].isna().all()
    assert full.loc[quants, "mechanism"].notna().any()
    assert (
        took.loc[~quants, "mechanism"].fillna("-") == full.loc[~quants, "mechanism"].fillna("-")
    ).all()


def test_cron_drift_delays_each_run_a_little_more():
    """Odoo's cron thread sleeps a minute after each pass: with ``lag_drift_min`` the k-th scan
    starts k x drift after its due time, and ``wake_fit`` recovers lag and drift from runs."""
    from sim.config import load_scenario
    from sim.odoo.plan import build_plan
    from sim.odoo.technical import wake_fit

    scenario = load_scenario("default", {"horizon_days": 0.5})
    policy = load_policy("scan-hourly")
    drifting = at_speed(policy, 60.0, list(scenario.categories), 0.0, 6.0)[0]  # 6 s = 6 sim min
    steady = at_speed(policy, 60.0, list(scenario.categories), 0.0, 0.0)[0]
    for pol, drift in ((steady, 0.0), (drifting, 6.0)):
        _, log = build_plan(scenario, pol, 0)
        runs = sorted(set(log[log["event"] == "detected"]["ts"].round(6)))
        # the k-th run starts at k x (60 + drift)
        assert all(abs(t / (60 + drift) - round(t / (60 + drift))) < 1e-9 for t in runs), runs
    fit = wake_fit({"a": [1.0, 2.5, 4.0], "b": [1.0, 2.5]})
    assert fit == {"lag0_s": 1.0, "drift_s": 1.5}


def test_plan_clears_detected_cases_too():
    """The world clears a transient case whether or not a policy caught it first: the plan
    carries a clearing time for every transient case, more than the log's undetected ones."""
    from sim.config import load_scenario
    from sim.odoo.plan import build_plan

    scenario = load_scenario("default", {"horizon_days": 1})
    cases, log = build_plan(scenario, load_policy("scan-hourly"), 0)
    logged = log[(log["event"] == "resolved") & (log["detail"].astype(str) == "cleared")]
    planned = {c.case_id: c.cleared for c in cases if c.cleared is not None}
    assert set(logged["case_id"]) < set(planned)
    for cid, ts in zip(logged["case_id"], logged["ts"], strict=True):
        assert planned[cid] == pytest.approx(ts)
