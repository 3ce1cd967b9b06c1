"""OCEL 2.0 JSON logs, flattened onto one object type: the cases.

An object-centric log has no single case notion; replay needs one, so events are joined to
their related objects of the mapping's ``case_object_type`` (default ``case``): one row per
(event, case object), as pm4py's flattening does. An event related to no such object still
yields a row (without a case id) so that it is counted when it is dropped. The case
object's attributes become ``case:<name>`` (latest listed value), the ids of other related
objects ``object:<type>``.

A file exsim wrote carries its LogMeta under the top-level ``"exsim"`` key.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from replay.errors import ReplayInputError
from replay.formats import RawLog, open_text
from replay.timestamps import minutes_since, parse_utc
from sim.eventlog import LogMeta
from sim.exports.clock import start_of
from sim.exports.ocel import META_KEY


def read_ocel(path: Path, case_object_type: str = "case") -> RawLog:
    try:
        with open_text(path, encoding="utf-8-sig") as fh:
            doc = json.load(fh)
    except (json.JSONDecodeError, UnicodeError) as exc:
        raise ReplayInputError(f"{path.name}: not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("events"), list):
        raise ReplayInputError(f"{path.name}: not an OCEL 2.0 JSON file (no 'events' list)")
    objects = _objects(doc.get("objects"))
    rows = []
    for item in doc["events"]:
        item = item if isinstance(item, dict) else {}
        base = {
            "ocel:eid": item.get("id"),
            "concept:name": item.get("type"),
            "time:timestamp": item.get("time"),
        }
        for attr in _list(item.get("attributes")):
            if "name" in attr:
                base[str(attr["name"])] = attr.get("value")
        cases = []
        for rel in _list(item.get("relationships")):
            oid = rel.get("objectId")
            otype, attrs = objects.get(oid, (None, {}))
            if otype == case_object_type:
                cases.append((oid, attrs))
            elif otype is not None:
                base.setdefault(f"object:{otype}", oid)
        if not cases:
            rows.append(base)
        for oid, attrs in cases:
            rows.append({**base, "case:concept:name": oid, **attrs})
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    meta = _meta(doc.get(META_KEY))
    if meta is not None and case_object_type == "case":
        return RawLog(frame, "ocel", exsim=lambda: _as_exsim(frame, meta), meta=meta)
    return RawLog(frame, "ocel")


def _list(value: object) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _objects(items: object) -> dict[str, tuple[str, dict]]:
    """Object id -> (type, {'case:<attribute>': latest listed value})."""
    out: dict[str, tuple[str, dict]] = {}
    for obj in _list(items):
        attrs = {
            f"case:{a['name']}": a.get("value") for a in _list(obj.get("attributes")) if "name" in a
        }
        oid = obj.get("id")
        if isinstance(oid, str | int):
            out[oid] = (str(obj.get("type")), attrs)
    return out


def _meta(raw: object) -> LogMeta | None:
    if not isinstance(raw, dict):
        return None
    try:
        return LogMeta(**raw)
    except TypeError:
        return None


def _strip(values: pd.Series, prefix: str) -> pd.Series:
    return values.map(lambda v: v.removeprefix(prefix) if isinstance(v, str) else v)


def _as_exsim(frame: pd.DataFrame, meta: LogMeta) -> pd.DataFrame:
    """A frame exsim wrote (see sim.exports.ocel) back under exsim's column names."""
    n = len(frame)
    none = pd.Series([None] * n, dtype=object)

    def get(name: str) -> pd.Series:
        return frame[name].astype(object) if name in frame.columns else none

    start = start_of(meta)
    return pd.DataFrame(
        {
            "rep": get("case:rep").to_numpy(),
            "case_id": get("case:case_id").to_numpy(),
            "ts": minutes_since(parse_utc(get("time:timestamp")), start),
            "event": get("concept:name").to_numpy(),
            "category": get("case:category").to_numpy(),
            "severity": get("severity").to_numpy(),
            "team": _strip(get("object:team"), "team:").to_numpy(),
            "actor": get("actor").to_numpy(),
            "detail": get("detail").to_numpy(),
            "due_ts": minutes_since(parse_utc(get("due")), start),
            "trigger_ts": minutes_since(parse_utc(get("case:trigger")), start),
            "promise_ts": minutes_since(parse_utc(get("case:promise")), start),
            "order_value": get("case:order_value").to_numpy(),
            "customer_tier": get("case:customer_tier").to_numpy(),
            "warehouse": get("case:warehouse").to_numpy(),
            "site": get("case:site").to_numpy(),
            "parent_case_id": get("case:parent_case_id").to_numpy(),
        }
    )
