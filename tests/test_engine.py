"""Behaviour of the engine's mechanisms: conservation, shifts, escalation, scans, severity."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.eventlog import EVENTS
from sim.metrics import summarize
from sim.policies.schema import Policy
from sim.scenarios.schema import Scenario
from sim.shifts import Calendar
from tests.helpers import run_cases, run_log
from tests.profiles import examples


def _scenario(rate=6.0, mean=20.0, days=3.0, **extra) -> Scenario:
    doc = {
        "name": "t",
        "horizon_days": days,
        "categories": {
            "picking_sla": {
                "rate_per_hour": rate,
                "handling_min": {"dist": "exponential", "mean": mean},
                "order_value": {"dist": "lognormal", "mean": 1000, "cv": 1.0},
            }
        },
    }
    doc.update(extra)
    return Scenario.model_validate(doc)


def _policy(**extra) -> Policy:
    doc = {
        "routing": {"default": "desk"},
        "staffing": {"teams": {"desk": {"agents": 2}}},
    }
    doc.update(extra)
    return Policy.model_validate(doc)


def test_default_run_conserves_cases(default_scenario, default_policy):
    df = run_log(default_scenario, default_policy)
    s = summarize(df)
    cases = s["cases"]
    assert cases["generated"] > 1000
    assert cases["generated"] == cases["resolved"] + cases["open"]
    assert 0 < cases["open"] < cases["generated"]


OFFICE = [
    {
        "name": "office",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "08:00",
        "end": "17:00",
        "agents": 2,
    }
]
NIGHT = [
    {"name": "night", "days": ["mon", "wed", "fri"], "start": "22:00", "end": "06:00", "agents": 1}
]


@pytest.mark.parametrize("shifts", [OFFICE, NIGHT], ids=["office", "overnight"])
def test_no_work_started_off_shift(shifts):
    scen = _scenario(rate=3.0, days=14)
    pol = _policy(staffing={"teams": {"desk": {"shifts": shifts}}})
    df = run_log(scen, pol)
    started = df[df.event == "work_started"]
    assert len(started) > 50
    from sim.policies.schema import Shift

    cal = Calendar.from_shift(Shift.model_validate(shifts[0]), scen.start)
    on = np.array([cal.is_on(t) for t in started["ts"]])
    assert on.all(), started[~on].head()
    # and work does start at the first instant of a shift when cases are waiting
    first_start = min(lo for lo, _ in cal.spans(0, scen.horizon_min))
    assert started["ts"].min() == pytest.approx(first_start)


def test_calendar_overnight_and_week_wrap():
    monday = datetime(2026, 1, 5)
    from sim.policies.schema import Shift

    cal = Calendar.from_shift(Shift(days=["sun"], start="22:00", end="06:00", agents=1), monday)
    # Sunday 23:00 is on, Monday 05:59 is on (wrap from Sunday night), Monday 06:00 is off
    assert cal.is_on(6 * 1440 + 23 * 60)
    assert cal.is_on(7 * 1440 + 5 * 60 + 59)
    assert cal.is_on(5 * 60)  # the first Monday morning, carried over from the week before
    assert not cal.is_on(7 * 1440 + 6 * 60)
    assert cal.on_minutes(0, 7 * 1440) == pytest.approx(8 * 60)


def test_escalation_fires_to_the_minute_and_only_when_unanswered():
    # agents start at 08:00 on Monday; cases arriving before are not acknowledged for a while
    scen = _scenario(rate=2.0, days=1)
    pol = _policy(
        staffing={"teams": {"desk": {"shifts": [{"start": "08:00", "end": "20:00", "agents": 5}]}}},
        severity={"default": "high"},
        escalation={
            "ladders": {
                "high": [
                    {"after_min": 15, "when": "unacknowledged", "notify": "lead"},
                    {"after_min": 90, "when": "unresolved", "notify": "manager"},
                ]
            }
        },
    )
    df = run_log(scen, pol)
    cases = run_cases(scen, pol)
    esc = df[df.event == "escalated"]
    tier1 = esc[esc.detail == "tier1:unacknowledged"].set_index("case_id")
    tier2 = esc[esc.detail == "tier2:unresolved"].set_index("case_id")
    assert len(tier1) > 5 and (tier1["team"] == "lead").all()
    c = cases.set_index("case_id")
    # exactly 15 minutes after detection, and only for cases still unacknowledged then
    assert np.allclose(tier1["ts"], c.loc[tier1.index, "detected"] + 15.0)
    late_ack = c["acknowledged"].fillna(np.inf) - c["detected"] > 15.0
    assert set(tier1.index) == set(c.index[late_ack & (c["detected"] + 15 < scen.horizon_min)])
    # tier 2 for every case unresolved 90 minutes after detection
    unresolved = c["resolved"].fillna(np.inf) - c["detected"] > 90.0
    expect2 = set(c.index[unresolved & (c["detected"] + 90 < scen.horizon_min)])
    assert set(tier2.index) == expect2
    assert np.allclose(tier2["ts"], c.loc[tier2.index, "detected"] + 90.0)


def test_scan_detects_within_interval_plus_lag_after_threshold():
    pol = _policy(
        detection={"*": {"scan": {"interval_min": 30, "threshold_min": 60, "lag_min": 1.0}}}
    )
    cases = run_cases(_scenario(rate=4.0, days=4), pol)
    lat = (cases["detected"] - cases["occurred"]).dropna()
    assert len(lat) > 100
    assert lat.min() >= 60.0
    assert lat.max() <= 60.0 + 30.0 + 1.0
    # latency beyond the threshold is spread over the whole interval
    assert (lat - 60).mean() == pytest.approx(15.5, abs=2.5)


def test_severity_rules_first_match_wins_and_reason_is_logged():
    pol = _policy(
        severity={
            "default": "low",
            "rules": [
                {"id": "big", "when": {"order_value_min": 2000}, "severity": "critical"},
                {"id": "strategic", "when": {"customer_tier": ["strategic"]}, "severity": "high"},
            ],
        }
    )
    df = run_log(_scenario(rate=10, days=2), pol)
    cls = df[df.event == "classified"]
    big = cls.order_value >= 2000
    assert (cls[big].severity == "critical").all() and (cls[big].detail == "rule:big").all()
    strat = ~big & (cls.customer_tier == "strategic")
    assert (cls[strat].severity == "high").all() and strat.sum() > 0
    rest = ~big & ~strat
    assert (cls[rest].severity == "low").all() and (cls[rest].detail == "default").all()


def test_priority_discipline_serves_higher_severity_first():
    sev = {
        "default": "low",
        "rules": [{"id": "big", "when": {"order_value_min": 1000}, "severity": "critical"}],
    }
    scen = _scenario(rate=7.0, mean=20, days=5)  # heavily loaded: 7/h * 20 min = 2.33 > 2 agents
    waits = {}
    for disc in ("fifo", "priority"):
        pol = _policy(severity=sev, queue={"discipline": disc})
        c = run_cases(scen, pol)
        wait = c["work_started"] - c["assigned"]
        waits[disc] = (wait[c.severity == "critical"].mean(), wait[c.severity == "low"].mean())
    assert waits["priority"][0] < waits["fifo"][0]
    assert waits["priority"][0] < waits["priority"][1]


EVENT_ORDER = [
    "occurred",
    "detected",
    "classified",
    "assigned",
    "work_started",
    "resolved",
    "closed",
]


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rate=st.floats(0.5, 12.0),
    mean=st.floats(1.0, 60.0),
    agents=st.integers(1, 4),
    disc=st.sampled_from(["fifo", "priority", "edf"]),
    scan=st.one_of(st.none(), st.floats(5.0, 240.0)),
    start=st.sampled_from(["00:00", "06:00", "22:00"]),
    seed=st.integers(0, 10_000),
)
def test_invariants_hold_for_random_models(rate, mean, agents, disc, scan, start, seed):
    det = {"*": {"scan": {"interval_min": scan}}} if scan else {"*": {"event_rule": {}}}
    pol = _policy(
        detection=det,
        queue={"discipline": disc},
        staffing={
            "teams": {"desk": {"shifts": [{"start": start, "end": "14:00", "agents": agents}]}}
        },
        escalation={"ladders": {"medium": [{"after_min": 30}]}},
    )
    df = run_log(_scenario(rate=rate, mean=mean, days=2), pol, seed=seed)
    assert set(df.event.unique()) <= set(EVENTS)
    s = summarize(df)
    assert s["cases"]["generated"] == s["cases"]["resolved"] + s["cases"]["open"]
    cases = run_cases(_scenario(rate=rate, mean=mean, days=2), pol, seed=seed)
    times = cases[EVENT_ORDER].to_numpy()
    # lifecycle times never go backwards
    diffs = np.diff(times, axis=1)
    assert not (diffs < -1e-9).any()
    assert (df.ts <= 2 * 1440).all() and (df.ts >= 0).all()
    # at most `agents` cases are in work at any moment
    started = np.sort(cases["work_started"].dropna().to_numpy())
    ended = np.sort(cases["resolved"].dropna().to_numpy())
    events = np.concatenate(
        [np.c_[started, np.ones_like(started)], np.c_[ended, -np.ones_like(ended)]]
    )
    order = np.lexsort((events[:, 1], events[:, 0]))
    assert np.cumsum(events[order, 1]).max() <= agents
