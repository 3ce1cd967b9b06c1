"""Escalation ladders: who hears about a case that nobody picked up, and when.

Each severity has a ladder of tiers, e.g. "not acknowledged after 15 min -> team lead; not
resolved after 2 h -> manager" (the escalation delay of on-call tools). The ladder is armed when
the case is detected, with the severity it had then: the ladder in force when a case opened is
the one it follows. Each tier is a SimPy timeout; when it fires and the condition still holds,
an ``escalated`` row is written with the tier in ``detail`` and the notified role in ``team``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.case import Case
from sim.eventlog import ESCALATED, SEVERITY_RANK
from sim.policies.schema import Escalation

if TYPE_CHECKING:
    from sim.engine import Simulation


class Ladders:
    def __init__(self, sim: Simulation, spec: Escalation) -> None:
        self.sim = sim
        log = sim.log
        self.by_rank: dict[int, list[tuple[float, bool, int, int]]] = {
            SEVERITY_RANK[sev]: [
                (
                    t.after_min,
                    t.when == "unacknowledged",
                    log.code(f"tier{i + 1}:{t.when}"),
                    log.code(t.notify),
                )
                for i, t in enumerate(tiers)
            ]
            for sev, tiers in spec.ladders.items()
        }

    def arm(self, case: Case) -> None:
        env = self.sim.env
        for tier in self.by_rank.get(case.severity, ()):
            env.timeout(tier[0], (case, tier)).callbacks.append(self._fire)

    def _fire(self, event) -> None:
        case, (_, unacked, detail, notify) = event.value
        if case.resolved or (unacked and case.acknowledged):
            return
        self.sim.record(self.sim.env.now, case, ESCALATED, detail=detail, team=notify)
