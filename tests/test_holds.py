"""Work that waits (on hold, resumed) and work that comes back (reopened): effort vs elapsed."""

from __future__ import annotations

import pytest

from sim.metrics import summarize
from sim.policies.schema import Policy
from sim.scenarios.schema import Scenario
from tests.helpers import run_log


def _scenario(hold=None, reopen=None, rate=1.0, days=10.0) -> Scenario:
    cat = {"rate_per_hour": rate, "handling_min": {"dist": "constant", "mean": 30}}
    if hold is not None:
        cat["hold"] = hold
    if reopen is not None:
        cat["reopen"] = reopen
    return Scenario.model_validate(
        {"name": "h", "horizon_days": days, "categories": {"credit_hold": cat}}
    )


def _policy(**doc) -> Policy:
    base = {
        "routing": {"default": "desk", "by_category": {"credit_hold": "finance"}},
        "staffing": {"teams": {"desk": {"agents": 1}, "finance": {"agents": 3}}},
        "sla": {"default_min": 240},
    }
    base.update(doc)
    return Policy.model_validate(base)


HOLD = {
    "prob": 0.5,
    "at_fraction": 0.5,
    "waits": {
        "supplier": {"weight": 3, "duration_min": {"dist": "constant", "mean": 300}},
        "customer": {"weight": 1, "duration_min": {"dist": "constant", "mean": 300}},
    },
}


def test_holds_add_elapsed_time_not_effort():
    plain = summarize(run_log(_scenario(), _policy()))
    held = summarize(run_log(_scenario(hold=HOLD), _policy()))
    n = held["cases"]["resolved"]
    assert held["effort"]["held"] == pytest.approx(0.5 * n, rel=0.15)
    assert held["effort"]["hold_min"]["p50"] == pytest.approx(300.0)  # (one still on at the end)
    reasons = held["effort"]["hold_reasons"]
    assert set(reasons) == {"supplier", "customer"}
    assert 0.6 < reasons["supplier"] / (reasons["supplier"] + reasons["customer"]) < 0.9  # 3:1
    # hands-on effort is the work content either way; elapsed grows by the holds
    assert plain["effort"]["effort_min"]["mean"] == pytest.approx(30.0)
    assert held["effort"]["effort_min"]["mean"] == pytest.approx(30.0)
    gap = held["effort"]["elapsed_min"]["mean"] - plain["effort"]["elapsed_min"]["mean"]
    assert gap == pytest.approx(300.0 * held["effort"]["held"] / n, rel=0.1)
    assert plain["effort"]["held"] == 0 and plain["effort"]["hold_min"]["n"] == 0


def test_the_sla_clock_can_pause_on_hold():
    scen = _scenario(hold=HOLD)
    running = summarize(run_log(scen, _policy()))
    paused = summarize(run_log(scen, _policy(sla={"default_min": 240, "pause_on_hold": True})))
    assert running["sla"]["overall"] < 0.6  # a 300-minute wait breaks a 240-minute target
    assert paused["sla"]["overall"] > 0.95
    assert paused["time_to_resolve_min"] == running["time_to_resolve_min"]  # same world


def test_hold_rows_pair_up_and_the_case_goes_back_to_its_queue():
    df = run_log(_scenario(hold=HOLD, days=3), _policy())
    for _, rows in df.groupby("case_id"):
        events = list(rows.event.astype(str))
        if "on_hold" in events:
            i = events.index("on_hold")
            if rows.ts.iloc[i] + 300.0 > 3 * 1440.0:
                continue  # still waiting when the run ended
            assert events[i + 1 :].count("resumed") == 1
            j = events.index("resumed")
            assert "work_started" in events[j:]
            assert rows.ts.iloc[j] - rows.ts.iloc[i] == pytest.approx(300.0)


REOPEN = {"prob": 0.4, "after_min": {"dist": "constant", "mean": 600}, "rework_fraction": 0.5}


def test_reopen_rate_is_lower_when_a_skilled_team_fixed_it():
    scen = _scenario(reopen=REOPEN, days=20)
    skilled = summarize(run_log(scen, _policy()))  # finance owns credit_hold: skilled
    unskilled_routing = {"default": "desk"}  # the generalist desk fixes it
    unskilled = summarize(run_log(scen, _policy(routing=unskilled_routing)))
    strict = summarize(run_log(scen, _policy(resolution={"reopen_skilled_factor": 1.0})))
    assert skilled["effort"]["reopen_rate"] == pytest.approx(0.2, abs=0.05)
    assert unskilled["effort"]["reopen_rate"] == pytest.approx(0.4, abs=0.06)
    assert strict["effort"]["reopen_rate"] == pytest.approx(0.4, abs=0.06)
    for s in (skilled, unskilled):
        assert s["effort"]["first_time_fix_rate"] == pytest.approx(1 - s["effort"]["reopen_rate"])
    # the rework is more effort on the same cases
    assert skilled["effort"]["effort_min"]["mean"] == pytest.approx(
        30 + 15 * skilled["effort"]["reopen_rate"], rel=0.05
    )


def test_a_reopened_case_is_worked_again_and_closed_again():
    df = run_log(_scenario(reopen=REOPEN, days=5), _policy())
    back = df[df.event == "reopened"].case_id.unique()
    assert len(back) > 10
    for cid in back[:20]:
        events = list(df[df.case_id == cid].event.astype(str))
        k = events.index("reopened")
        assert events[:k].count("closed") == 1
        assert events[k:].count("work_started") == 1 and events[-1] == "closed"


def test_features_off_draw_nothing():
    """A category without hold or reopen makes no draws: the log is the one of a scenario that
    never heard of them (and a category with them leaves the others' cases unchanged)."""
    scen = _scenario()
    doc = scen.model_dump()
    doc["categories"]["picking_sla"] = {
        "rate_per_hour": 1.0,
        "handling_min": {"dist": "constant", "mean": 30},
        "hold": HOLD,
    }
    both = run_log(Scenario.model_validate(doc), _policy())
    alone = run_log(scen, _policy())
    mine = both[both.category.astype(str) == "credit_hold"]
    assert len(mine) == len(alone)
    assert (mine.ts.to_numpy() == alone.ts.to_numpy()).all()
