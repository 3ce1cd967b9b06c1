"""``--since`` / ``--until``: a slice of history made of whole cases.

Cutting a log at a date by its rows would leave cases without their beginning (a ticket
resolved in the window but opened before it) or without their end, and every KPI of the
slice would be wrong at its edges. A window therefore selects *cases*: those whose first
recorded row falls in ``[since, until)``, with all their rows, before or after the bounds.
Minute 0 of the slice is ``since`` (else the first selected case's day). Bounds without an
offset are local time in the log's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from replay.errors import ReplayInputError
from replay.report import ReplayReport, examples_of

#: The drop reason of rows whose case starts outside the window.
OUTSIDE = "case outside --since/--until"


@dataclass(frozen=True)
class Window:
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def parse(cls, since: str | None, until: str | None) -> Window:
        """From the command line's ISO dates; a bad one is a :class:`ReplayInputError`."""
        bounds = []
        for name, text in (("--since", since), ("--until", until)):
            try:
                bounds.append(None if not text else datetime.fromisoformat(text))
            except ValueError:
                raise ReplayInputError(f"{name}: {text!r} is not an ISO date") from None
        window = cls(*bounds)
        if window.since and window.until:
            a, b = window.bound(window.since, "UTC"), window.bound(window.until, "UTC")
            if b <= a:
                raise ReplayInputError("--until: must be after --since")
        return window

    @property
    def active(self) -> bool:
        return self.since is not None or self.until is not None

    @staticmethod
    def bound(value: datetime, zone) -> pd.Timestamp:
        """``value`` as an aware UTC time; naive values are local time in ``zone``."""
        stamp = pd.Timestamp(value)
        return (stamp.tz_localize(zone) if stamp.tzinfo is None else stamp).tz_convert("UTC")

    def holds(self, starts: pd.Series, zone) -> np.ndarray:
        """Whether each case start (aware timestamps) lies in the window (NaT: no)."""
        ok = np.array(starts.notna().to_numpy(), dtype=bool)
        if self.since is not None:
            ok &= (starts >= self.bound(self.since, zone)).fillna(False).to_numpy(bool)
        if self.until is not None:
            ok &= (starts < self.bound(self.until, zone)).fillna(False).to_numpy(bool)
        return ok

    def describe(self) -> dict:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "selects": "whole cases whose first recorded row lies in [since, until)",
        }


def select_cases(df: pd.DataFrame, window: Window, report: ReplayReport) -> pd.DataFrame:
    """Keep the cases of an exsim log (``ts`` minutes since ``meta.start``) that start in the
    window; minute 0 moves to ``since`` (or the first kept case's day). Dropped rows are
    counted in ``report``; the zone of naive bounds is the log's own start offset, else UTC."""
    from sim.eventlog import LogMeta  # the log's metadata travels in attrs

    meta: LogMeta = df.attrs["meta"]
    anchor = pd.Timestamp(meta.start)
    anchor = anchor.tz_localize("UTC") if anchor.tzinfo is None else anchor
    first = df.groupby(["rep", "case_id"], sort=False)["ts"].transform("min")
    starts = pd.Series(anchor + pd.to_timedelta(first.to_numpy(float), unit="min"))
    zone = anchor.tzinfo
    inside = window.holds(starts, zone)
    frame = df.assign(_row=np.arange(len(df)))
    report.drop(OUTSIDE, int((~inside).sum()), examples_of(frame, ~inside, ["case_id", "ts"]))
    report.rows_kept -= int((~inside).sum())
    kept = df[inside].reset_index(drop=True)
    if len(kept) == 0:
        return kept
    if window.since is not None:
        new0 = window.bound(window.since, zone)
    else:
        new0 = starts[inside].min().tz_convert("UTC").floor("D")
    shift = (new0 - anchor.tz_convert("UTC")) / pd.Timedelta(minutes=1)
    for col in ("ts", "due_ts", "trigger_ts", "promise_ts"):
        if col in kept:
            kept[col] = kept[col] - shift
    new_meta = LogMeta(**{**meta.__dict__})
    new_meta.start = new0.isoformat()
    new_meta.horizon_min = float(kept["ts"].max())
    new_meta.extra = {**(meta.extra or {})}
    new_meta.extra["replay"] = {**new_meta.extra.get("replay", {}), "window": window.describe()}
    kept.attrs = {**df.attrs, "meta": new_meta}
    return kept
