"""Event logs on disk: one Parquet file per log, zstd-compressed, one row group per chunk.

Every write goes to a ``.partial`` file renamed into place when complete, so a run that fails
leaves no half-written log. A streamed run's final metadata (outcomes known only at the end)
goes into the Parquet footer, which :func:`read_table` prefers to the header's copy.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from sim.eventlog.meta import LogMeta, schema_metadata
from sim.eventlog.schema import SCHEMA
from sim.eventlog.tables import to_pandas

if TYPE_CHECKING:
    import pandas as pd


class ParquetSink:
    """Streams record batches into a Parquet file, one row group per chunk.

    The file is written under a temporary name and renamed into place by :meth:`close`, so a
    run that fails leaves no half-written log behind.
    """

    def __init__(self, path: str | os.PathLike, meta: LogMeta) -> None:
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".partial")
        self.writer = pq.ParquetWriter(
            self.tmp, SCHEMA.with_metadata(schema_metadata(meta)), compression="zstd"
        )

    def write(self, batch: pa.RecordBatch) -> None:
        self.writer.write_batch(batch)

    def close(self, meta: LogMeta | None = None) -> Path:
        """Finish the file; ``meta`` (final run metadata, e.g. outcomes known only at the end)
        goes into the Parquet footer, which :func:`read_log` prefers to the header's copy."""
        if meta is not None:
            self.writer.add_key_value_metadata(
                {k.decode(): v.decode() for k, v in schema_metadata(meta).items()}
            )
        self.writer.close()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        self.writer.close()
        self.tmp.unlink(missing_ok=True)


def write_table(table: pa.Table, path: str | os.PathLike) -> Path:
    """Write a whole log table to Parquet atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
    return path


def read_table(path: str | os.PathLike) -> pa.Table:
    """An exsim Parquet log as an Arrow table, with the final metadata of a streamed run."""
    table = pq.read_table(path)
    footer = pq.read_metadata(path).metadata or {}
    if b"exsim" in footer:
        merged = dict(table.schema.metadata or {})
        merged[b"exsim"] = footer[b"exsim"]
        table = table.replace_schema_metadata(merged)
    return table


def read_log(path: str | os.PathLike) -> pd.DataFrame:
    """Read an exsim event log written as Parquet into pandas (categoricals, meta in attrs)."""
    return to_pandas(read_table(path))
