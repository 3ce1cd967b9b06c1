"""Escalation ladders: who hears about a case that nobody picked up, and when.

Each severity has a ladder of tiers, e.g. "not acknowledged after 15 min -> team lead; not
resolved after 2 h -> manager" (the *escalation delay* of on-call tools), each tier with its
*repeat interval* and number of *loops* of re-notification while the condition holds. The
ladder is armed when the case is detected, with the severity it had then: the ladder in force
when a case opened is the one it follows. The *acknowledgement timeout* re-opens escalation for
a case acknowledged but not resolved that long after. Each step is a SimPy timeout with a
callback; when it fires and the condition still holds, an ``escalated`` row (first notice) or a
``notified`` row (repeat) is written with the tier in ``detail`` and the notified role in
``team``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from sim.case import Case
from sim.eventlog import ESCALATED, NOTIFIED, SEVERITY_RANK
from sim.policies.schema import Escalation

if TYPE_CHECKING:
    from sim.engine import Simulation


class _Tier(NamedTuple):
    after: float
    unacked: bool
    detail: int
    notify: int
    repeat: float | None
    loops: int
    repeat_details: tuple[int, ...]


class Ladders:
    def __init__(self, sim: Simulation, spec: Escalation) -> None:
        self.sim = sim
        code = sim.log.code
        self.by_rank: dict[int, list[_Tier]] = {}
        for sev, tiers in spec.ladders.items():
            self.by_rank[SEVERITY_RANK[sev]] = [
                _Tier(
                    t.after_min,
                    t.when == "unacknowledged",
                    code(f"tier{i + 1}:{t.when}"),
                    code(t.notify),
                    t.repeat_every_min,
                    t.loops if t.repeat_every_min else 0,
                    tuple(code(f"tier{i + 1}:repeat{k + 1}") for k in range(t.loops)),
                )
                for i, t in enumerate(tiers)
            ]
        self.ack_timeout = {SEVERITY_RANK[s]: m for s, m in spec.ack_timeout_min.items()}
        self.ack_detail = code("ack-timeout")
        self.ack_notify = code(spec.ack_timeout_notify)

    def arm(self, case: Case) -> None:
        """Start the case's ladder (at detection)."""
        env = self.sim.env
        for tier in self.by_rank.get(case.severity, ()):
            env.timeout(tier.after, (case, tier, 0)).callbacks.append(self._fire)

    def acknowledged(self, case: Case) -> None:
        """Start the acknowledgement timeout, if the policy has one for this severity."""
        minutes = self.ack_timeout.get(case.severity)
        if minutes is not None:
            self.sim.env.timeout(minutes, case).callbacks.append(self._ack_expired)

    def _fire(self, event) -> None:
        case, tier, loop = event.value
        if case.resolved or (tier.unacked and case.acknowledged):
            return
        sim = self.sim
        if loop == 0:
            sim.record(sim.env.now, case, ESCALATED, detail=tier.detail, team=tier.notify)
        else:
            sim.record(
                sim.env.now, case, NOTIFIED, detail=tier.repeat_details[loop - 1], team=tier.notify
            )
        if loop < tier.loops:
            sim.env.timeout(tier.repeat, (case, tier, loop + 1)).callbacks.append(self._fire)

    def _ack_expired(self, event) -> None:
        case = event.value
        if not case.resolved:
            sim = self.sim
            sim.record(sim.env.now, case, ESCALATED, detail=self.ack_detail, team=self.ack_notify)
