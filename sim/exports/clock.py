"""Wall-clock times for a log whose rows carry minutes since the scenario start.

Other tools want real timestamps, so exports turn ``ts`` into ISO 8601 strings anchored at
``LogMeta.start``. A naive start is taken as UTC; an aware one keeps its zone, so the
offsets in the file read like the operation's local clock.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.eventlog import LogMeta


def start_of(meta: LogMeta) -> pd.Timestamp:
    """The log's minute 0 as an aware timestamp (naive starts are UTC)."""
    start = pd.Timestamp(meta.start)
    return start.tz_localize("UTC") if start.tzinfo is None else start


def iso_times(minutes: np.ndarray, start: pd.Timestamp) -> np.ndarray:
    """ISO 8601 strings (microseconds, ``+HH:MM`` offset) for float minutes; NaN -> None."""
    minutes = np.asarray(minutes, dtype=np.float64)
    ok = np.isfinite(minutes)
    out = np.full(minutes.shape, None, dtype=object)
    if not ok.any():
        return out
    delta = pd.to_timedelta(np.round(minutes[ok] * 60e6), unit="us")
    stamps = pd.DatetimeIndex(start + delta)
    text = stamps.strftime("%Y-%m-%dT%H:%M:%S.%f%z")
    # %z gives +0200; XES (xs:dateTime) and OCEL want +02:00.
    out[ok] = [f"{t[:-2]}:{t[-2:]}" for t in text]
    return out
