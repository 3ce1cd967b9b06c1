"""Mapped replay: a foreign log's rows -> exsim events, every lost row accounted for.

The mapping says which source column is which exsim field. Each row then needs three
things to become an event: a case id, an activity that maps to an exsim event, and a
readable timestamp. A row missing one is dropped under the first failing reason (in that
order), with examples. Times become minutes since the anchor (``mapping.start``, else the
first event's UTC midnight). Source case ids become dense integers per replication, in
natural order (numeric ids numerically), and the originals are kept in
``report.case_ids`` and ``LogMeta.extra['source_case_ids']``.

Per-case attributes (category, order value, tier, warehouse, site, parent, trigger date,
promise date) are constant in exsim's schema, so each case takes the first non-null value its
rows carry; a case with no category gets one from ``category_from_activity`` or
``default_category``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from replay import coerce
from replay.errors import ReplayInputError
from replay.formats import RawLog
from replay.mapping import Mapping, key
from replay.report import ReplayReport, examples_of
from replay.table import finish
from replay.timestamps import minutes_since, parse_utc
from sim.eventlog import SEVERITIES, LogMeta

_CASE_TEXT = ("customer_tier", "warehouse", "site")
_EVENT_TEXT = ("team", "actor", "detail")


def resolve_columns(frame: pd.DataFrame, mapping: Mapping, log_name: str) -> dict[str, str]:
    """exsim field -> actual source column, matching names loosely; unknown ones are errors."""
    by_key: dict[str, str] = {}
    for col in frame.columns:
        by_key.setdefault(key(col), str(col))
    out = {}
    for field, wanted in mapping.columns.used().items():
        found = wanted if wanted in frame.columns else by_key.get(key(wanted))
        if found is None:
            have = ", ".join(map(str, list(frame.columns)[:20])) or "none"
            raise ReplayInputError(
                f"{mapping.source}: columns.{field}: column {wanted!r} is not in {log_name}"
                f" (columns: {have})"
            )
        out[field] = found
    return out


def normalize(raw: RawLog, mapping: Mapping, report: ReplayReport, log_name: str) -> pd.DataFrame:
    frame = raw.frame.reset_index(drop=True)
    if frame.empty:
        return frame
    cols = resolve_columns(frame, mapping, log_name)
    src = pd.DataFrame({field: frame[col] for field, col in cols.items()})
    src["_row"] = np.arange(len(src))

    case = coerce.text(src["case_id"])
    if "rep" in src:
        rep, rep_ok = coerce.ints(src["rep"])
        blank = np.array([v is None for v in coerce.text(src["rep"])], dtype=bool)
        rep_ok |= blank
        rep = np.where(rep_ok, rep, 0)
    else:
        rep, rep_ok = np.zeros(len(src), dtype=np.int64), np.ones(len(src), dtype=bool)
    activity = coerce.text(src["activity"])
    table = mapping.event_of()
    looked = [table.get(key(a), "?") if a is not None else "?" for a in activity]
    event = np.array([None if e == "?" else e for e in looked], dtype=object)
    unknown = np.array([e == "?" for e in looked], dtype=bool)
    ignored = ~unknown & np.array([e is None for e in event], dtype=bool)
    stamps = parse_utc(
        src["timestamp"], mapping.timezone, mapping.timestamp_format, mapping.dayfirst
    )
    bad_time = stamps.isna().to_numpy()

    keep = np.ones(len(src), dtype=bool)
    for reason, bad, show in (
        ("missing case id", np.array([c is None for c in case], dtype=bool), ["case_id"]),
        ("bad rep", ~rep_ok, ["rep"]),
        ("unknown activity", unknown, ["activity"]),
        ("ignored activity", ignored, ["activity"]),
        ("unparseable timestamp", bad_time, ["timestamp"]),
    ):
        hit = keep & bad
        report.drop(reason, int(hit.sum()), examples_of(src, hit, ["case_id", *show]))
        keep &= ~bad
    if not keep.any():
        return frame.iloc[0:0]

    anchor = _anchor(mapping, stamps[keep])
    ts = minutes_since(stamps, anchor)
    early = keep & (ts < 0)
    report.drop("before start", int(early.sum()), examples_of(src, early, ["case_id", "timestamp"]))
    keep &= ~early

    src, case, rep, event, ts = src[keep], case[keep], rep[keep], event[keep], ts[keep]
    src = src.reset_index(drop=True)
    cand = pd.DataFrame(
        {"_row": src["_row"].to_numpy(), "rep": rep.astype(np.int64), "ts": ts, "event": event}
    )
    ids, cand["case_id"] = _dense_ids(rep, case)
    report.case_ids = ids
    cand["severity"] = _severity(src, mapping, report)
    for name in _EVENT_TEXT:
        cand[name] = coerce.text(src[name]) if name in src else None
    cand["due_ts"] = _due(src, mapping, anchor, report)
    cand["trigger_ts"] = _due(src, mapping, anchor, report, field="trigger")
    cand["promise_ts"] = _due(src, mapping, anchor, report, field="promise")
    _case_attributes(
        cand, src, activity_of=coerce.text(src["activity"]), ids=ids, mapping=mapping, report=report
    )

    meta = LogMeta(
        start=anchor.isoformat(),
        horizon_min=float(np.max(ts)),
        scenario=log_name,
        reps=int(len(np.unique(rep))),
        source="replay",
        extra={
            "replay": {"path": log_name, "format": raw.format, "mapping": mapping.source},
            "source_case_ids": {
                str(r): g["source_case_id"].tolist() for r, g in ids.groupby("rep", sort=True)
            },
        },
    )
    return finish(cand, meta, report, dedupe=mapping.dedupe)


def _anchor(mapping: Mapping, stamps: pd.Series) -> pd.Timestamp:
    if mapping.start is not None:
        start = pd.Timestamp(mapping.start)
        return start.tz_localize(mapping.timezone) if start.tzinfo is None else start
    return stamps.min().floor("D")


def _natural(ids: list[str]) -> list[str]:
    """Sorted ids, numerically when they all are integers."""
    try:
        return sorted(ids, key=int)
    except ValueError:
        return sorted(ids)


def _dense_ids(rep: np.ndarray, case: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Dense int ids per rep (natural order of the source ids) and the id table."""
    out = np.zeros(len(case), dtype=np.int64)
    tables = []
    for r in np.unique(rep):
        rows = rep == r
        names = _natural(list(set(case[rows])))
        index = {name: i for i, name in enumerate(names)}
        out[rows] = [index[c] for c in case[rows]]
        tables.append(
            pd.DataFrame({"rep": int(r), "case_id": np.arange(len(names)), "source_case_id": names})
        )
    return pd.concat(tables, ignore_index=True), out


def _severity(src: pd.DataFrame, mapping: Mapping, report: ReplayReport) -> np.ndarray:
    if "severity" not in src:
        return np.full(len(src), None, dtype=object)
    table = {key(s): s for s in SEVERITIES}
    table.update({key(k): v for k, v in mapping.severity_map.items()})
    raw = coerce.text(src["severity"])
    out = np.array([None if v is None else table.get(key(v), "?") for v in raw], dtype=object)
    bad = out == "?"
    report.warn("unknown severity", int(bad.sum()), examples_of(src, bad, ["severity"]))
    out[bad] = None
    return out


def _due(
    src: pd.DataFrame,
    mapping: Mapping,
    anchor: pd.Timestamp,
    report: ReplayReport,
    field: str = "due",
) -> np.ndarray:
    """Minutes since the anchor of a date column (``due``, ``trigger``, ``promise``); NaN when
    absent."""
    if field not in src:
        return np.full(len(src), np.nan)
    stamps = parse_utc(src[field], mapping.timezone, mapping.timestamp_format, mapping.dayfirst)
    given = np.array([v is not None for v in coerce.text(src[field])], dtype=bool)
    bad = given & stamps.isna().to_numpy()
    report.warn(f"unparseable {field} time", int(bad.sum()), examples_of(src, bad, [field]))
    return minutes_since(stamps, anchor)


def _case_attributes(
    cand: pd.DataFrame,
    src: pd.DataFrame,
    activity_of: np.ndarray,
    ids: pd.DataFrame,
    mapping: Mapping,
    report: ReplayReport,
) -> None:
    """Fill the per-case columns with one value per case (first non-null, in time order)."""
    order = np.lexsort((cand["_row"].to_numpy(), cand["ts"].to_numpy()))
    group = [cand["rep"].to_numpy()[order], cand["case_id"].to_numpy()[order]]

    def per_case(values: np.ndarray) -> np.ndarray:
        s = pd.Series(values[order], dtype=object)
        first = s.groupby(group, sort=False).transform("first")
        out = np.empty(len(values), dtype=object)
        out[order] = first.to_numpy(dtype=object)
        return out

    for name in _CASE_TEXT:
        cand[name] = per_case(coerce.text(src[name])) if name in src else None

    category = coerce.text(src["category"]) if "category" in src else np.full(len(src), None)
    if mapping.category_from_activity:
        by_activity = {key(k): v for k, v in mapping.category_from_activity.items()}
        guess = [by_activity.get(key(a)) if a is not None else None for a in activity_of]
        category = np.where([c is None for c in category], guess, category)
    category = per_case(category)
    missing = np.array([c is None for c in category], dtype=bool)
    report.warn("default category", int(missing.sum()), examples_of(cand, missing, ["case_id"]))
    cand["category"] = np.where(missing, mapping.default_category, category)

    if "order_value" in src:
        value, bad = coerce.floats(src["order_value"])
        report.warn(
            "unparseable order_value", int(bad.sum()), examples_of(src, bad, ["order_value"])
        )
        first = per_case(np.where(np.isnan(value), None, value).astype(object))
        cand["order_value"] = np.array([np.nan if v is None else v for v in first], dtype=float)
    else:
        cand["order_value"] = np.nan
    for name in ("trigger_ts", "promise_ts"):
        date = cand[name].to_numpy(dtype=float)
        first = per_case(np.where(np.isnan(date), None, date).astype(object))
        cand[name] = np.array([np.nan if v is None else v for v in first], dtype=float)

    cand["parent_case_id"] = pd.array([pd.NA] * len(cand), dtype="Int64")
    if "parent" in src:
        parent = per_case(coerce.text(src["parent"]))
        lookup = {(int(r), s): int(c) for r, c, s in ids.itertuples(index=False)}
        reps = cand["rep"].to_numpy()
        mapped = [
            None if p is None else lookup.get((int(r), p))
            for r, p in zip(reps, parent, strict=True)
        ]
        lost = np.array([p is not None and m is None for p, m in zip(parent, mapped, strict=True)])
        report.warn("unknown parent case", int(lost.sum()), examples_of(src, lost, ["parent"]))
        cand["parent_case_id"] = pd.array(mapped, dtype="Int64")
