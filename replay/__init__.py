"""Replay: real event logs read into exsim's event-log schema.

``load_log(path, mapping=None)`` reads CSV, Parquet, XES or OCEL 2.0 JSON and returns an
exsim log DataFrame (exactly ``sim.eventlog``'s columns and types, LogMeta in
``df.attrs['meta']``) together with a :class:`ReplayReport` that accounts for every input
row. A log exsim wrote itself needs no mapping; anything else is described by a small
mapping file (see :mod:`replay.mapping`). Bad input raises :class:`ReplayInputError`, whose
message names the file and the field (the CLI exits with code 2).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pandas as pd

from replay.errors import ReplayInputError
from replay.formats import RawLog, read
from replay.mapping import Mapping, load_mapping, parse_mapping
from replay.native import from_exsim
from replay.normalize import normalize
from replay.report import ReplayReport
from replay.window import Window, select_cases

__all__ = [
    "Mapping",
    "ReplayInputError",
    "ReplayReport",
    "load_log",
    "load_mapping",
    "map_frame",
    "parse_mapping",
]

#: Field names pm4py and XES/OCEL tools use, tried when a log comes without a mapping.
_PROCESS_MINING_COLUMNS = {
    "case_id": "case:concept:name",
    "timestamp": "time:timestamp",
    "activity": "concept:name",
    "team": "org:group",
    "actor": "org:resource",
    "category": "case:category",
    "severity": "severity",
    "detail": "detail",
    "order_value": "case:order_value",
    "customer_tier": "case:customer_tier",
    "warehouse": "case:warehouse",
    "site": "case:site",
    "trigger": "case:trigger",
    "promise": "case:promise",
}


def load_log(
    path: str | os.PathLike,
    mapping: Mapping | str | os.PathLike | None = None,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
) -> tuple[pd.DataFrame, ReplayReport]:
    """Read a log file into an exsim event log; ``mapping`` is a Mapping or a YAML path.

    ``since``/``until`` (ISO dates or datetimes) keep the whole cases whose first recorded
    row lies in ``[since, until)`` (see :mod:`replay.window`).
    """
    path = Path(path)
    window = _window(since, until)
    if mapping is not None and not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping)
    raw = read(path, mapping.case_object_type if mapping else "case")
    return _replay(raw, mapping, path.name, str(path), window)


def map_frame(
    frame: pd.DataFrame,
    mapping: Mapping | str | os.PathLike,
    name: str = "frame",
    since: str | datetime | None = None,
    until: str | datetime | None = None,
) -> tuple[pd.DataFrame, ReplayReport]:
    """Map a raw DataFrame already in memory (e.g. from a database query) like a file."""
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping)
    return _replay(RawLog(frame, "frame"), mapping, name, name, _window(since, until))


def _window(since, until) -> Window:
    if isinstance(since, datetime) or isinstance(until, datetime):
        return Window(since, until)  # type: ignore[arg-type]
    return Window.parse(since, until)


def _replay(
    raw: RawLog, mapping: Mapping | None, name: str, where: str, window: Window
) -> tuple[pd.DataFrame, ReplayReport]:
    report = ReplayReport(path=where, format=raw.format)
    report.rows_read = len(raw.frame) + sum(n for n, _ in raw.lost.values())
    for reason, (n, examples) in raw.lost.items():
        report.drop(reason, n, examples)
    if mapping is None and raw.native:
        report.native = True
        df = from_exsim(raw, report, name)
        if window.active and len(df):
            df = select_cases(df, window, report)
    else:
        mapping = mapping or _default_mapping(raw, name)
        df = normalize(raw, mapping, report, name, window)
    if report.rows_kept == 0 or len(df) == 0:
        reasons = ", ".join(f"{r}: {n}" for r, n in report.dropped.items()) or "no rows"
        raise ReplayInputError(f"{name}: no usable rows ({report.rows_read} read; {reasons})")
    return df, report


def _default_mapping(raw: RawLog, name: str) -> Mapping:
    """For XES/OCEL without a mapping: the standard process-mining attribute names."""
    if raw.format not in ("xes", "ocel"):
        raise ReplayInputError(
            f"{name}: not an exsim log (it lacks exsim's columns); pass a mapping file"
            " that names the case id, timestamp and activity columns"
        )
    present = set(raw.frame.columns)
    for required in ("case:concept:name", "time:timestamp", "concept:name"):
        if required not in present:
            raise ReplayInputError(f"{name}: no '{required}' attribute; pass a mapping file")
    columns = {k: v for k, v in _PROCESS_MINING_COLUMNS.items() if v in present}
    return parse_mapping({"columns": columns}, f"{name} (default mapping)")
