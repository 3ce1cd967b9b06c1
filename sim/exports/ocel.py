"""OCEL 2.0 export (JSON): the log as events related to objects, for object-centric mining.

An exception case is an object of type ``case``; its fixed attributes (case id, rep,
category, order value, tier, warehouse, site, parent case, ``trigger``: the record's
trigger date, a time, and ``promise``: the date promised to the customer, a time) are object
attributes. The teams that own cases and the warehouses they belong to are objects too. Each
event relates to its case (qualifier ``case``), its warehouse (``at``) and, once routed, the
owning team (``owner``); a case relates to its warehouse (``located at``) and to the case
that caused it (``caused by``). Per-event facts (severity, actor, detail, SLA due time) are
event attributes.

OCEL 2.0 JSON has no place for log-level metadata, so the LogMeta goes in an extra
top-level ``"exsim"`` key, which OCEL readers ignore and replay uses to read the file back
exactly. The JSON is streamed object by object, not built in memory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from sim.exports.atomic import atomic_text
from sim.exports.clock import iso_times, start_of
from sim.exports.tabular import require_meta

#: Top-level key holding the LogMeta (not part of OCEL 2.0; readers skip unknown keys).
META_KEY = "exsim"
#: Time stamped on case attributes, which never change (OCEL's convention for static values).
STATIC_TIME = "1970-01-01T00:00:00Z"

_EVENT_ATTRIBUTES = [
    {"name": "severity", "type": "string"},
    {"name": "actor", "type": "string"},
    {"name": "detail", "type": "string"},
    {"name": "due", "type": "time"},
]
_CASE_ATTRIBUTES = [
    {"name": "case_id", "type": "integer"},
    {"name": "rep", "type": "integer"},
    {"name": "category", "type": "string"},
    {"name": "order_value", "type": "float"},
    {"name": "customer_tier", "type": "string"},
    {"name": "warehouse", "type": "string"},
    {"name": "site", "type": "string"},
    {"name": "parent_case_id", "type": "integer"},
    {"name": "trigger", "type": "time"},
    {"name": "promise", "type": "time"},
]


def case_object_id(rep: int, case: int, multi_rep: bool) -> str:
    return f"{int(rep)}:{int(case)}" if multi_rep else str(int(case))


def _values(col: pd.Series) -> np.ndarray:
    """Python values of a column with None for nulls (categoricals mapped per category)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = np.array([*map(str, col.cat.categories), None], dtype=object)
        return cats[col.cat.codes.to_numpy()]
    return np.array([None if pd.isna(v) else v for v in col], dtype=object)


def _dump(item: dict) -> str:
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def _chunks(df: pd.DataFrame) -> Iterator[str]:
    meta = require_meta(df, "OCEL")
    start = start_of(meta)
    n = len(df)
    rep = df["rep"].to_numpy()
    case = df["case_id"].to_numpy()
    multi_rep = n > 0 and rep.min() != rep.max()
    times = iso_times(df["ts"].to_numpy(dtype=float), start)
    due = iso_times(df["due_ts"].to_numpy(dtype=float), start)
    event, severity, team, actor, detail, warehouse = (
        _values(df[c]) for c in ("event", "severity", "team", "actor", "detail", "warehouse")
    )
    events_present = sorted(set(df["event"].dropna().astype(str)))

    yield "{\n"
    yield '"objectTypes":' + _dump(
        [
            {"name": "case", "attributes": _CASE_ATTRIBUTES},
            {"name": "team", "attributes": []},
            {"name": "warehouse", "attributes": [{"name": "site", "type": "string"}]},
        ]
    )
    yield ',\n"eventTypes":' + _dump(
        [{"name": e, "attributes": _EVENT_ATTRIBUTES} for e in events_present]
    )
    yield ',\n"objects":[\n'
    first = True
    for obj in _objects(df, multi_rep, start):
        yield ("" if first else ",\n") + _dump(obj)
        first = False
    yield '\n],\n"events":[\n'
    for i in range(n):
        attrs = [
            {"name": name, "value": values[i]}
            for name, values in (
                ("severity", severity),
                ("actor", actor),
                ("detail", detail),
                ("due", due),
            )
            if values[i] is not None
        ]
        rels = [{"objectId": case_object_id(rep[i], case[i], multi_rep), "qualifier": "case"}]
        if team[i] is not None:
            rels.append({"objectId": f"team:{team[i]}", "qualifier": "owner"})
        if warehouse[i] is not None:
            rels.append({"objectId": f"warehouse:{warehouse[i]}", "qualifier": "at"})
        item = {"id": f"e{i}", "type": event[i], "time": times[i]}
        item["attributes"] = attrs
        item["relationships"] = rels
        yield ("" if i == 0 else ",\n") + _dump(item)
    yield f'\n],\n"{META_KEY}":' + _dump(asdict(meta)) + "\n}\n"


def _objects(df: pd.DataFrame, multi_rep: bool, start: pd.Timestamp) -> Iterator[dict]:
    cases = df.drop_duplicates(["rep", "case_id"])
    rep, case = cases["rep"].to_numpy(), cases["case_id"].to_numpy()
    category, tier, warehouse, site = (
        _values(cases[c]) for c in ("category", "customer_tier", "warehouse", "site")
    )
    value = cases["order_value"].to_numpy(dtype=float)
    parent = cases["parent_case_id"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    trigger = iso_times(cases["trigger_ts"].to_numpy(dtype=float), start)
    promise = iso_times(cases["promise_ts"].to_numpy(dtype=float), start)
    for i in range(len(cases)):
        attrs = [
            {"name": "case_id", "value": int(case[i]), "time": STATIC_TIME},
            {"name": "rep", "value": int(rep[i]), "time": STATIC_TIME},
        ]
        if category[i] is not None:
            attrs.append({"name": "category", "value": category[i], "time": STATIC_TIME})
        if np.isfinite(value[i]):
            attrs.append({"name": "order_value", "value": float(value[i]), "time": STATIC_TIME})
        for name, values in (("customer_tier", tier), ("warehouse", warehouse), ("site", site)):
            if values[i] is not None:
                attrs.append({"name": name, "value": values[i], "time": STATIC_TIME})
        if np.isfinite(parent[i]):
            attrs.append({"name": "parent_case_id", "value": int(parent[i]), "time": STATIC_TIME})
        if trigger[i] is not None:
            attrs.append({"name": "trigger", "value": trigger[i], "time": STATIC_TIME})
        if promise[i] is not None:
            attrs.append({"name": "promise", "value": promise[i], "time": STATIC_TIME})
        rels = []
        if warehouse[i] is not None:
            rels.append({"objectId": f"warehouse:{warehouse[i]}", "qualifier": "located at"})
        if np.isfinite(parent[i]):
            parent_id = case_object_id(rep[i], parent[i], multi_rep)
            rels.append({"objectId": parent_id, "qualifier": "caused by"})
        yield {
            "id": case_object_id(rep[i], case[i], multi_rep),
            "type": "case",
            "attributes": attrs,
            "relationships": rels,
        }
    for name in sorted(set(df["team"].dropna().astype(str))):
        yield {"id": f"team:{name}", "type": "team", "attributes": [], "relationships": []}
    sites = cases.dropna(subset=["warehouse"]).drop_duplicates("warehouse")
    for wh, st in zip(_values(sites["warehouse"]), _values(sites["site"]), strict=True):
        attrs = [] if st is None else [{"name": "site", "value": st, "time": STATIC_TIME}]
        yield {
            "id": f"warehouse:{wh}",
            "type": "warehouse",
            "attributes": attrs,
            "relationships": [],
        }


def to_ocel(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write the log as an OCEL 2.0 JSON file."""
    with atomic_text(path) as fh:
        for chunk in _chunks(df):
            fh.write(chunk)
    return Path(path)
