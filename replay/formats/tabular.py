"""CSV and Parquet logs.

CSV exports from real tools are messy: a BOM from Excel, ``;`` as the delimiter in German
locales, headers like `` Case ID ``. The delimiter is sniffed, the BOM dropped, every cell
read as text (typing is the mapper's job) and blank cells become nulls. Lines with the
wrong number of fields are not fatal: they are counted as lost and the rest is read.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from replay.errors import ReplayInputError
from replay.formats import RawLog, open_text
from replay.mapping import key
from sim.eventlog import SCHEMA, LogMeta

_DELIMITERS = ",;\t|"
_EXSIM = {key(name): name for name in SCHEMA.names}
#: Columns a file exsim wrote may lack (it predates them); the reader fills them with nulls.
OPTIONAL = frozenset({"trigger_ts", "promise_ts"})


def exsim_columns(columns: list[str]) -> dict[str, str] | None:
    """Rename map to exsim's column names when ``columns`` hold all of them, else None."""
    found = {c: _EXSIM[key(c)] for c in columns if key(c) in _EXSIM}
    missing = set(_EXSIM.values()) - set(found.values())
    return found if missing <= OPTIONAL else None


def sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        return max(_DELIMITERS, key=header.count) if header else ","


def read_csv(path: Path) -> RawLog:
    with open_text(path, encoding="utf-8-sig", errors="replace") as fh:
        sample = fh.read(64 * 1024)
    if not sample.strip():
        raise ReplayInputError(f"{path.name}: the file is empty")
    sep = sniff_delimiter(sample)
    options = dict(sep=sep, dtype=str, encoding="utf-8-sig", encoding_errors="replace")
    lost: dict[str, tuple[int, list[dict]]] = {}
    try:
        frame = pd.read_csv(path, **options)
    except pd.errors.ParserError:
        bad: list[list[str]] = []
        frame = pd.read_csv(path, engine="python", on_bad_lines=bad.append, **options)
        lost["malformed line"] = (len(bad), [{"fields": b} for b in bad[:5]])
    except (pd.errors.EmptyDataError, UnicodeError) as exc:
        raise ReplayInputError(f"{path.name}: cannot read as CSV: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return RawLog(frame, "csv", exsim=_exsim(frame), lost=lost)


def read_parquet(path: Path) -> RawLog:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise ReplayInputError(f"{path.name}: cannot read as Parquet: {exc}") from None
    raw_meta = (table.schema.metadata or {}).get(b"exsim")
    meta = None
    if raw_meta is not None:
        try:
            meta = LogMeta.from_bytes(raw_meta)
        except (ValueError, TypeError):
            meta = None
    frame = table.to_pandas()
    return RawLog(frame, "parquet", exsim=_exsim(frame), meta=meta)


def _exsim(frame: pd.DataFrame) -> Callable[[], pd.DataFrame] | None:
    """The frame under exsim's names, if it has exsim's columns (loosely spelled)."""
    rename = exsim_columns([str(c) for c in frame.columns])
    return None if rename is None else lambda: frame.rename(columns=rename)
