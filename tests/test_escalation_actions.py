"""Escalation tiers that act: each action moves the SLA the way it must on a desk built for it."""

from __future__ import annotations

import pytest

from sim.metrics import summarize
from sim.policies.schema import Policy
from sim.scenarios.schema import Scenario
from tests.helpers import run_log

OFFICE = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "17:00"}


def _scenario(categories: dict, days: float = 7.0) -> Scenario:
    return Scenario.model_validate({"name": "esc", "horizon_days": days, "categories": categories})


def _cat(rate: float, mean: float, dist: str = "exponential", **extra) -> dict:
    return {"rate_per_hour": rate, "handling_min": {"dist": dist, "mean": mean}, **extra}


def _policy(ladder: list | None, **doc) -> Policy:
    base = {
        "routing": {"default": "desk"},
        "staffing": {"teams": {"desk": {"agents": 1}}},
        "sla": {"default_min": 120},
    }
    base.update(doc)
    if ladder is not None:
        base["escalation"] = {**base.get("escalation", {}), "ladders": {"medium": ladder}}
    return Policy.model_validate(base)


def _sla(scen, pol, seed=1) -> dict:
    return summarize(run_log(scen, pol, seed=seed))


def test_reassign_moves_waiting_cases_from_an_overloaded_team_to_an_idle_one():
    scen = _scenario({"picking_sla": _cat(5.0, 20.0)})
    teams = {"desk": {"agents": 1}, "second_level": {"agents": 3}}
    notify = [{"after_min": 30, "notify": "second_level_lead"}]
    reassign = [{**notify[0], "actions": [{"reassign": {"to": "second_level"}}]}]
    before = _sla(scen, _policy(notify, staffing={"teams": teams}))
    after = _sla(scen, _policy(reassign, staffing={"teams": teams}))
    assert before["sla"]["overall"] < 0.5  # 1.7 erlangs on one agent: the queue runs away
    assert after["sla"]["overall"] > before["sla"]["overall"] + 0.3
    acted = after["escalation_actions"]["tier1:reassign"]
    assert acted["cases"] > 100
    assert acted["resolved_after"] <= acted["cases"]
    assert acted["met_sla"] <= acted["resolved_after"]
    assert before["escalation_actions"] == {}
    assert after["escalations"] < before["escalations"]  # the queue no longer runs away
    # the case moved: its reassigned row names the new owner; the team's agents worked it
    df = run_log(scen, _policy(reassign, staffing={"teams": teams}))
    moved = df[df.event == "reassigned"]
    assert set(moved.team.astype(str)) == {"second_level"}
    assert set(moved.detail.astype(str)) == {"tier1:reassign"}
    later = df[df.case_id.isin(moved.case_id) & (df.event == "work_started")]
    assert later.actor.astype(str).str.startswith("second_level/").all()


def test_reassign_mid_work_keeps_or_restarts_the_work_done():
    """An unresolved tier takes a long case away from its agent: with ``keep`` the new team
    does what is left, with ``restart`` all of it again (more effort, later resolution)."""
    scen = _scenario({"picking_sla": _cat(0.5, 60.0, dist="constant")})
    teams = {"desk": {"agents": 2}, "second_level": {"agents": 2}}

    def ladder(work):
        action = {"reassign": {"to": "second_level", "work": work}}
        return [{"after_min": 40, "when": "unresolved", "actions": [action]}]

    keep = _sla(scen, _policy(ladder("keep"), staffing={"teams": teams}))
    restart = _sla(scen, _policy(ladder("restart"), staffing={"teams": teams}))
    assert keep["effort"]["effort_min"]["mean"] == pytest.approx(60.0, abs=1.0)
    assert restart["effort"]["effort_min"]["mean"] > 95.0  # 40 min done, then 60 again
    assert restart["time_to_resolve_min"]["mean"] > keep["time_to_resolve_min"]["mean"] + 30
    assert keep["effort"]["first_time_fix_rate"] == 0.0  # every case was handed over


def test_raise_severity_requeues_starved_low_cases_under_priority():
    """Priority serves high first; low cases with the tighter deadline starve. Raising them
    after 45 min puts them level with the high ones and the SLA goes up."""
    scen = _scenario({"picking_sla": _cat(1.6, 20.0), "credit_hold": _cat(1.2, 20.0)}, days=14)
    doc = {
        "queue": {"discipline": "priority"},
        "severity": {
            "default": "low",
            "rules": [{"id": "pick", "when": {"category": ["picking_sla"]}, "severity": "high"}],
        },
        "sla": {"by_severity": {"low": 120, "high": 1440}},
    }
    plain = _policy(None, **doc)
    tier = {"after_min": 45, "actions": [{"raise_severity": {"levels": 2}}]}
    raised = _policy(None, escalation={"ladders": {"low": [tier]}}, **doc)
    before, after = _sla(scen, plain), _sla(scen, raised)
    assert after["sla"]["overall"] > before["sla"]["overall"] + 0.02
    low_wait = before["queue_wait"]["by_severity"]["low"]["mean"]
    assert low_wait > before["queue_wait"]["by_severity"]["high"]["mean"]
    assert after["escalation_actions"]["tier1:raise_severity"]["cases"] > 20
    # ``sla: follow`` moves the deadline to the new severity's target
    follow = {"after_min": 45, "actions": [{"raise_severity": {"levels": 2, "sla": "follow"}}]}
    df = run_log(scen, _policy(None, escalation={"ladders": {"low": [follow]}}, **doc))
    rows = df[(df.event == "classified") & (df.detail.astype(str) == "tier1:raise_severity")]
    occurred = df[df.event == "occurred"].set_index("case_id").ts
    assert (rows.severity.astype(str) == "high").all()
    assert (rows.due_ts.to_numpy() - occurred.loc[rows.case_id].to_numpy()) == pytest.approx(1440)


def test_swarm_halves_the_work_left_when_the_named_team_has_someone_free():
    scen = _scenario({"picking_sla": _cat(0.25, 150.0, dist="constant")})
    teams = {"desk": {"agents": 1}, "experts": {"agents": 2}}
    swarm = [{"after_min": 10, "when": "unresolved", "actions": [{"swarm": {"team": "experts"}}]}]
    before = _sla(scen, _policy(None, staffing={"teams": teams}, sla={"default_min": 130}))
    after = _sla(scen, _policy(swarm, staffing={"teams": teams}, sla={"default_min": 130}))
    assert after["sla"]["overall"] > before["sla"]["overall"] + 0.3
    assert after["time_to_resolve_min"]["mean"] < before["time_to_resolve_min"]["mean"] - 40
    # two people on the rest: person-minutes stay the work content
    assert after["effort"]["effort_min"]["mean"] == pytest.approx(150.0, abs=1.0)
    busy = {"desk": {"agents": 1}, "experts": {"shifts": [{**OFFICE, "agents": 1}]}}
    partly = _sla(scen, _policy(swarm, staffing={"teams": busy}, sla={"default_min": 130}))
    swarmed = partly["escalation_actions"]["tier1:swarm"]["cases"]
    assert 0 < swarmed < after["escalation_actions"]["tier1:swarm"]["cases"]  # nobody free


def test_page_gets_an_on_call_responder_off_shift_at_a_cost():
    scen = _scenario({"picking_sla": _cat(0.5, 15.0)}, days=14)
    staffing = {"teams": {"desk": {"shifts": [{**OFFICE, "agents": 2}], "cost_per_hour": 30}}}
    on_call = {
        "duty": {
            "response_min": {"dist": "constant", "mean": 20},
            "cost_per_page": 80,
            "cost_per_hour": 60,
        }
    }
    page = [{"after_min": 30, "actions": [{"page": {"on_call": "duty"}}]}]
    doc = {"staffing": staffing, "sla": {"default_min": 240}}
    before = _sla(scen, _policy(None, escalation={"on_call": on_call}, **doc))
    after = _sla(scen, _policy(page, escalation={"on_call": on_call}, **doc))
    assert before["sla"]["overall"] < 0.5  # nights and weekends wait for Monday
    assert after["sla"]["overall"] > 0.9
    rota = after["on_call"]["duty"]
    assert rota["pages"] > 50 and rota["hours"] > 0
    assert rota["cost"] == pytest.approx(80 * rota["pages"] + 60 * rota["hours"])
    assert after["labour"]["cost"] == pytest.approx(before["labour"]["cost"] + rota["cost"])
    assert after["escalation_actions"]["tier1:page"]["resolved_after"] > 50


def test_notify_only_changes_nothing_but_alerts():
    scen = _scenario({"picking_sla": _cat(2.5, 20.0)})
    none = _sla(scen, _policy(None))
    notify = [{"after_min": 15, "notify": "lead", "actions": [{"notify": {"to": "manager"}}]}]
    loud = _sla(scen, _policy(notify))
    assert loud["sla"] == none["sla"]
    assert loud["time_to_resolve_min"] == none["time_to_resolve_min"]
    assert loud["escalations"] > 0
    assert loud["alerts"] == none["alerts"] + 2 * loud["escalations"]


@pytest.mark.parametrize(
    ("tier", "message"),
    [
        ({"actions": [{"reassign": {"to": "nobody"}}]}, "unknown team 'nobody'"),
        ({"actions": [{"page": {"on_call": "duty"}}]}, "unknown on-call rota 'duty'"),
        ({"actions": [{"teleport": {}}]}, "unknown escalation action 'teleport'"),
        ({"actions": [{"raise_severity": {"levels": 9}}]}, "levels"),
    ],
)
def test_bad_actions_are_refused_with_the_field(tier, message):
    with pytest.raises(ValueError, match=message):
        _policy([{"after_min": 5, **tier}])
