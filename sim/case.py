"""A case: one exception, from the moment it occurs in operations until it is closed."""

from __future__ import annotations

import math


class Case:
    """Mutable state of one exception case while the simulation runs.

    Only what the mechanisms need to decide is kept here; the history lives in the event log.
    ``trigger`` is the date a time rule or scan measures from (a picking's scheduled date); it
    precedes ``occurred`` when the record only started matching after that date had passed.
    ``work`` (hands-on minutes) is drawn when the case occurs, from the category's stream, so
    that every policy faces the same work content (common random numbers).
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
        self.team = None
        self.detected = False
        self.detections: set[str] = set()
        self.acknowledged = False
        self.resolved = False
        self.matching = True  # still in the condition a rule or scan searches for
        self.trigger = occurred if trigger is None else trigger  # the rule's trigger date
        self.transient = False
        self.parent = parent
        self.decision = None
        self.ref: object = None  # the operational record behind it (operations world)
        self.promise = math.nan  # date promised to the customer (minutes), if any
        # the severity a recorded history gave the case (replay: priority/impact), if any
        self.recorded_severity: str | None = None
