"""Queue disciplines: in which order a team works its queue.

A discipline is a key function of a case; the queue serves the smallest key first and breaks
ties by arrival order. ``fifo`` has no key (a plain deque). Add one by registering a function.
"""

from __future__ import annotations

from collections.abc import Callable

from sim.case import Case

Key = Callable[[Case], float]


def priority(case: Case) -> float:
    """Highest severity first."""
    return -case.severity


def edf(case: Case) -> float:
    """Earliest SLA deadline first."""
    return case.due


DISCIPLINES: dict[str, Key | None] = {"fifo": None, "priority": priority, "edf": edf}
