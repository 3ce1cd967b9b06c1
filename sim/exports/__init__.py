"""Exports: the event log written out for other tools.

Each format is a module with one ``to_<format>(df, path)`` function; :func:`export` picks
one by file extension. All writers are atomic (temporary file + rename) and stream rows,
so a large log never sits in memory twice.

- ``.csv``: the exsim columns plus a wall-clock ``time`` column.
- ``.parquet``: the native format (LogMeta in the file metadata).
- ``.xes``: IEEE 1849 XES, one trace per case (ProM, Disco, pm4py, Celonis).
- ``.jsonocel`` / ``.ocel.json`` / ``.json``: OCEL 2.0 JSON, cases, teams and warehouses
  as objects.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.exports.ocel import to_ocel
from sim.exports.tabular import to_csv, to_parquet
from sim.exports.xes import to_xes

__all__ = ["FORMATS", "export", "format_of", "to_csv", "to_ocel", "to_parquet", "to_xes"]

FORMATS: dict[str, Callable[[pd.DataFrame, str | os.PathLike], Path]] = {
    "csv": to_csv,
    "parquet": to_parquet,
    "xes": to_xes,
    "ocel": to_ocel,
}
_SUFFIXES = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".xes": "xes",
    ".jsonocel": "ocel",
    ".ocel.json": "ocel",
    ".json": "ocel",
}


def format_of(path: str | os.PathLike) -> str:
    """Export format named by a file's extension (longest matching suffix wins)."""
    name = Path(path).name.lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIXES[suffix]
    known = ", ".join(_SUFFIXES)
    raise ValueError(f"{path}: unknown export format (extension must be one of {known})")


def export(df: pd.DataFrame, path: str | os.PathLike, fmt: str | None = None) -> Path:
    """Write the log to ``path`` in ``fmt`` (default: guessed from the extension)."""
    fmt = fmt or format_of(path)
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    return FORMATS[fmt](df, path)
