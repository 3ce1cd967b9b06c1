"""Workload on people: alerts that interrupt someone, escalations, rows logged.

These are counted per row in the observation window [warm-up, horizon], not per case: an alert
raised after the warm-up is work done after the warm-up whenever its case began. Agent time comes
from ``LogMeta.capacity_min`` (agent-minutes on shift over the whole run); with a warm-up it is
scaled to the window by its share of the horizon, which assumes shifts spread evenly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.eventlog import EVENT_CODE, LogMeta
from sim.metrics.cases import as_category, codes_of

#: Events that put something in front of a human: the notification of a routed case, each
#: escalation and repeat, and a duplicate detection that was not deduplicated (a second ticket).
ALERT_EVENTS: tuple[str, ...] = ("escalated", "notified")
NO_TIER = "unspecified"


def workload_summary(
    df: pd.DataFrame, ev: np.ndarray, meta: LogMeta, t0: float, tiers: list[str] | None = None
) -> dict:
    """``events``, ``alerts``, ``alerts_per_agent_hour``, ``escalations(_by_tier)`` in the window.

    ``ev`` is the rows' EVENT_CODE; ``tiers`` fixes the tier keys (so replications agree on them),
    defaulting to those seen on this frame's escalated rows.
    """
    ts = df["ts"].to_numpy(float)
    window = ts >= t0
    detail = as_category(df["detail"])  # judged per distinct detail, not per row
    dup = [str(c).startswith("duplicate:") for c in detail.cat.categories] + [False]
    duplicate = (ev == EVENT_CODE["detected"]) & np.array(dup, dtype=bool)[codes_of(detail)]
    alert = window & (np.isin(ev, [EVENT_CODE[e] for e in ALERT_EVENTS]) | duplicate)
    escalated = window & (ev == EVENT_CODE["escalated"])
    seen = _count_details(df, escalated)
    by_tier = {t: seen.pop(t, 0) for t in (tiers or [])}
    by_tier.update(seen)

    hours = agent_hours(meta, t0)
    n_alerts = int(alert.sum())
    return {
        "events": int(window.sum()),
        "alerts": n_alerts,
        "alerts_per_agent_hour": n_alerts / hours if hours > 0 else None,
        "escalations": int(escalated.sum()),
        "escalations_by_tier": by_tier,
    }


def agent_hours(meta: LogMeta, t0: float) -> float:
    """Agent-hours on shift in the window [t0, horizon] (the run's, scaled by its share)."""
    t1 = meta.horizon_min
    hours = sum(meta.capacity_min.values()) / 60.0
    if t1 > 0:
        hours *= max(t1 - t0, 0.0) / t1
    return hours


def _count_details(df: pd.DataFrame, rows: np.ndarray) -> dict[str, int]:
    """Count of each ``detail`` value over the masked rows (null detail as NO_TIER)."""
    detail = as_category(df["detail"])
    names = [str(c) for c in detail.cat.categories] + [NO_TIER]
    codes = codes_of(detail)[rows]
    counts = np.bincount(np.where(codes < 0, len(names) - 1, codes), minlength=len(names))
    return {names[i]: int(counts[i]) for i in np.flatnonzero(counts)}


def escalation_tiers(df: pd.DataFrame, ev: np.ndarray) -> list[str]:
    """Tier names (``detail``) on escalated rows anywhere in the log, sorted."""
    return sorted(_count_details(df, ev == EVENT_CODE["escalated"]))
