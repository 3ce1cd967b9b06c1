"""The as-is desk in numbers, straight from the recorded log (what a service manager quotes).

- cases, and the share resolved (a case is resolved when it has any ``resolved`` row);
- time to resolve: first resolution minus the case's start (its first recorded row), in
  minutes: mean, median (p50) and p90;
- reopen rate: resolved cases that came back, i.e. have a ``reopened`` row after their first
  resolution or were resolved more than once, over resolved cases;
- hold time: per case that was ever on hold, the minutes from each ``on_hold`` to the next
  row that ends the wait (``resumed``, ``work_started``, ``resolved``, ``closed``, or the
  end of the log while still waiting), summed;
- hands-on effort (``replay.effort``) of the cases whose log tells it.

These are computed on the log as recorded, so they can be checked against an independent
computation on the source export (``tests/test_replay_desk.py`` does, with pandas).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from replay.effort import hold_minutes
from replay.history import History
from sim.metrics.latency import describe


def desk_stats(history: History) -> dict:
    """Desk statistics of ``history`` (JSON-ready)."""
    log = history.log
    cases = history.cases
    ev = log["event"].astype(str).to_numpy()
    frame = pd.DataFrame(
        {"case": log["case_id"].to_numpy(np.int64), "ts": log["ts"].to_numpy(float), "ev": ev}
    )
    resolved_rows = frame[frame["ev"] == "resolved"]
    first_res = resolved_rows.groupby("case")["ts"].min()
    n_res = resolved_rows.groupby("case").size()
    reopen_rows = frame[frame["ev"] == "reopened"]
    after = reopen_rows["ts"].to_numpy() > reopen_rows["case"].map(first_res).to_numpy()
    reopened = set(reopen_rows["case"][after]) | set(n_res.index[n_res > 1])
    start = cases.set_index("case_id")["occurred"]
    ttr = (first_res - start.reindex(first_res.index)).to_numpy(float)
    hold = hold_minutes(frame, history.horizon_min)
    n = len(cases)
    return {
        "cases": n,
        "resolved": len(first_res),
        "resolved_share": len(first_res) / n if n else None,
        "time_to_resolve_min": describe(ttr),
        "reopened": len(reopened),
        "reopen_rate": len(reopened) / len(first_res) if len(first_res) else None,
        "held": len(hold),
        "hold_min": describe(hold.to_numpy(float)),
        "hold_hours": float(hold.sum()) / 60.0,
        "effort_min": describe(cases["effort"].to_numpy(float)),
        "effort_known": int(cases["effort"].notna().sum()),
    }
