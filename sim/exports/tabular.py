"""CSV and Parquet exports: the log as a flat table.

Parquet is the native format: same Arrow schema, :class:`~sim.eventlog.LogMeta` in the file
metadata, so ``read_log`` gets back exactly what was written. CSV is for spreadsheets and
tools that want one table; it has no place for metadata, so it carries the exsim columns
plus a ``time`` column (ISO 8601 wall clock), from which replay recovers the start anchor.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa

from sim.eventlog import SCHEMA, LogMeta, schema_metadata, write_table
from sim.exports.atomic import atomic_path
from sim.exports.clock import iso_times, start_of

#: Extra CSV column with the wall-clock time of each row.
TIME_COLUMN = "time"


def meta_of(df: pd.DataFrame) -> LogMeta | None:
    meta = df.attrs.get("meta")
    return meta if isinstance(meta, LogMeta) else None


def require_meta(df: pd.DataFrame, fmt: str) -> LogMeta:
    meta = meta_of(df)
    if meta is None:
        raise ValueError(
            f"{fmt} export needs the log's LogMeta in df.attrs['meta'] (for the start anchor)"
        )
    return meta


def to_csv(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write the log as comma-separated UTF-8 with a ``time`` column when meta is known."""
    out = df[[f.name for f in SCHEMA]].copy()
    meta = meta_of(df)
    if meta is not None:
        out[TIME_COLUMN] = iso_times(df["ts"].to_numpy(dtype=float), start_of(meta))
    with atomic_path(path) as tmp:
        out.to_csv(tmp, index=False, float_format=None)
    return Path(path)


def to_table(df_or_table: pd.DataFrame | pa.Table) -> pa.Table:
    """The log as an Arrow table with exsim's schema and its LogMeta in the metadata."""
    if isinstance(df_or_table, pa.Table):
        return (
            df_or_table.select(SCHEMA.names)
            .cast(SCHEMA)
            .replace_schema_metadata(df_or_table.schema.metadata)
        )
    df = df_or_table[SCHEMA.names]
    df.attrs = {}  # the meta goes in as exsim metadata, not as pandas' JSON attrs
    table = pa.Table.from_pandas(df, schema=SCHEMA, preserve_index=False)
    meta = meta_of(df_or_table)
    return table.replace_schema_metadata(schema_metadata(meta) if meta else None)


def to_parquet(df_or_table: pd.DataFrame | pa.Table, path: str | os.PathLike) -> Path:
    """Write the log as Parquet (zstd), readable by ``sim.eventlog.read_log``."""
    return write_table(to_table(df_or_table), path)
