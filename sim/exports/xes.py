"""XES export (IEEE 1849-2016): one trace per exception case, for ProM, Disco, pm4py, Celonis.

XES is case-centric: a trace is one case (``concept:name`` = case id) and carries the
case's fixed attributes, among them the record's trigger date as the date ``trigger``
(the scheduled date that time rules and scans measure from) and the date promised to the
customer as the date ``promise``; its events carry what
changes (event name, time, who, which team, severity). exsim's ``actor`` and ``team`` are
the Organizational extension's ``org:resource`` and ``org:group``. The log's
:class:`~sim.eventlog.LogMeta` rides along as the log attribute ``exsim.meta`` so that replay
can read the file back exactly.

The file is streamed trace by trace with escaped strings; no DOM is built, so memory stays
flat however large the log.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from sim.exports.atomic import atomic_text
from sim.exports.clock import iso_times, start_of
from sim.exports.tabular import require_meta

#: Log attribute holding the LogMeta JSON.
META_KEY = "exsim.meta"
#: Trace attribute holding the record's trigger date (``trigger_ts``), as a date.
TRIGGER_KEY = "trigger"
#: Trace attribute holding the date promised to the customer (``promise_ts``), as a date.
PROMISE_KEY = "promise"

_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <global scope="trace">
    <string key="concept:name" value="__INVALID__"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <classifier name="Activity by team" keys="concept:name org:group"/>
"""


# Characters XML 1.0 forbids even when escaped; replaced so a stray byte cannot break a file.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_value(value: object) -> str:
    """A quoted, escaped XML attribute value."""
    return quoteattr(_ILLEGAL.sub("\ufffd", str(value)))


def _strings(col: pd.Series) -> np.ndarray:
    """Escaped XML attribute values (with quotes) of a column; None where null.

    Categorical columns are escaped once per category, not once per row.
    """
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = np.array([xml_value(c) for c in col.cat.categories] + [None], dtype=object)
        return cats[col.cat.codes.to_numpy()]  # code -1 (null) picks the trailing None
    return np.array([None if pd.isna(v) else xml_value(v) for v in col], dtype=object)


def _attr(kind: str, key: str, value: str | None) -> str:
    return "" if value is None else f'<{kind} key="{key}" value={value}/>'


def _trace_name(rep: int, case: int, multi_rep: bool) -> str:
    """Case id, prefixed with the replication (``rep:case``) when the log has several."""
    return f"{int(rep)}:{int(case)}" if multi_rep else str(int(case))


def _lines(df: pd.DataFrame) -> Iterator[str]:
    meta = require_meta(df, "XES")
    start = start_of(meta)
    n = len(df)
    rep = df["rep"].to_numpy()
    case = df["case_id"].to_numpy()
    order = np.lexsort((np.arange(n), df["ts"].to_numpy(), case, rep))
    times = iso_times(df["ts"].to_numpy(dtype=float), start)
    due = iso_times(df["due_ts"].to_numpy(dtype=float), start)
    trigger = iso_times(df["trigger_ts"].to_numpy(dtype=float), start)
    promise = iso_times(df["promise_ts"].to_numpy(dtype=float), start)
    event, severity, team, actor, detail = (
        _strings(df[c]) for c in ("event", "severity", "team", "actor", "detail")
    )
    category, tier, warehouse, site = (
        _strings(df[c]) for c in ("category", "customer_tier", "warehouse", "site")
    )
    value = df["order_value"].to_numpy(dtype=float)
    parent = df["parent_case_id"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)

    yield _HEADER
    yield f'  <string key="concept:name" value={xml_value(meta.scenario or "exsim")}/>\n'
    yield f"  <string key={quoteattr(META_KEY)} value={xml_value(meta.to_bytes().decode())}/>\n"
    multi_rep = n > 0 and rep.min() != rep.max()
    bounds = np.flatnonzero(np.diff(rep[order]) != 0) if n else []
    bounds = np.union1d(bounds, np.flatnonzero(np.diff(case[order]) != 0)) + 1
    for rows in np.split(order, bounds) if n else []:
        i = rows[0]
        head = [
            "  <trace>",
            f'<string key="concept:name" value="{_trace_name(rep[i], case[i], multi_rep)}"/>',
            f'<int key="rep" value="{int(rep[i])}"/>',
            _attr("string", "category", category[i]),
            _attr("string", "customer_tier", tier[i]),
            _attr("string", "warehouse", warehouse[i]),
            _attr("string", "site", site[i]),
        ]
        if np.isfinite(value[i]):
            head.append(f'<float key="order_value" value="{float(value[i])!r}"/>')
        if np.isfinite(parent[i]):
            name = _trace_name(rep[i], parent[i], multi_rep)
            head.append(f'<string key="parent" value="{name}"/>')
        if trigger[i] is not None:
            head.append(f'<date key="{TRIGGER_KEY}" value="{trigger[i]}"/>')
        if promise[i] is not None:
            head.append(f'<date key="{PROMISE_KEY}" value="{promise[i]}"/>')
        parts = ["".join(head), "\n"]
        for j in rows:
            parts.append(
                "    <event>"
                f'<string key="concept:name" value={event[j]}/>'
                f'<date key="time:timestamp" value="{times[j]}"/>'
                + _attr("string", "org:resource", actor[j])
                + _attr("string", "org:group", team[j])
                + _attr("string", "severity", severity[j])
                + _attr("string", "detail", detail[j])
                + (f'<date key="due" value="{due[j]}"/>' if due[j] is not None else "")
                + "</event>\n"
            )
        parts.append("  </trace>\n")
        yield "".join(parts)
    yield "</log>\n"


def to_xes(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write the log as an XES file, one trace per (rep, case_id)."""
    with atomic_text(path) as fh:
        for chunk in _lines(df):
            fh.write(chunk)
    return Path(path)
