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
from replay.mapping import COMMON_SEVERITIES, Mapping, key
from replay.report import ReplayReport, examples_of
from replay.table import finish
from replay.timestamps import minutes_since, parse_utc
from replay.window import Window
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


def normalize(
    raw: RawLog,
    mapping: Mapping,
    report: ReplayReport,
    log_name: str,
    window: Window | None = None,
) -> pd.DataFrame:
    frame = raw.frame.reset_index(drop=True)
    if frame.empty:
        return frame
    cols = resolve_columns(frame, mapping, log_name)
    src = pd.DataFrame({field: frame[col] for field, col in cols.items()})
    src["_row"] = np.arange(len(src))

    case = coerce.text(src["case_id"])
    if "rep" in src:
        rep, rep_ok = coerce.ints(src["rep"])
        rep_ok &= (rep >= 0) & (rep < 2**31)  # the log's rep column is an int32
        blank = np.array([v is None for v in coerce.text(src["rep"])], dtype=bool)
        rep_ok |= blank
        rep = np.where(rep_ok, rep, 0)
    else:
        rep, rep_ok = np.zeros(len(src), dtype=np.int64), np.ones(len(src), dtype=bool)
    activity = composed_activity(src, mapping)
    event, unknown = _events(src, activity, mapping)
    ignored = ~unknown & np.array([e is None for e in event], dtype=bool)
    stamps = parse_utc(
        src["timestamp"], mapping.timezone, mapping.timestamp_format, mapping.dayfirst
    )
    bad_time = stamps.isna().to_numpy()
    no_case = np.array([c is None for c in case], dtype=bool)
    # a case starts at its first recorded row, whatever its activity: the start is fixed
    # before any row is dropped for its activity
    seen = ~no_case & rep_ok & ~bad_time
    first_seen = _first_seen(rep, case, stamps, seen)
    outside = np.zeros(len(src), dtype=bool)
    if window is not None and window.active:
        outside = ~no_case & rep_ok & ~window.holds(first_seen, mapping.timezone)

    keep = np.ones(len(src), dtype=bool)
    for reason, bad, show in (
        ("missing case id", no_case, ["case_id"]),
        ("bad rep", ~rep_ok, ["rep"]),
        ("case outside --since/--until", outside, ["timestamp"]),
        ("unknown activity", unknown, ["activity"]),
        ("ignored activity", ignored, ["activity"]),
        ("unparseable timestamp", bad_time, ["timestamp"]),
    ):
        hit = keep & bad
        report.drop(reason, int(hit.sum()), examples_of(src, hit, ["case_id", *show]))
        keep &= ~bad
    if not keep.any():
        return frame.iloc[0:0]

    start_of_case = first_seen
    anchor = _anchor(mapping, start_of_case[keep], window)
    ts = minutes_since(stamps, anchor)
    case_start = minutes_since(start_of_case, anchor)
    early = keep & (ts < 0)
    report.drop("before start", int(early.sum()), examples_of(src, early, ["case_id", "timestamp"]))
    keep &= ~early
    if not keep.any():
        return frame.iloc[0:0]

    src, case, rep, event, ts = src[keep], case[keep], rep[keep], event[keep], ts[keep]
    case_start, activity = case_start[keep], activity[keep]
    src = src.reset_index(drop=True)
    cand = pd.DataFrame(
        {"_row": src["_row"].to_numpy(), "rep": rep.astype(np.int64), "ts": ts, "event": event}
    )
    ids, cand["case_id"] = _dense_ids(rep, case)
    report.case_ids = ids
    cand["severity"] = _severity(src, mapping, report)
    for name in _EVENT_TEXT:
        cand[name] = coerce.text(src[name]) if name in src else None
    level = coerce.text(src["level"]) if "level" in src else None
    if level is not None and "team" not in src:
        cand["team"] = level  # the level is who owns the case
    cand["due_ts"] = _due(src, mapping, anchor, report)
    cand["trigger_ts"] = _due(src, mapping, anchor, report, field="trigger")
    cand["promise_ts"] = _due(src, mapping, anchor, report, field="promise")
    _case_attributes(cand, src, activity_of=activity, ids=ids, mapping=mapping, report=report)
    derived = derive_events(cand, case_start, level, mapping)
    for kind, n in derived["event"].value_counts(sort=False).items():
        report.derive(str(kind), int(n))
    cand = pd.concat([cand, derived], ignore_index=True)

    replay_info = {
        "path": log_name,
        "format": raw.format,
        "mapping": mapping.source,
        "timezone": mapping.timezone,
        "source_detects": mapping.source_detects,
        "occurred_from_first_row": int((derived["event"] == "occurred").sum()),
    }
    if mapping.working_hours:
        replay_info["working_hours"] = [w.model_dump() for w in mapping.working_hours]
    if window is not None and window.active:
        replay_info["window"] = window.describe()
    meta = LogMeta(
        start=anchor.tz_convert(mapping.timezone).isoformat(),  # the source's wall clock
        horizon_min=float(cand["ts"].max()),
        scenario=log_name,
        reps=int(len(np.unique(rep))),
        source="replay",
        extra={
            "replay": replay_info,
            "source_case_ids": {
                str(r): g["source_case_id"].tolist() for r, g in ids.groupby("rep", sort=True)
            },
        },
    )
    return finish(cand, meta, report, dedupe=mapping.dedupe)


def composed_activity(src: pd.DataFrame, mapping: Mapping) -> np.ndarray:
    """The activity of each row: one column, or several joined by the separator (blank parts
    left out), as text (None where every part is blank)."""
    parts = [
        coerce.text(src[c]) for c in src.columns if c == "activity" or c.startswith("activity:")
    ]
    if len(parts) == 1:
        return parts[0]
    sep = mapping.activity_separator
    joined = [sep.join(p for p in row if p is not None) or None for row in zip(*parts, strict=True)]
    return np.array(joined, dtype=object)


def _events(
    src: pd.DataFrame, activity: np.ndarray, mapping: Mapping
) -> tuple[np.ndarray, np.ndarray]:
    """(exsim event or None, unknown mask). A composed activity the mapping does not name
    falls back to its first part alone ("In Progress / Working" -> "In Progress")."""
    table = mapping.event_of()
    first = coerce.text(src["activity"])
    looked = []
    for a, head in zip(activity, first, strict=True):
        e = table.get(key(a), "?") if a is not None else "?"
        if e == "?" and head is not None and head != a:
            e = table.get(key(head), "?")
        looked.append(e)
    event = np.array([None if e == "?" else e for e in looked], dtype=object)
    return event, np.array([e == "?" for e in looked], dtype=bool)


def _first_seen(
    rep: np.ndarray, case: np.ndarray, stamps: pd.Series, seen: np.ndarray
) -> pd.Series:
    """Per row, the (UTC) time of its case's first readable row; NaT where it has no case."""
    out = pd.Series(pd.NaT, index=stamps.index, dtype=stamps.dtype)
    if not seen.any():
        return out
    group = pd.Series([f"{r}\x1f{c}" for r, c in zip(rep, case, strict=True)], dtype=object)
    first = stamps[seen].groupby(group[seen].to_numpy(), sort=False).min()
    found = group.map(first)
    out[found.notna().to_numpy()] = found[found.notna()]
    return out


def derive_events(
    cand: pd.DataFrame, case_start: np.ndarray, level: np.ndarray | None, mapping: Mapping
) -> pd.DataFrame:
    """Events the log implies without a row of their own (``_row`` < 0 marks them):

    - ``occurred`` at the case's first recorded row, when no row maps to ``occurred``;
    - ``detected`` there too, when the source system is the detector (``source_detects``)
      and no row maps to ``detected``;
    - ``reassigned`` where the level (or, without a level column, the team) changes, a
      hand-over to another team: detail ``escalation: L1 -> L2`` up the ``levels`` list
      (a functional escalation), else ``level: L2 -> L1``. exsim's ``escalated`` events are
      a ladder's notifications, which a status history does not record;
    - ``resumed`` when work starts again after a hold and the log has no row saying the
      wait ended, as the engine logs it (``on_hold -> resumed -> work_started``).
    """
    order = np.lexsort((cand["_row"].to_numpy(), cand["ts"].to_numpy()))
    rows = cand.iloc[order]
    starts = pd.Series(case_start[order], index=rows.index)
    group = rows["rep"].astype(str) + ":" + rows["case_id"].astype(str)
    head = ~group.duplicated()
    out = []
    events = rows.groupby(group, sort=False)["event"].agg(set)

    def add(base: pd.DataFrame, event: str, ts, actor, detail) -> None:
        if len(base) == 0:
            return
        new = base.copy()
        new["event"], new["ts"], new["actor"], new["detail"] = event, ts, actor, detail
        out.append(new)

    firsts = rows[head.to_numpy()]
    fkeys = group[head.to_numpy()]
    no_occ = np.array(["occurred" not in events[k] for k in fkeys], dtype=bool)
    base = firsts[no_occ].assign(team=None)
    add(base, "occurred", starts[base.index].to_numpy(float), None, "first recorded row")
    if mapping.source_detects:
        no_det = np.array(["detected" not in events[k] for k in fkeys], dtype=bool)
        base = firsts[no_det].assign(team=None)
        add(base, "detected", starts[base.index].to_numpy(float), "source system", "created")

    owner = level[order] if level is not None else rows["team"].to_numpy(dtype=object)
    owner = pd.Series(owner, index=rows.index, dtype=object)
    known = owner.notna().to_numpy()
    if known.any():
        sub, who, g = rows[known], owner[known], group[known]
        before = who.groupby(g.to_numpy(), sort=False).shift(1)
        moved = (before.notna() & (who != before)).to_numpy()
        rank = {key(name): i for i, name in enumerate(mapping.levels)}
        old, new = before[moved].astype(str), who[moved].astype(str)
        up = np.array(
            [
                rank.get(key(a), -1) < rank.get(key(b), -1) and key(b) in rank
                for a, b in zip(old, new, strict=True)
            ],
            dtype=bool,
        )
        detail = np.array(
            [
                f"{'escalation' if u else 'level'}: {a} -> {b}"
                for a, b, u in zip(old, new, up, strict=True)
            ],
            dtype=object,
        )
        base = sub[moved]
        add(base, "reassigned", base["ts"].to_numpy(float), None, detail)
    resumes = _resumes(rows["event"].to_numpy(dtype=object), group.to_numpy())
    base = rows.iloc[resumes]
    add(base, "resumed", base["ts"].to_numpy(float), None, "work started again")
    if not out:
        return cand.iloc[0:0].copy()
    derived = pd.concat(out, ignore_index=True)
    derived["_row"] = -1 - np.arange(len(derived))
    return derived


def _resumes(events: np.ndarray, group: np.ndarray) -> list[int]:
    """Positions (rows in time order, cases interleaved) of the ``work_started`` rows that
    end a hold the log never says was resumed."""
    out, held = [], set()
    for i, (e, g) in enumerate(zip(events, group, strict=True)):
        if e == "on_hold":
            held.add(g)
        elif e in ("resumed", "resolved", "closed"):
            held.discard(g)
        elif e == "work_started" and g in held:
            out.append(i)
            held.discard(g)
    return out


def _anchor(mapping: Mapping, stamps: pd.Series, window: Window | None) -> pd.Timestamp:
    """Minute 0: the mapping's ``start``, else ``--since``, else the first case's midnight on
    the source's own clock (the mapping's time zone)."""
    if mapping.start is not None:
        start = pd.Timestamp(mapping.start)
        return start.tz_localize(mapping.timezone) if start.tzinfo is None else start
    if window is not None and window.since is not None:
        return window.bound(window.since, mapping.timezone)
    return stamps.min().tz_convert(mapping.timezone).normalize().tz_convert("UTC")


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
    table.update(COMMON_SEVERITIES)
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
