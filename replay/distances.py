"""The process-simulation field's standard log distances, so exsim's fidelity reads like Simod's.

Business-process simulation papers (Simod, and the benchmarks of Chapela-Campa et al.) judge a
simulation model by distances between the real log and logs the model simulates, as
implemented in the ``log-distance-measures`` package:

- absolute event distribution (AED): how far event times must move, in hours, to turn one
  log's histogram of timestamps into the other's;
- circadian event distribution (CED): the same on hour of the day, per weekday;
- relative event distribution (RED): event times relative to their case's start, in hours;
- case arrival distribution (CAR): case start times, in hours;
- cycle time distribution (CTD): case durations, in hours.

Smaller is better; 0 means identical. exsim's logs have instants, not activity durations, so
each event is an activity whose start and end coincide. Only the events both logs share by
construction are compared: ``occurred`` (the world) and ``resolved`` (the outcome): a mapped
history has service-desk statuses where a simulation has classification and notification
rows, and comparing those would measure the vocabulary, not the fit. Cycle time is over the
resolved cases. Needs the ``replay`` extra (``pip install exsim[replay]``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

#: Events both a history and a simulation have by construction.
SHARED_EVENTS = ("occurred", "resolved")


def as_process_log(log: pd.DataFrame, start: dt.datetime) -> pd.DataFrame:
    """An exsim log (any number of reps) as the package's frame: case, activity, start, end."""
    ev = log["event"].astype(str).to_numpy()
    keep = np.isin(ev, SHARED_EVENTS)
    rep = log["rep"].to_numpy(np.int64)[keep]
    case = log["case_id"].to_numpy(np.int64)[keep]
    origin = pd.Timestamp(start)
    when = origin + pd.to_timedelta(log["ts"].to_numpy(float)[keep], unit="min")
    frame = pd.DataFrame(
        {
            "case": [f"{r}:{c}" for r, c in zip(rep, case, strict=True)],
            "activity": ev[keep],
            "start_time": when,
            "end_time": when,
        }
    )
    # only the first resolution of each case: a reopened case's later ones are rework
    frame = frame.sort_values(["case", "start_time"], kind="stable")
    return frame.drop_duplicates(["case", "activity"]).reset_index(drop=True)


def log_distances(history: pd.DataFrame, simulated: pd.DataFrame, start: dt.datetime) -> dict:
    """AED, CED, RED, CAR (event distributions) and CTD (cycle time), hour bins, Wasserstein.

    Without the package installed: ``{"unavailable": <how to install it>}``.
    """
    try:
        import log_distance_measures  # noqa: F401
    except ImportError:
        return {"unavailable": "pip install 'exsim[replay]' (log-distance-measures)"}
    from log_distance_measures.absolute_event_distribution import (
        absolute_event_distribution_distance,
    )
    from log_distance_measures.case_arrival_distribution import (
        case_arrival_distribution_distance,
    )
    from log_distance_measures.circadian_event_distribution import (
        circadian_event_distribution_distance,
    )
    from log_distance_measures.config import EventLogIDs
    from log_distance_measures.cycle_time_distribution import cycle_time_distribution_distance
    from log_distance_measures.relative_event_distribution import (
        relative_event_distribution_distance,
    )

    ids = EventLogIDs(
        case="case", activity="activity", start_time="start_time", end_time="end_time"
    )
    a, b = as_process_log(history, start), as_process_log(simulated, start)
    if a.empty or b.empty:
        return {}
    done_a = a[a["case"].isin(a.loc[a["activity"] == "resolved", "case"])]
    done_b = b[b["case"].isin(b.loc[b["activity"] == "resolved", "case"])]
    out = {
        "absolute_event_distribution_h": absolute_event_distribution_distance(a, ids, b, ids),
        "circadian_event_distribution_h": circadian_event_distribution_distance(a, ids, b, ids),
        "relative_event_distribution_h": relative_event_distribution_distance(a, ids, b, ids),
        "case_arrival_distribution_h": case_arrival_distribution_distance(a, ids, b, ids),
    }
    if len(done_a) and len(done_b):
        out["cycle_time_distribution_h"] = cycle_time_distribution_distance(
            done_a, ids, done_b, ids, bin_size=dt.timedelta(hours=1)
        )
    return {k: float(v) for k, v in out.items()}
