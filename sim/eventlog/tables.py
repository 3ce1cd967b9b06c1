"""Whole log tables: stacking replications, and the pandas view metrics and reports read.

A log read into pandas has categorical string columns, a nullable integer ``parent_case_id``
and its :class:`~sim.eventlog.meta.LogMeta` in ``df.attrs['meta']``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from sim.eventlog.meta import LogMeta, schema_metadata
from sim.eventlog.schema import SCHEMA

if TYPE_CHECKING:
    import pandas as pd


def concat(tables: list[pa.Table], meta: LogMeta) -> pa.Table:
    """Stack per-replication tables into one log (dictionaries unified)."""
    table = pa.concat_tables([t.replace_schema_metadata(None) for t in tables])
    return table.unify_dictionaries().replace_schema_metadata(schema_metadata(meta))


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """A log table as a pandas DataFrame; ``df.attrs['meta']`` holds its :class:`LogMeta`."""
    df = table.to_pandas()
    if "parent_case_id" in df:  # a selection of columns may leave it out
        df["parent_case_id"] = df["parent_case_id"].astype("Int64")
    raw = (table.schema.metadata or {}).get(b"exsim")
    if raw is not None:
        df.attrs["meta"] = LogMeta.from_bytes(raw)
    return df


def empty_frame(meta: LogMeta) -> pd.DataFrame:
    """A log with no rows but the right columns and types."""
    return to_pandas(SCHEMA.empty_table().replace_schema_metadata(schema_metadata(meta)))
