"""Severity scoring: ordered rules over a case's business attributes.

Like an on-call tool's routing tree, the first rule whose conditions all hold wins and its id is
written to the log as the reason (``classified`` row, ``detail`` column); no match gives the
policy's default severity.
"""

from __future__ import annotations

from sim.case import Case
from sim.eventlog import SEVERITY_RANK
from sim.policies.schema import Condition, SeverityPolicy


def matches(cond: Condition, case: Case) -> bool:
    if cond.category is not None and case.category not in cond.category:
        return False
    if cond.customer_tier is not None and case.tier not in cond.customer_tier:
        return False
    if cond.site is not None and case.site not in cond.site:
        return False
    if cond.warehouse is not None and case.warehouse not in cond.warehouse:
        return False
    if cond.order_value_min is not None and not case.value >= cond.order_value_min:
        return False
    return cond.order_value_max is None or case.value <= cond.order_value_max


class RuleScorer:
    """Scores a case: returns (severity rank, reason)."""

    def __init__(self, policy: SeverityPolicy) -> None:
        self.rules = [(r.when, SEVERITY_RANK[r.severity], f"rule:{r.id}") for r in policy.rules]
        self.default = (SEVERITY_RANK[policy.default], "default")

    def __call__(self, case: Case) -> tuple[int, str]:
        for cond, rank, reason in self.rules:
            if matches(cond, case):
                return rank, reason
        return self.default
