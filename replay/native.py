"""Logs exsim wrote itself: no mapping, only checking that each row still is a valid event.

A CSV may have been opened and saved by a spreadsheet in between, so every row is checked
against the schema: an integer case id, a finite time, a known event; rows that fail are
counted, not fixed. Case ids and the LogMeta are kept as written. A CSV has no metadata, so
its start anchor is recovered from the ``time`` column exsim's CSV export adds
(``time - ts``), and the horizon is the last event.
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta, timezone

import numpy as np
import pandas as pd

from replay import coerce
from replay.formats import RawLog
from replay.report import ReplayReport, examples_of
from replay.table import finish
from replay.timestamps import parse_utc
from sim.eventlog import EVENTS, SEVERITIES, LogMeta

_TEXT = ("category", "team", "actor", "detail", "customer_tier", "warehouse", "site")


def from_exsim(raw: RawLog, report: ReplayReport, source: str) -> pd.DataFrame:
    frame = raw.exsim().reset_index(drop=True)
    frame["_row"] = np.arange(len(frame))
    cand = pd.DataFrame({"_row": frame["_row"].to_numpy()})
    case, case_ok = coerce.ints(frame["case_id"])
    rep, rep_ok = coerce.ints(frame["rep"]) if "rep" in frame else (np.zeros(len(frame)), None)
    ts, _ = coerce.floats(frame["ts"])
    event = coerce.text(frame["event"])
    known = np.array([e in EVENTS for e in event], dtype=bool)
    if rep_ok is not None:
        rep_ok = (rep_ok & (rep >= 0) & (rep < 2**31)) | _blank(frame["rep"])  # int32 column
    rep_ok = np.ones(len(frame), dtype=bool) if rep_ok is None else rep_ok
    rep = np.where(rep_ok, rep, 0).astype(np.int64)

    keep = np.ones(len(frame), dtype=bool)
    for reason, bad, cols in (
        ("missing case id", ~case_ok, ["case_id"]),
        ("bad rep", ~rep_ok, ["rep"]),
        ("unparseable timestamp", ~np.isfinite(ts), ["ts"]),
        ("unknown activity", ~known, ["event"]),
    ):
        hit = keep & bad
        report.drop(reason, int(hit.sum()), examples_of(frame, hit, ["case_id", *cols]))
        keep &= ~bad

    cand["rep"], cand["case_id"], cand["ts"], cand["event"] = rep, case, ts, event
    severity = coerce.text(frame["severity"])
    unknown = np.array([s is not None and s not in SEVERITIES for s in severity], dtype=bool)
    report.warn(
        "unknown severity",
        int((unknown & keep).sum()),
        examples_of(frame, unknown & keep, ["severity"]),
    )
    cand["severity"] = np.where(unknown, None, severity)
    for name in _TEXT:
        cand[name] = coerce.text(frame[name])
    cand["due_ts"], _ = coerce.floats(frame["due_ts"])
    for name in ("trigger_ts", "promise_ts"):
        if name in frame:  # older exports predate the column
            cand[name], _ = coerce.floats(frame[name])
        else:
            cand[name] = np.nan
    cand["order_value"], _ = coerce.floats(frame["order_value"])
    parent, parent_ok = coerce.ints(frame["parent_case_id"])
    cand["parent_case_id"] = pd.array(np.where(parent_ok, parent, 0), dtype="Int64")
    cand.loc[~parent_ok, "parent_case_id"] = pd.NA
    cand = cand[keep].reset_index(drop=True)

    meta = raw.meta or _csv_meta(frame[keep], cand, source)
    meta.reps = max(meta.reps, int(cand["rep"].nunique()) if len(cand) else 1)
    report.case_ids = None
    return finish(cand, meta, report, dedupe=False)


def _blank(values: pd.Series) -> np.ndarray:
    return np.array([v is None for v in coerce.text(values)], dtype=bool)


def _csv_meta(frame: pd.DataFrame, cand: pd.DataFrame, source: str) -> LogMeta:
    """Meta for a CSV exsim wrote: start = time - ts (to the millisecond), horizon = last ts."""
    start = pd.Timestamp("1970-01-01", tz="UTC")
    if "time" in frame.columns and len(frame):
        wall = parse_utc(frame["time"].reset_index(drop=True))
        ok = wall.notna().to_numpy()
        if ok.any():
            i = int(np.flatnonzero(ok)[0])
            offset = pd.to_timedelta(round(cand["ts"].iat[i] * 60e6), unit="us")
            start = (wall.iat[i] - offset).round("ms")
            zone = _offset_of(frame["time"].iat[i])
            if zone is not None:
                start = start.tz_convert(zone)
    horizon = float(cand["ts"].max()) if len(cand) else 0.0
    return LogMeta(
        start=start.isoformat(),
        horizon_min=horizon,
        source="replay",
        extra={"replay": {"path": source, "format": "csv"}},
    )


def _offset_of(text: object) -> timezone | None:
    """The ``+HH:MM`` offset written on an ISO time, to give the start the same clock."""
    found = re.search(r"([+-])(\d{2}):(\d{2})$", str(text))
    if found is None:
        return None
    sign = -1 if found.group(1) == "-" else 1
    delta = timedelta(hours=int(found.group(2)), minutes=int(found.group(3)))
    return UTC if not delta else timezone(sign * delta)
