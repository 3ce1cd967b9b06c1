"""Latencies between lifecycle events: how long each hand-off in the desk takes.

Each latency is the gap between the first time of two events of a case, measured only over cases
that reached both: a case never acknowledged has no time-to-acknowledge (it shows up in the
backlog and the SLA instead), so averaging it in as zero or as the horizon would be wrong.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: KPI name -> (from event, to event).
LATENCIES: dict[str, tuple[str, str]] = {
    "detection_latency_min": ("occurred", "detected"),
    "time_to_acknowledge_min": ("detected", "acknowledged"),
    "queue_wait_min": ("assigned", "work_started"),
    "time_to_resolve_min": ("occurred", "resolved"),
}
#: A queue wait above this counts as having waited (float noise is not a wait).
WAIT_EPS = 1e-9


def describe(values: np.ndarray) -> dict:
    """{mean, p50, p90, p99, n} of the finite values (None when there are none)."""
    x = values[np.isfinite(values)]
    if x.size == 0:
        return {"mean": None, "p50": None, "p90": None, "p99": None, "n": 0}
    p50, p90, p99 = np.percentile(x, [50, 90, 99])
    return {
        "mean": float(x.mean()),
        "p50": float(p50),
        "p90": float(p90),
        "p99": float(p99),
        "n": int(x.size),
    }


def gap(cases: pd.DataFrame, start: str, end: str) -> np.ndarray:
    """``end - start`` per case, NaN where either event is missing."""
    return cases[end].to_numpy() - cases[start].to_numpy()


def latency_summary(cases: pd.DataFrame) -> dict:
    return {name: describe(gap(cases, a, b)) for name, (a, b) in LATENCIES.items()}


def waited_fraction(cases: pd.DataFrame) -> float | None:
    """Share of started cases (with a known assignment time) that waited in the queue."""
    wait = gap(cases, *LATENCIES["queue_wait_min"])
    wait = wait[np.isfinite(wait)]
    return float((wait > WAIT_EPS).mean()) if wait.size else None
