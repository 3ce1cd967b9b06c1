"""Playing the simulated approvers on a live Odoo's tier reviews.

With OCA tier validation, ``deploy-policy`` turns the approval matrix into tier definitions and
``inject`` requests a review of every order over a level's threshold; then people decide. To
compare a live run's approval cycle time with the prediction without waiting for people, the
simulator's approvers can answer instead: each review of a case the simulation decided is
approved or rejected (as the simulation did) its simulated cycle time after Odoo created it
(``approved/rejected - approval_requested`` of the case in the simulated log, compressed by the
run's speed). What ``observe`` then reads back is Odoo's account of it (``create_date`` and
``reviewed_date`` of the review, to the second), so the comparison measures the round trip:
request, decision through ``validate_tier``/``reject_tier``, and the timestamps Odoo keeps. A
review the simulation has no decision for (its case cleared before anyone decided, or it
decided after the horizon) stays pending, as it would on the simulated desk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from sim.metrics.sim_vs_live import approvals_by_case
from sim.odoo.deploy_oca import parse_definition_name
from sim.odoo.mapping import parse_key
from sim.odoo.plan import TimeMap
from sim.odoo.transport import Transport

DECIDE = {"approved": "validate_tier", "rejected": "reject_tier"}


@dataclass(frozen=True)
class SimulatedAnswer:
    """How the simulated approver answered one case: after ``cycle_min``, ``outcome``."""

    cycle_min: float
    outcome: str  # approved / rejected


def decisions_from_log(sim_log: pd.DataFrame) -> dict[tuple[int, int], SimulatedAnswer]:
    """The simulated approvers' decisions by (rep, case_id); auto-approvals are none."""
    table = approvals_by_case(sim_log).dropna(subset=["cycle"])
    return {
        (int(rep), int(cid)): SimulatedAnswer(float(r.cycle), str(r.outcome))
        for (rep, cid), r in table.iterrows()
    }


def pending(transport: Transport) -> list[dict]:
    """Pending reviews of exsim's tier definitions, each with its document's case key."""
    rows = transport.call(
        "tier.review",
        "search_read",
        [["status", "=", "pending"], ["name", "=like", "exsim approval %"]],
        fields=["model", "res_id", "name", "create_date"],
        order="id",
    )
    rows = [r for r in rows if parse_definition_name(r["name"])]
    for model in {r["model"] for r in rows}:
        ids = sorted({r["res_id"] for r in rows if r["model"] == model})
        names = {d["id"]: d["name"] for d in transport.call(model, "read", ids, ["name"])}
        for r in rows:
            if r["model"] == model:
                r["key"] = parse_key(names.get(r["res_id"], ""))
    return [r for r in rows if r.get("key")]


def due_reviews(
    transport: Transport, decisions: dict[tuple[int, int], SimulatedAnswer], time_map: TimeMap
) -> list[tuple[datetime, dict, SimulatedAnswer]]:
    """Each pending review the simulation decided, with the (server) time its answer is due,
    soonest first."""
    due = []
    for r in pending(transport):
        decision = decisions.get((r["key"][1], r["key"][2]))
        if decision is not None:
            at = datetime.fromisoformat(r["create_date"]) + timedelta(
                minutes=decision.cycle_min / time_map.speed
            )
            due.append((at, r, decision))
    return sorted(due, key=lambda d: d[0])


def answer(transport: Transport, due: list, now: datetime) -> dict[str, int]:
    """Approve or reject, as the simulation did, every review in ``due`` whose time has come."""
    done = {"approved": 0, "rejected": 0}
    for at, r, decision in due:
        if at <= now:
            transport.call(r["model"], DECIDE[decision.outcome], [r["res_id"]])
            done[decision.outcome] += 1
    return done


def play(
    transport: Transport,
    decisions: dict[tuple[int, int], SimulatedAnswer],
    time_map: TimeMap,
    now: Callable[[], datetime],
    sleep: Callable[[float], None],
    until: datetime,
    poll_s: float = 1.0,
) -> dict[str, int]:
    """Answer the pending reviews of decided cases when their cycle time is up, until
    nothing is left to decide or ``until`` (server time) passes. Counts by outcome. Run it
    beside ``inject`` (a thread) so reviews are answered while cases are still coming."""
    done = {"approved": 0, "rejected": 0}
    while True:
        due = due_reviews(transport, decisions, time_map)
        t = now()
        for k, n in answer(transport, due, t).items():
            done[k] += n
        later = [at for at, *_ in due if at > t]
        if not later or t >= until:
            return done
        sleep(max(0.05, min(poll_s, (min(later) - t).total_seconds())))
