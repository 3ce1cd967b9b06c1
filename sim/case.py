"""A case: one exception, from the moment it occurs in operations until it is closed."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.policies.schema import Decision
    from sim.team import Agent, Team


class Case:
    """Mutable state of one exception case while the simulation runs.

    Only what the mechanisms need to decide is kept here; the history lives in the event log.
    ``trigger`` is the date a time rule or scan measures from (a picking's scheduled date); it
    precedes ``occurred`` when the record only started matching after that date had passed.
    ``work`` (hands-on minutes) is drawn when the case occurs, from the category's stream, so
    that every policy faces the same work content (common random numbers).

    While the desk handles it: ``remaining`` hands-on minutes are left, ``agent`` works it since
    ``started`` (None when nobody does), ``waiting_at`` is the team whose queue holds it (None
    when it is in work, on hold or done). ``hold`` is the wait it will meet part-way through its
    work (fraction of the work done first, minutes, reason; drawn when it occurs, None: none),
    ``reopen`` the draw that decides whether its fix holds (None: the category never reopens).
    """

    __slots__ = (
        "id",
        "category",
        "occurred",
        "work",
        "value",
        "tier",
        "warehouse",
        "site",
        "severity",
        "due",
        "team",
        "detected",
        "detections",
        "acknowledged",
        "resolved",
        "matching",
        "trigger",
        "transient",
        "parent",
        "decision",
        "ref",
        "promise",
        "recorded_severity",
        "remaining",
        "agent",
        "started",
        "waiting_at",
        "hold",
        "on_hold",
        "reopen",
        "helpers",
        "target",
        "reopened",
    )

    def __init__(
        self,
        id: int,
        category: str,
        occurred: float,
        work: float,
        value: float,
        tier: str | None,
        warehouse: str | None,
        site: str | None,
        due: float,
        trigger: float | None = None,
        parent: Case | None = None,
    ) -> None:
        self.id = id
        self.category = category
        self.occurred = occurred
        self.work = work
        self.value = value
        self.tier = tier
        self.warehouse = warehouse
        self.site = site
        self.severity = -1
        self.due = due
        self.team: Team | None = None
        self.detected = False
        self.detections: set[str] = set()
        self.acknowledged = False
        self.resolved = False
        self.matching = True  # still in the condition a rule or scan searches for
        self.trigger = occurred if trigger is None else trigger  # the rule's trigger date
        self.transient = False
        self.parent = parent
        self.decision: Decision | None = None  # the approval it waits for, if any
        self.ref: object = None  # the operational record behind it (operations world)
        self.promise = math.nan  # date promised to the customer (minutes), if any
        # the severity a recorded history gave the case (replay: priority/impact), if any
        self.recorded_severity: str | None = None
        self.remaining = work
        self.agent: Agent | None = None
        self.started = 0.0
        self.waiting_at: Team | None = None
        self.hold: tuple[float, float, str] | None = None
        self.on_hold = False
        self.reopen: tuple[float, float, float] | None = None  # (u, delay, rework fraction)
        self.helpers: list[Agent] = []  # agents lent by a swarm, working alongside
        self.target = 0.0  # remaining work at the end of the piece in hand
        self.reopened = False
