"""Readers: one module per file format, each turning a file into a :class:`RawLog`.

A raw log is the file's rows as a DataFrame with the source's own column names (XES and
OCEL are flattened to pm4py's names: ``case:concept:name``, ``concept:name``,
``time:timestamp``, ``case:<attribute>``), plus what the file says about itself: whether
exsim wrote it (then it carries exsim's columns and needs no mapping) and its LogMeta.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pandas as pd

from replay.errors import ReplayInputError
from sim.eventlog import LogMeta


@dataclass
class RawLog:
    frame: pd.DataFrame
    format: str
    #: For a file exsim wrote: builds its rows under exsim's column names (ts in minutes).
    exsim: Callable[[], pd.DataFrame] | None = None
    meta: LogMeta | None = None
    #: rows lost while reading (malformed CSV lines...): reason -> (count, examples)
    lost: dict[str, tuple[int, list[dict]]] = field(default_factory=dict)

    @property
    def native(self) -> bool:
        return self.exsim is not None


_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".csv.gz": "csv",
    ".tsv.gz": "csv",
    ".txt.gz": "csv",
    ".jsonocel.gz": "ocel",
    ".json.gz": "ocel",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xes": "xes",
    ".xes.gz": "xes",
    ".jsonocel": "ocel",
    ".ocel.json": "ocel",
    ".json": "ocel",
}


def open_text(path: Path, **options) -> IO[str]:
    """A text handle on ``path``, through gzip when the name ends in ``.gz``."""
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", **options)
    return open(path, **options)


#: What reading a damaged compressed file raises.
GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)


def format_of(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIXES[suffix]
    raise ReplayInputError(
        f"{path.name}: unknown log format (extension one of {', '.join(_SUFFIXES)})"
    )


def read(path: str | os.PathLike, case_object_type: str = "case") -> RawLog:
    """Read any supported log file into a raw frame."""
    from replay.formats import ocel, tabular, xes

    path = Path(path)
    fmt = format_of(path)
    if not path.is_file():
        raise ReplayInputError(f"{path}: no such file")
    readers: dict[str, Callable[[Path], RawLog]] = {
        "csv": tabular.read_csv,
        "parquet": tabular.read_parquet,
        "xes": xes.read_xes,
        "ocel": lambda p: ocel.read_ocel(p, case_object_type),
    }
    try:
        return readers[fmt](path)
    except GZIP_ERRORS as exc:
        raise ReplayInputError(f"{path.name}: damaged gzip file: {exc}") from None
