"""XES logs (IEEE 1849), read as a stream.

XES files from ProM, Disco or Celonis run to gigabytes, so the file is walked with
``iterparse`` and each trace is dropped from memory once its events are collected. Only
top-level attributes of the log, traces and events are read (nested list/container values
are skipped). Rows are flattened the way pm4py does it: trace attributes as ``case:<key>``,
event attributes under their own keys. Every value is kept as text.

A file exsim wrote carries its LogMeta in the log attribute ``exsim.meta`` and is read as
exsim's own schema.
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import IO

import pandas as pd

from replay.errors import ReplayInputError
from replay.formats import RawLog
from replay.timestamps import minutes_since, parse_utc
from sim.eventlog import LogMeta
from sim.exports.clock import start_of
from sim.exports.xes import META_KEY

_ATTRIBUTES = {"string", "date", "int", "float", "boolean", "id"}


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def read_xes(path: Path) -> RawLog:
    rows: list[dict] = []
    log_attrs: dict[str, str] = {}
    trace_attrs: dict[str, str] = {}
    trace_events: list[dict] = []
    event: dict[str, str] | None = None
    stack: list[str] = []
    root = None
    try:
        with _open(path) as fh:
            for kind, el in ET.iterparse(fh, events=("start", "end")):
                tag = el.tag.rsplit("}", 1)[-1]
                if kind == "start":
                    if root is None:
                        root = el
                    stack.append(tag)
                    if tag == "trace":
                        trace_attrs, trace_events = {}, []
                    elif tag == "event":
                        event = {}
                    continue
                stack.pop()
                parent = stack[-1] if stack else None
                if tag in _ATTRIBUTES:
                    k, v = el.get("key"), el.get("value")
                    if k is None:
                        continue
                    if parent == "event" and event is not None:
                        event[k] = v
                    elif parent == "trace":
                        trace_attrs[f"case:{k}"] = v
                    elif parent == "log":
                        log_attrs[k] = v
                elif tag == "event" and event is not None:
                    if parent == "trace":
                        trace_events.append(event)
                    elif parent == "log":  # not valid XES, but keep the row so it is counted
                        rows.append(event)
                    event = None
                elif tag == "trace":
                    rows.extend({**trace_attrs, **e} for e in trace_events)
                    el.clear()
                    if root is not None:
                        root.clear()  # drop finished traces; the log's attributes are read
    except ET.ParseError as exc:
        raise ReplayInputError(f"{path.name}: not valid XES/XML: {exc}") from None
    except (OSError, EOFError) as exc:
        raise ReplayInputError(f"{path.name}: cannot read: {exc}") from None
    if root is None or root.tag.rsplit("}", 1)[-1] != "log":
        raise ReplayInputError(f"{path.name}: not an XES file (the root element is not <log>)")
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    meta = _meta(log_attrs.get(META_KEY))
    if meta is not None:
        return RawLog(frame, "xes", exsim=lambda: _as_exsim(frame, meta), meta=meta)
    return RawLog(frame, "xes")


def _meta(raw: str | None) -> LogMeta | None:
    if raw is None:
        return None
    try:
        return LogMeta.from_bytes(raw.encode())
    except (ValueError, TypeError):
        return None


def _as_exsim(frame: pd.DataFrame, meta: LogMeta) -> pd.DataFrame:
    """A frame exsim wrote (see sim.exports.xes) back under exsim's column names."""
    get = frame.get
    n = len(frame)
    none = pd.Series([None] * n, dtype=object)
    names = get("case:concept:name", none).astype(object)
    case = names.map(lambda v: v.rsplit(":", 1)[-1] if isinstance(v, str) else v)
    parent = get("case:parent", none).astype(object)
    parent = parent.map(lambda v: v.rsplit(":", 1)[-1] if isinstance(v, str) else v)
    start = start_of(meta)
    ts = minutes_since(parse_utc(get("time:timestamp", none)), start)
    due = minutes_since(parse_utc(get("due", none)), start)
    trigger = minutes_since(parse_utc(get("case:trigger", none)), start)
    promise = minutes_since(parse_utc(get("case:promise", none)), start)
    return pd.DataFrame(
        {
            "rep": get("case:rep", pd.Series(["0"] * n, dtype=object)).to_numpy(),
            "case_id": case.to_numpy(),
            "ts": ts,
            "event": get("concept:name", none).to_numpy(),
            "category": get("case:category", none).to_numpy(),
            "severity": get("severity", none).to_numpy(),
            "team": get("org:group", none).to_numpy(),
            "actor": get("org:resource", none).to_numpy(),
            "detail": get("detail", none).to_numpy(),
            "due_ts": due,
            "trigger_ts": trigger,
            "promise_ts": promise,
            "order_value": get("case:order_value", none).to_numpy(),
            "customer_tier": get("case:customer_tier", none).to_numpy(),
            "warehouse": get("case:warehouse", none).to_numpy(),
            "site": get("case:site", none).to_numpy(),
            "parent_case_id": parent.to_numpy(),
        }
    )
