"""The last step of every replay: candidate rows -> a typed, sorted exsim log.

Both paths (exsim's own files and mapped foreign logs) end with a frame holding exsim's
columns as plain values plus ``_row`` (position in the source). Here it is sorted the way
replay promises, by (rep, case_id, ts, lifecycle order of the event, source row), exact
duplicates are optionally dropped and counted, and the result is built through Arrow with
``sim.eventlog.SCHEMA`` so its types are exactly those of a simulated log.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from replay.report import ReplayReport, examples_of
from sim.eventlog import EVENT_CODE, EVENTS, SCHEMA, SEVERITIES, LogMeta, schema_metadata, to_pandas

_CATEGORIES = {"event": EVENTS, "severity": SEVERITIES}


def finish(cand: pd.DataFrame, meta: LogMeta, report: ReplayReport, dedupe: bool) -> pd.DataFrame:
    """Sort, deduplicate and type the candidate rows; fills ``report.rows_kept``."""
    code = cand["event"].map(EVENT_CODE).to_numpy(dtype=np.int64)
    order = np.lexsort(
        (
            cand["_row"].to_numpy(),
            code,
            cand["ts"].to_numpy(),
            cand["case_id"].to_numpy(),
            cand["rep"].to_numpy(),
        )
    )
    cand = cand.iloc[order].reset_index(drop=True)
    source = cand["_row"].to_numpy() >= 0  # derived rows (negative) are not the source's
    if dedupe and len(cand):
        dup = cand.drop(columns="_row").astype(object).duplicated().to_numpy() & source
        if dup.any():
            report.drop(
                "duplicate event", int(dup.sum()), examples_of(cand, dup, ["case_id", "event"])
            )
            source = source[~dup]
            cand = cand[~dup].reset_index(drop=True)
    report.rows_kept = int(source.sum())
    table = pa.Table.from_arrays([_column(cand, f) for f in SCHEMA], schema=SCHEMA)
    return to_pandas(table.replace_schema_metadata(schema_metadata(meta)))


def _column(cand: pd.DataFrame, f: pa.Field) -> pa.Array:
    values = cand[f.name]
    if f.name in _CATEGORIES:
        names = _CATEGORIES[f.name]
        codes = values.map({n: i for i, n in enumerate(names)}).to_numpy(dtype=float)
        mask = np.isnan(codes)
        indices = pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask)
        return pa.DictionaryArray.from_arrays(indices, pa.array(names, type=pa.string()))
    if pa.types.is_dictionary(f.type):
        return pa.array(
            values.astype(object), type=pa.string(), from_pandas=True
        ).dictionary_encode()
    if f.name == "parent_case_id":
        arr = values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        mask = np.isnan(arr)
        return pa.array(np.where(mask, 0, arr).astype(np.int64), mask=mask)
    if pa.types.is_floating(f.type):
        return pa.array(values.to_numpy(dtype=float), type=f.type, from_pandas=True)
    return pa.array(values.to_numpy(dtype=np.int64), type=f.type)
