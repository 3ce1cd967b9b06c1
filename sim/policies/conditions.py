"""Severity rules' conditions as plain values, checked once per rule for every case triaged.

A rule's ``when`` block (:class:`sim.policies.schema.Condition`) is a validated pydantic
model; reading its nine fields for every rule of every case costs more than the rest of the
triage. :class:`Check` copies the fields a rule sets into plain attributes once, when the
scorer is built, and :class:`Rules` walks the rules in order (the first rule whose
conditions all hold wins, as in an on-call tool's routing tree). This module is compiled in
the compiled build, where reading a case's attributes is a native field access.
"""

from __future__ import annotations

from typing import Any

from sim.case import Case


def _names(values: list[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


class Check:
    """One rule's condition: every field it sets must hold (lists mean "any of").

    The comparisons are written as :class:`~sim.policies.schema.Condition` states them, so a
    missing value (NaN order value, no promise date) never matches a bound.
    """

    def __init__(self, cond: Any) -> None:
        self.category = _names(cond.category)
        self.customer_tier = _names(cond.customer_tier)
        self.site = _names(cond.site)
        self.warehouse = _names(cond.warehouse)
        self.recorded_severity = _names(cond.recorded_severity)
        self.order_value_min: float | None = cond.order_value_min
        self.order_value_max: float | None = cond.order_value_max
        self.hours_to_promise_max: float | None = cond.hours_to_promise_max
        self.sla_minutes_left_max: float | None = cond.sla_minutes_left_max

    def holds(self, case: Case, now: float = 0.0) -> bool:
        """Whether ``case`` meets the condition at ``now`` (triage time)."""
        names = self.category
        if names is not None and case.category not in names:
            return False
        names = self.customer_tier
        if names is not None and case.tier not in names:
            return False
        names = self.site
        if names is not None and case.site not in names:
            return False
        names = self.warehouse
        if names is not None and case.warehouse not in names:
            return False
        names = self.recorded_severity
        if names is not None and case.recorded_severity not in names:
            return False
        bound = self.order_value_min
        if bound is not None and not case.value >= bound:
            return False
        bound = self.order_value_max
        if bound is not None and not case.value <= bound:
            return False
        bound = self.hours_to_promise_max
        if bound is not None and not ((case.promise - now) / 60.0 <= bound):
            return False  # (no promise: NaN never matches)
        bound = self.sla_minutes_left_max
        return bound is None or case.due - now <= bound


class Rules:
    """The rules alone as a severity scorer: the first rule that holds, else the default.

    Called as ``rules(case, now) -> (severity rank, reason, extra triage minutes)`` like any
    scorer (see :mod:`sim.policies.severity`), with no extra triage time."""

    def __init__(self, rules: list[tuple[Check, int, str]], default: tuple[int, str]) -> None:
        self.rules = rules
        self.default = default

    def truth(self, case: Case, now: float = 0.0) -> tuple[int, str]:
        """(rank, reason) of the first rule whose test holds for ``case``, else the default."""
        for test, rank, reason in self.rules:
            if test.holds(case, now):
                return rank, reason
        return self.default

    def __call__(self, case: Case, now: float = 0.0) -> tuple[int, str, float]:
        rank, reason = self.truth(case, now)
        return rank, reason, 0.0
