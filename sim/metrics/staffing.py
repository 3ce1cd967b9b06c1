"""Who was on duty when, from the staffing record a log carries.

The engine writes, per team, every stretch a shift group was on duty as
``meta.extra["on_duty"] = {team: [[start_min, end_min, agents], ...]}``. Reading that record, a
chart can shade the hours nobody was there or divide alerts by the agents present, without the
policy file or its shift calendars: the log says what happened. A log without the record (a
recorded history, an older run) has no staffing to show, and :func:`has_staffing` says so.
"""

from __future__ import annotations

import numpy as np

from sim.eventlog import LogMeta


def spans(meta: LogMeta) -> dict[str, list[tuple[float, float, int]]]:
    """Per team, the ``(start, end, agents)`` stretches on duty (empty without a record)."""
    record = (meta.extra or {}).get("on_duty") or {}
    return {
        team: [(float(a), float(b), int(n)) for a, b, n in rows] for team, rows in record.items()
    }


def has_staffing(meta: LogMeta) -> bool:
    return bool(spans(meta))


def on_duty(meta: LogMeta, grid: np.ndarray, team: str | None = None) -> np.ndarray:
    """Agents on duty at each time of ``grid`` (minutes), of one team or of all of them."""
    grid = np.asarray(grid, dtype=float)
    out = np.zeros(grid.size)
    for name, rows in spans(meta).items():
        if team is not None and name != team:
            continue
        for a, b, n in rows:
            out[(grid >= a) & (grid < b)] += n
    return out
