"""Approvals: decisions that need a signature before a case can be resolved.

Releasing a shipment on credit hold, expediting freight, substituting an item, writing off
stock, shipping partial quantities, moving a committed date: the approval matrix maps the
decision and the value at stake to an approver level, with small amounts auto-approved.
Approvers are people with calendars, so a request raised at 17:55 on a Friday waits for Monday.
The agent who worked the case raises the request and moves on; the approver's decision
(approved, or rejected with ``reject_prob``) resolves the case. Approval cycle time is
``approved/rejected - approval_requested`` in the log.
"""

from __future__ import annotations

import math

import sim.plugins as plugins
from sim.case import Case
from sim.policies.schema import Approvals, Decision

#: Decision types an approval matrix can name (a package adds more through the
#: ``exsim.decisions`` entry point: any object; its ``__doc__`` says what is decided).
DECISIONS: dict[str, str] = {
    "shipment_release": "release a shipment held on credit",
    "expedited_freight": "pay for faster freight",
    "substitution": "ship a substitute item",
    "stock_write_off": "write stock off",
    "partial_shipment": "ship what is available now",
    "date_change": "move a committed date",
}
for _name, _doc in DECISIONS.items():
    plugins.register("decisions", _name)(type(_name, (), {"__doc__": _doc}))


class Matrix:
    """Which decision (if any) a case needs, and which approver level decides it."""

    def __init__(self, spec: Approvals) -> None:
        self.by_category: dict[str, Decision] = {}
        for decision in spec.decisions:
            for category in decision.categories:
                self.by_category.setdefault(category, decision)

    def route(self, case: Case) -> tuple[Decision, str] | None:
        decision = self.by_category.get(case.category)
        if decision is None:
            return None
        value = 0.0 if math.isnan(case.value) else case.value
        for level in decision.levels:
            if level.max_value is None or value <= level.max_value:
                return decision, level.approver
        return decision, decision.levels[-1].approver
