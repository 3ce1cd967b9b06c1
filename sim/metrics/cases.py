"""The case table: one row per exception case, folded out of the event log.

The log says what happened to a case, one row at a time; most KPIs ask about whole cases (how
long from occurrence to detection, was it resolved before its deadline). ``case_table`` folds
the rows into one row per (rep, case_id) holding the first time of each lifecycle event, a few
event counts and the case's attributes. It works on integer codes with numpy scatter
operations, never a Python loop per case, because a log can hold millions of rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.eventlog import EVENT_CODE, EVENTS, SEVERITIES, LogMeta

#: Events whose first time becomes a column of the case table.
TIMED_EVENTS: tuple[str, ...] = (
    "occurred",
    "detected",
    "classified",
    "assigned",
    "acknowledged",
    "work_started",
    "resolved",
    "closed",
    "approval_requested",
    "approved",
)
#: Events whose row count per case becomes an ``n_<event>`` column.
COUNTED_EVENTS: tuple[str, ...] = ("detected", "escalated", "suppressed")
#: Attributes fixed when the case is opened: any of its rows carries them.
FIXED_COLUMNS: tuple[str, ...] = ("category", "customer_tier", "warehouse", "site")
SEVERITY_DTYPE = pd.CategoricalDtype(list(SEVERITIES), ordered=True)


def log_meta(df: pd.DataFrame) -> LogMeta:
    """The log's :class:`LogMeta`; a frame built by hand without one gets its last ts as horizon."""
    meta = df.attrs.get("meta")
    if isinstance(meta, LogMeta):
        return meta
    horizon = float(df["ts"].max()) if len(df) else 0.0
    return LogMeta(start="1970-01-01T00:00:00", horizon_min=horizon)


def as_category(series: pd.Series) -> pd.Series:
    """The column as a categorical (logs read with ``read_log`` already are)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series
    return series.astype("category")


def codes_of(series: pd.Series, categories: tuple[str, ...] | None = None) -> np.ndarray:
    """Integer codes of a string column (-1 for null), optionally against fixed ``categories``.

    Arrow dictionaries are per chunk, so the order of a column's categories is not the order of
    ``EVENTS``; remapping here lets the rest of the package index by ``EVENT_CODE``.
    """
    series = as_category(series)
    codes = series.cat.codes.to_numpy()
    if categories is None:
        return codes
    wanted = {name: i for i, name in enumerate(categories)}
    small = np.int16 if len(categories) < 1 << 15 else np.int64  # 2 bytes a row, not 8
    lookup = np.array([wanted.get(c, -1) for c in series.cat.categories] + [-1], dtype=small)
    return lookup[codes]  # code -1 picks the trailing -1


def event_codes(df: pd.DataFrame) -> np.ndarray:
    """``EVENT_CODE`` of every row (-1 for an unknown event name)."""
    return codes_of(df["event"], EVENTS)


class _TimeOrder:
    """Rows in (rep, ts) order, ties kept in row order, and each row's rank in that order.

    Logs are written in time order, so this is usually the identity and costs one check.
    """

    def __init__(self, rep: np.ndarray, ts: np.ndarray) -> None:
        n = len(ts)
        d_rep = np.diff(rep)
        self.rows = np.arange(n)
        self.rank = self.rows
        if not (((np.diff(ts) >= 0) | (d_rep > 0)).all() and (d_rep >= 0).all()):
            self.rows = np.lexsort((ts, rep))
            self.rank = np.empty(n, dtype=np.int64)
            self.rank[self.rows] = np.arange(n)

    def first_where(self, group: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
        """Per group, the row where ``mask`` holds that comes first in time (-1 if none)."""
        rows = np.flatnonzero(mask)
        first = np.full(k, len(self.rows), dtype=np.int64)
        np.minimum.at(first, group[rows], self.rank[rows])
        found = first < len(self.rows)
        first[~found] = -1
        first[found] = self.rows[first[found]]
        return first

    def last_where(self, group: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
        """Per group, the row where ``mask`` holds that comes last in time (-1 if none)."""
        rows = np.flatnonzero(mask)
        last = np.full(k, -1, dtype=np.int64)
        np.maximum.at(last, group[rows], self.rank[rows])
        found = last >= 0
        last[found] = self.rows[last[found]]
        return last


def _take(values: np.ndarray, idx: np.ndarray, fill: float = np.nan) -> np.ndarray:
    out = np.full(len(idx), fill, dtype=float)
    ok = idx >= 0
    out[ok] = values[idx[ok]]
    return out


def case_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (rep, case_id), sorted by both.

    Columns: ``rep``, ``case_id``; the first ts of each of ``TIMED_EVENTS`` (NaN if it never
    happened); ``n_detected``, ``n_escalated``, ``n_suppressed`` row counts; the fixed
    attributes (category, order_value, customer_tier, warehouse, site, parent_case_id); and the
    last non-null ``severity``, ``team`` and ``due`` (due_ts), since classification and routing
    can change along the way; ``detected_by``, the actor of the first detection (the mechanism
    that caught the case; later detections are duplicates), null for a missed case.
    """
    rep = df["rep"].to_numpy(dtype=np.int64)
    ts = df["ts"].to_numpy(dtype=float)
    time = _TimeOrder(rep, ts)  # "last" severity, team, due means last in time
    case = df["case_id"].to_numpy(dtype=np.int64)
    n = len(df)

    span = int(case.max()) + 1 if n else 1
    group, keys = pd.factorize(rep * span + case)
    k = len(keys)
    ev = event_codes(df)
    known = ev >= 0

    first = np.full(k * len(EVENTS), np.inf)
    np.minimum.at(first, group[known] * len(EVENTS) + ev[known], ts[known])
    first[np.isinf(first)] = np.nan
    first = first.reshape(k, len(EVENTS))

    out: dict[str, object] = {"rep": keys // span, "case_id": keys % span}
    for name in TIMED_EVENTS:
        out[name] = first[:, EVENT_CODE[name]]
    for name in COUNTED_EVENTS:
        out[f"n_{name}"] = np.bincount(group[ev == EVENT_CODE[name]], minlength=k)

    any_row = np.empty(k, dtype=np.int64)
    any_row[group] = np.arange(n)  # fixed attributes: any row of the case will do
    for col in FIXED_COLUMNS:
        cat = as_category(df[col])
        out[col] = pd.Categorical.from_codes(codes_of(cat)[any_row], cat.cat.categories)
    out["order_value"] = df["order_value"].to_numpy(dtype=float, na_value=np.nan)[any_row]
    out["parent_case_id"] = pd.array(df["parent_case_id"].array[any_row], dtype="Int64")

    sev = codes_of(df["severity"], SEVERITIES)
    last_sev = time.last_where(group, sev >= 0, k)
    sev_codes = np.where(last_sev >= 0, sev[np.maximum(last_sev, 0)], -1)
    out["severity"] = pd.Categorical.from_codes(sev_codes, dtype=SEVERITY_DTYPE)
    team = as_category(df["team"])
    team_codes = codes_of(team)
    last_team = time.last_where(group, team_codes >= 0, k)
    out["team"] = pd.Categorical.from_codes(
        np.where(last_team >= 0, team_codes[np.maximum(last_team, 0)], -1), team.cat.categories
    )
    actor = as_category(df["actor"])
    first_det = time.first_where(group, ev == EVENT_CODE["detected"], k)
    out["detected_by"] = pd.Categorical.from_codes(
        np.where(first_det >= 0, codes_of(actor)[np.maximum(first_det, 0)], -1),
        actor.cat.categories,
    )
    due = df["due_ts"].to_numpy(dtype=float, na_value=np.nan)
    out["due"] = _take(due, time.last_where(group, ~np.isnan(due), k))

    table = pd.DataFrame(out)
    return table.sort_values(["rep", "case_id"], ignore_index=True)
