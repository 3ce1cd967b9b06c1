"""Escalation ladders: who hears about a case that nobody picked up, when, and what they do.

Each severity has a ladder of tiers, e.g. "not acknowledged after 15 min -> team lead; not
resolved after 2 h -> manager" (the *escalation delay* of on-call tools), each tier with its
*repeat interval* and number of *loops* of re-notification while the condition holds. The
ladder is armed when the case is classified (at detection, or when a delayed triage gives it
its severity) and assigned, with the severity it had then: the ladder in force when a case was
classified is the one it follows. The *acknowledgement timeout* re-opens escalation for
a case acknowledged but not resolved that long after. Each step is a SimPy timeout with a
callback; when it fires and the condition still holds, an ``escalated`` row (first notice) or a
``notified`` row (repeat) is written with the tier in ``detail`` and the notified role in
``team``.

A tier that only notifies changes nobody's work. Its ``actions`` make it act when it first
fires, as the seeds' playbooks do ("escalate to the warehouse supervisor and reprioritize the
queue", "escalate to procurement and customer service simultaneously"):

- ``reassign``: the case moves to another team's queue (a second level, a supervisor); whoever
  was working it puts it down; the new owner does what is left, or all of it again;
- ``raise_severity``: the case goes up a level and is re-queued, so a ``priority``/``edf``
  queue serves it sooner; its deadline follows the new level or stays (policy's choice);
- ``swarm``: an idle agent of a named team joins (halving the work left) or takes the waiting
  case; nothing happens when that team has nobody free;
- ``page``: an on-call responder is paged and, after the response delay, takes the case if it
  still needs someone, off shift or not, at the rota's on-call cost;
- ``notify``: alert one more role (a ``notified`` row), nothing moves.

Each action logs its effect with ``detail`` ``tier<N>:<action>`` (``reassigned``,
``classified``, ``work_started`` or ``notified`` rows), which is how the summary attributes
outcomes to tiers and actions. An action is a class registered by name (built in here, or a
package's through the ``exsim.escalation_actions`` entry point) built once per tier as
``Action(port, params)`` and called as ``action(case, detail)``; it acts through the
:class:`sim.port.Port` it was given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import sim.plugins as plugins
from sim.case import Case
from sim.eventlog import ESCALATED, NOTIFIED, SEVERITY_RANK
from sim.policies.schema import (
    Escalation,
    NotifyOnly,
    Page,
    RaiseSeverity,
    Reassign,
    Swarm,
)
from sim.port import Port
from sim.timers import after

if TYPE_CHECKING:
    from sim.engine import Simulation


@plugins.register("escalation_actions", "notify")
class NotifyAction:
    params = NotifyOnly

    def __init__(self, port: Port, spec: NotifyOnly) -> None:
        self.port, self.to = port, spec.to

    def __call__(self, case: Case, detail: str) -> bool:
        if self.to is None:  # the tier's escalated row already alerted its role
            return True
        self.port.record(case, "notified", detail=detail, team=self.to)
        return True


@plugins.register("escalation_actions", "reassign")
class ReassignAction:
    params = Reassign

    def __init__(self, port: Port, spec: Reassign) -> None:
        self.port, self.to, self.keep = port, spec.to, spec.work == "keep"

    def __call__(self, case: Case, detail: str) -> bool:
        return self.port.reassign(case, self.to, self.keep, detail)


@plugins.register("escalation_actions", "raise_severity")
class RaiseSeverityAction:
    params = RaiseSeverity

    def __init__(self, port: Port, spec: RaiseSeverity) -> None:
        self.port, self.levels, self.follow = port, spec.levels, spec.sla == "follow"

    def __call__(self, case: Case, detail: str) -> bool:
        return self.port.raise_severity(case, self.levels, self.follow, detail)


@plugins.register("escalation_actions", "swarm")
class SwarmAction:
    params = Swarm

    def __init__(self, port: Port, spec: Swarm) -> None:
        self.port, self.team = port, spec.team

    def __call__(self, case: Case, detail: str) -> bool:
        return self.port.swarm(case, self.team, detail)


@plugins.register("escalation_actions", "page")
class PageAction:
    params = Page

    def __init__(self, port: Port, spec: Page) -> None:
        self.port, self.on_call = port, spec.on_call

    def __call__(self, case: Case, detail: str) -> bool:
        return self.port.page(case, self.on_call, detail)


class _Tier(NamedTuple):
    after: float
    unacked: bool
    detail: int
    notify: int
    repeat: float | None
    loops: int
    repeat_details: tuple[int, ...]
    actions: tuple[tuple[object, str], ...]  # (action, its detail label)


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
                    tuple(
                        (
                            plugins.get("escalation_actions", name)(sim.port, params),
                            f"tier{i + 1}:{name}",
                        )
                        for name, params in t.action_list()
                    ),
                )
                for i, t in enumerate(tiers)
            ]
        self.ack_timeout = {SEVERITY_RANK[s]: m for s, m in spec.ack_timeout_min.items()}
        self.ack_detail = code("ack-timeout")
        self.ack_notify = code(spec.ack_timeout_notify)

    def arm(self, case: Case) -> None:
        """Start the case's ladder (once it is classified and assigned)."""
        env = self.sim.env
        for tier in self.by_rank.get(case.severity, ()):
            after(env, tier.after, self._fire, (case, tier, 0))

    def acknowledged(self, case: Case) -> None:
        """Start the acknowledgement timeout, if the policy has one for this severity."""
        minutes = self.ack_timeout.get(case.severity)
        if minutes is not None:
            after(self.sim.env, minutes, self._ack_expired, case)

    def _fire(self, event) -> None:
        case, tier, loop = event.value
        if case.resolved or (tier.unacked and case.acknowledged):
            return
        sim = self.sim
        if loop == 0:
            sim.record(sim.env.now, case, ESCALATED, detail=tier.detail, team=tier.notify)
            for action, label in tier.actions:
                action(case, label)
        else:
            sim.record(
                sim.env.now, case, NOTIFIED, detail=tier.repeat_details[loop - 1], team=tier.notify
            )
        if loop < tier.loops:
            after(sim.env, tier.repeat, self._fire, (case, tier, loop + 1))

    def _ack_expired(self, event) -> None:
        case = event.value
        if not case.resolved:
            sim = self.sim
            sim.record(sim.env.now, case, ESCALATED, detail=self.ack_detail, team=self.ack_notify)
