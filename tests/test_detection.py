"""Detection mechanisms behave as Odoo and n8n run them (fixed seeds, exact where Odoo is exact)."""

from __future__ import annotations

import numpy as np
import pytest
from rich.console import Console

from sim import runner
from sim.metrics import case_table, summarize, summarize_reps
from sim.policies.detection.time_rule import job_interval_min
from sim.policies.schema import Policy
from sim.run_summary import build_summary, render_summary
from sim.scenarios.schema import Scenario
from tests.helpers import run_cases, run_log

H_3_DAYS = 3 * 1440.0


def scenario(rate=4.0, days=3.0, **category) -> Scenario:
    cat = {
        "rate_per_hour": rate,
        "handling_min": {"dist": "exponential", "mean": 5.0},
        "has_customer": False,
    }
    cat.update(category)
    return Scenario.model_validate(
        {"name": "t", "horizon_days": days, "categories": {"picking_sla": cat}}
    )


def policy(detection, by_category=None, **extra) -> Policy:
    doc = {
        "detection": by_category or {"*": detection},
        "routing": {"default": "desk"},
        "staffing": {"teams": {"desk": {"agents": 8}}},
    }
    doc.update(extra)
    return Policy.model_validate(doc)


def detections(df):
    det = df[df.event == "detected"]
    return det.groupby("case_id", observed=True)["actor"].first()


@pytest.mark.parametrize(
    ("delays", "interval"),
    [
        ([30], 3),
        ([120, 30], 3),
        ([5], 1),
        ([9], 1),
        ([3000], 240),
        ([1440], 144),
        ([0], 240),
        ([], 240),
        ([45.5], 4),
    ],
)
def test_time_rule_job_interval_is_a_tenth_of_the_shortest_delay(delays, interval):
    assert job_interval_min(delays) == interval


@pytest.mark.parametrize(("delays", "interval"), [([30], 3.0), ([120], 12.0), ([120, 30], 3.0)])
def test_time_rule_latency_follows_the_job_interval(delays, interval):
    """Detection comes delay + (0..interval] + (0..1 min lag) after the trigger date."""
    det = {"time_rule": {"delay": delays[0], "unit": "minutes"}}
    pol = policy(det)
    if len(delays) > 1:  # a second category carries the shorter rule, sharing the job
        scen = Scenario.model_validate(
            {
                "name": "t",
                "horizon_days": 3,
                "categories": {
                    c: {
                        "rate_per_hour": 4.0,
                        "has_customer": False,
                        "handling_min": {"dist": "exponential", "mean": 5.0},
                    }
                    for c in ("picking_sla", "other")
                },
            }
        )
        pol = policy(
            det, by_category={"picking_sla": det, "other": {"time_rule": {"delay": delays[1]}}}
        )
    else:
        scen = scenario()
    cases = run_cases(scen, pol)
    cases = cases[cases.category == "picking_sla"]
    late = (cases.detected - cases.occurred - delays[0]).dropna()
    assert len(late) > 100
    assert late.min() >= 0
    assert late.max() <= interval + 1.0 + 1e-9
    assert late.max() > interval * 0.8  # the whole interval is used


def test_time_rule_blind_spot_loses_late_matching_records_while_a_scan_catches_them():
    # half the records start matching 5 h after their trigger date; the rule acts 2 h after it
    scen = scenario(trigger_age={"prob": 0.5, "age_min": {"dist": "constant", "mean": 300}})
    rule = run_log(scen, policy({"time_rule": {"delay": 2, "unit": "hour"}}))
    scan = run_log(scen, policy({"scan": {"interval_min": 12, "threshold_min": 120}}))
    occurred = rule[rule.event == "occurred"].set_index("case_id")
    backdated = occurred.index[
        np.isclose(occurred.ts - rule[rule.event == "occurred"].set_index("case_id").ts, 0)
    ]
    by_rule, by_scan = detections(rule), detections(scan)
    # which cases were backdated: the scan catches them at once (their threshold has passed)
    scan_cases = run_cases(scen, policy({"scan": {"interval_min": 12, "threshold_min": 120}}))
    lat = (scan_cases.detected - scan_cases.occurred).to_numpy()
    late = scan_cases.case_id[lat < 12 + 1.0 + 1e-9]  # caught at the first scan after matching
    on_time = scan_cases.case_id[lat >= 120]
    assert len(late) > 50 and len(on_time) > 50
    assert len(backdated) == len(occurred)
    assert not set(late) & set(by_rule.index), "the time rule never sees backdated records"
    assert set(on_time) <= set(by_rule.index)
    assert set(late) | set(on_time) <= set(by_scan.index)


def test_time_rule_go_live_burst_acts_on_everything_already_due():
    scen = scenario(
        rate=0.5,
        open_at_start=40,
        trigger_age={"prob": 1.0, "age_min": {"dist": "constant", "mean": 600}},
    )
    new = run_cases(scen, policy({"time_rule": {"delay": 60, "new_rule": True}}))
    old = run_cases(scen, policy({"time_rule": {"delay": 60, "new_rule": False}}))
    at_start = new[new.occurred == 0]
    assert len(at_start) == 40
    # a new rule (no last_run) acts on all 40 at its first run (interval 6 min + lag)
    assert at_start.detected.notna().all() and (at_start.detected <= 6 + 1).all()
    # a rule that already ran before minute 0 never sees them: their action time is behind it
    assert old[old.occurred == 0].detected.isna().all()


def test_the_time_rules_blind_spot_is_counted_as_an_outcome():
    """Every case the rule's window passed before it matched is in ``detection.dropped``: with
    the cases still waiting for their window at the horizon, they are all it did not catch."""
    scen = scenario(trigger_age={"prob": 0.5, "age_min": {"dist": "constant", "mean": 300}})
    log = run_log(scen, policy({"time_rule": {"delay": 2, "unit": "hour"}}))
    missed = log.attrs["meta"].extra["detectors"]["time_rule"]["picking_sla"]["missed"]
    occurred = log[log.event == "occurred"].set_index("case_id")
    undetected = occurred.index.difference(detections(log).index)
    # the job runs every 12 min: a case whose action time is within the last run's reach of
    # the horizon is still waiting for its window, not missed
    action = occurred.trigger_ts.loc[undetected] + 120
    assert missed > 50
    assert missed == len(undetected) - int((action > H_3_DAYS - 12).sum())
    assert summarize(log)["detection"]["dropped"] == {"time_rule": {"missed": missed}}


WEBHOOK = {
    "loss_prob": 0.05,
    "outages": [{"day": 1, "at": "10:00", "duration_min": 240}],
    "step_fail_prob": 0.2,
    "retries": 2,
    "backoff_min": 1.0,
    "dead_letter": {"every_min": 1440, "offset_min": 540},
}


def test_webhook_loss_leaves_cases_undetected_without_reconciliation():
    scen = scenario(rate=6.0, days=4)
    cases = run_cases(scen, policy({"webhook": WEBHOOK}))
    missed = cases[cases.detected.isna()]
    assert len(missed) > 20
    in_outage = (cases.occurred >= 1440 + 600) & (cases.occurred < 1440 + 840)
    assert cases[in_outage].detected.isna().all() and in_outage.sum() > 10
    # retries: some detections come a backoff after the push; dead letters the next morning
    lat = (cases.detected - cases.occurred).dropna()
    assert (lat < 0.1).mean() > 0.5
    assert ((lat > 0.9) & (lat < 4)).any()
    dl = cases[(cases.detected - cases.occurred) > 4]
    assert len(dl) > 0 and np.allclose((dl.detected - 540) % 1440, 0)


def test_a_lossy_webhook_reports_what_it_lost_and_dead_lettered():
    """The webhook's counters are outcomes: per replication in the log's metadata, in the
    summary and its terminal table, and (no dead-letter review, nothing else watching) they are
    exactly the cases it did not catch."""
    scen = scenario(rate=6.0, days=4)
    lossy = policy({"webhook": {**WEBHOOK, "dead_letter": None}})
    result = runner.run(scen, lossy, runner.RunSettings(seed=3, reps=2, workers=1))
    log = result.frame()
    cases = case_table(log)
    per_rep = [m["detectors"]["webhook"]["picking_sla"] for m in result.meta.extra["by_rep"]]
    for rep, counts in enumerate(per_rep):
        assert counts["lost"] > 10 and counts["dead_lettered"] > 0
        undetected = cases[cases.rep == rep].detected.isna().sum()
        assert counts["lost"] + counts["dead_lettered"] == undetected
    dropped = summarize_reps(log)["detection"]["dropped"]["webhook"]
    assert dropped["lost"] == np.mean([c["lost"] for c in per_rep])
    assert dropped["dead_lettered"] == np.mean([c["dead_lettered"] for c in per_rep])
    console = Console(record=True, width=100)
    render_summary(console, build_summary(result, scen, lossy))
    assert "webhook pushes lost" in console.export_text()
    reliable = policy({"webhook": {"dead_letter": None}})
    clean = summarize(run_log(scen, reliable))["detection"]["dropped"]
    assert clean == {"webhook": {"lost": 0, "dead_lettered": 0}}


def test_webhook_with_reconciliation_scan_misses_nothing():
    scen = scenario(rate=6.0, days=4)
    det = {"webhook": WEBHOOK, "scan": {"interval_min": 15, "only_undetected": True}}
    df = run_log(scen, policy(det, suppression={"dedup": True}))
    cases = run_cases(scen, policy(det, suppression={"dedup": True}))
    assert cases.detected.notna().all()
    first = detections(df)
    assert (first == "scan").sum() > 20  # the fallback caught what the push lost
    assert (first == "webhook").sum() > 0.8 * len(first)
    # reconciliation never re-reports a case the webhook delivered
    dups = df[(df.event == "detected")].groupby("case_id", observed=True).size()
    assert (dups == 1).all()


def test_duplicate_deliveries_are_counted_then_deduplicated():
    scen = scenario(rate=6.0, days=2)
    hook = {"webhook": {"duplicate_prob": 0.2, "dead_letter": None}}
    raw = run_log(scen, policy(hook))
    dedup = run_log(scen, policy(hook, suppression={"dedup": True}))
    dup_rows = raw[(raw.event == "detected") & (raw.detail == "duplicate:webhook")]
    sup_rows = dedup[(dedup.event == "suppressed") & (dedup.detail == "duplicate:webhook")]
    assert len(dup_rows) > 20
    assert len(sup_rows) == len(dup_rows)
    assert (dedup[dedup.event == "detected"].groupby("case_id", observed=True).size() == 1).all()


def test_event_rule_failure_rolls_back_and_leaves_cases_to_other_mechanisms():
    scen = scenario(rate=6.0, days=2)
    alone = run_cases(scen, policy({"event_rule": {"failure_prob": 0.3}}))
    share = alone.detected.isna().mean()
    assert 0.2 < share < 0.4
    backed = run_log(
        scen,
        policy(
            {
                "event_rule": {"failure_prob": 0.3},
                "scan": {"interval_min": 30, "only_undetected": True},
            }
        ),
    )
    first = detections(backed)
    occurred = backed[backed.event == "occurred"]
    before_last_scan = occurred[occurred.ts < scen.horizon_min - 31].case_id
    assert set(before_last_scan) <= set(first.index)
    assert 0.2 < (first == "scan").mean() < 0.4


def test_scan_skips_a_run_while_the_previous_one_is_busy():
    scen = scenario(rate=6.0, days=2)
    quick = run_cases(scen, policy({"scan": {"interval_min": 10, "lag_min": 0}}))
    slow = run_cases(scen, policy({"scan": {"interval_min": 10, "lag_min": 0, "run_min": 15}}))
    q = (quick.detected - quick.occurred).dropna()
    s = (slow.detected - slow.occurred).dropna()
    assert q.max() <= 10 + 1e-9
    assert s.max() > 10  # every other run skipped: up to 20 minutes
    assert np.allclose(np.unique(np.round(slow.detected.dropna() % 20, 6)), [0.0])


def test_exception_rule_detects_at_confirmation_where_a_scan_waits_for_its_run():
    scen = scenario(rate=6.0, days=2)
    rule = run_cases(scen, policy({"exception_rule": {}}))
    scan = run_cases(scen, policy({"scan": {"interval_min": 30, "threshold_min": 0}}))
    later = run_cases(scen, policy({"exception_rule": {"confirm_after_min": 45}}))
    assert rule.detected.notna().all() and len(rule) > 200
    # confirmed as the condition arises: blocked and detected at that moment
    assert ((rule.detected - rule.occurred) == 0).all()
    scan_lat = (scan.detected - scan.occurred).dropna()
    assert scan_lat.mean() > 10  # the scan's interval and wake-up lag
    # confirmed 45 min after the condition arose: detected then, not before
    lat = (later.detected - later.occurred).dropna()
    assert np.allclose(lat, 45) and len(lat) > 0.9 * len(later)


def test_exception_rule_never_sees_conditions_arising_after_confirmation():
    scen = scenario(rate=6.0, days=2)
    cases = run_cases(scen, policy({"exception_rule": {"at_confirmation": 0.6}}))
    assert 0.5 < cases.detected.notna().mean() < 0.7
    backed = run_log(
        scen,
        policy(
            {
                "exception_rule": {"at_confirmation": 0.6},
                "scan": {"interval_min": 30, "only_undetected": True},
            }
        ),
    )
    first = detections(backed)
    assert 0.3 < (first == "scan").mean() < 0.5  # the scan is the fallback for the rest


def test_exception_rule_does_not_see_a_condition_that_cleared_before_confirmation():
    scen = scenario(
        rate=6.0,
        days=2,
        transient={"prob": 1.0, "clears_after_min": {"dist": "constant", "mean": 30}},
    )
    before = run_cases(scen, policy({"exception_rule": {"confirm_after_min": 60}}))
    after = run_cases(scen, policy({"exception_rule": {"confirm_after_min": 10}}))
    assert before.detected.isna().all()
    assert np.allclose((before.resolved - before.occurred).dropna(), 30)  # cleared, unseen
    assert after.detected.notna().all()
