"""Queue disciplines: in which order a team works its queue.

A discipline is a key function of a case; the queue serves the smallest key first and breaks
ties by arrival order. ``fifo`` has no key (a plain deque). A package adds one through the
``exsim.disciplines`` entry point (see :mod:`sim.plugins`): a function ``Case -> float``.
"""

from __future__ import annotations

from collections.abc import Callable

import sim.plugins as plugins
from sim.case import Case

Key = Callable[[Case], float]


@plugins.register("disciplines", "fifo")
def fifo(case: Case) -> float:
    """First come, first served (served from a plain deque: this key is never called)."""
    return 0.0


@plugins.register("disciplines", "priority")
def priority(case: Case) -> float:
    """Highest severity first."""
    return -case.severity


@plugins.register("disciplines", "edf")
def edf(case: Case) -> float:
    """Earliest SLA deadline first."""
    return case.due


DISCIPLINES: dict[str, Key | None] = {"fifo": None, "priority": priority, "edf": edf}


def discipline_key(name: str) -> Key | None:
    """The key function of the discipline called ``name`` (None: FIFO)."""
    key = plugins.get("disciplines", name)
    return None if key is fifo else key
