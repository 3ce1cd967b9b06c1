"""The summary of a log file, read row group by row group in chunks of whole cases.

A year of operations at 10,000 orders a day is millions of rows; read into pandas at once it
takes gigabytes, most of it for columns and rows no KPI reads row by row. Here the Parquet file
is read a batch at a time and cut into *chunks of whole cases*: a first pass over ``rep`` and
``case_id`` finds the row where each case ends, and the second pass holds back the rows of cases
still going on until their last row has been read. Each chunk then gives

- its cases' rows of the case table (:func:`sim.metrics.cases.case_table` on whole cases is
  exactly those rows of the case table of the whole log), and
- the rows the row-level KPIs read, in a few compact columns (``ROW_COLUMNS``; the occurred,
  acknowledged and closed rows only through the case table: the occurred rows' detail is a
  per-case cause, and no KPI reads these three row by row),

and a replication is summarised as soon as its last row has passed, with the same function as
the in-memory path (:func:`sim.metrics.summary.summarize_reps` of the whole log gives the same
result, which is a test), so the memory held is one replication's case table and compact rows,
never its whole log, and never more than one replication at a time.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Iterator
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim import eventlog
from sim.eventlog import LogMeta
from sim.metrics.cases import case_table
from sim.metrics.chunked import RepKpis
from sim.metrics.summary import combine

#: Columns the row-level KPIs read (everything else reaches them through the case table).
ROW_COLUMNS: tuple[str, ...] = (
    "rep",
    "case_id",
    "ts",
    "event",
    "severity",
    "team",
    "actor",
    "detail",
)
#: Events no row-level KPI reads row by row (their times are in the case table).
CASE_TABLE_ONLY_EVENTS: tuple[str, ...] = ("occurred", "acknowledged", "closed")
#: Rows read per batch.
BATCH_ROWS = 1 << 16
_REP_SHIFT = 40  # key = rep << 40 | case_id


@cache
def _malloc_trim():
    """glibc's ``malloc_trim`` (None elsewhere: other allocators need no such call)."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 128 * 1024  # glibc's initial value


@cache
def map_large_blocks() -> None:
    """Have glibc map every block of 128 KiB or more on its own, and unmap it when freed.

    glibc raises that threshold each time such a block is freed (up to 32 MiB), after which the
    summary's column-sized temporaries come from the heap, where a block still in use above them
    keeps them from being handed back; fixing it keeps the KPIs' temporaries from piling up
    (about 25 MiB of a 90-day run's peak at 10,000 orders a day)."""
    with contextlib.suppress(AttributeError, OSError):  # not glibc: nothing to tune
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def give_back_memory() -> None:
    """Hand memory freed since the last call back to the system, so the next phase starts from
    what is really in use: Arrow's pool keeps freed blocks, and glibc keeps the freed heap of
    many small objects (a simulation's, a chunk's frames) until told to trim it."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _meta(pf: pq.ParquetFile) -> LogMeta:
    """The log's metadata, the footer's (final, of a streamed run) before the header's."""
    footer = pf.metadata.metadata or {}
    raw = footer.get(b"exsim") or (pf.schema_arrow.metadata or {}).get(b"exsim")
    if raw is None:
        raise ValueError(f"{pf}: not an exsim event log (no exsim metadata)")
    return LogMeta.from_bytes(raw)


def _keys(table: pa.Table | pa.RecordBatch) -> np.ndarray:
    rep = np.asarray(table["rep"], dtype=np.int64)
    return rep << _REP_SHIFT | np.asarray(table["case_id"], dtype=np.int64)


class _Ends:
    """First pass: the global row index where each (rep, case) ends, and each rep's last row."""

    def __init__(self, pf: pq.ParquetFile) -> None:
        keys, lasts = [], []
        rep_last: dict[int, int] = {}
        pos = 0
        for batch in pf.iter_batches(BATCH_ROWS, columns=["rep", "case_id"]):
            key = _keys(batch)
            rev_unique, rev_first = np.unique(key[::-1], return_index=True)
            keys.append(rev_unique)
            lasts.append(pos + len(key) - 1 - rev_first)
            rep_ids, rev_last = np.unique(key[::-1] >> _REP_SHIFT, return_index=True)
            for rep, last in zip(rep_ids.tolist(), rev_last.tolist(), strict=True):
                rep_last[rep] = pos + len(key) - 1 - last
            pos += len(key)
        key = np.concatenate(keys) if keys else np.zeros(0, np.int64)
        last = np.concatenate(lasts) if lasts else np.zeros(0, np.int64)
        order = np.lexsort((last, key))  # per key, its largest last row comes last
        key, last = key[order], last[order]
        final = np.r_[key[1:] != key[:-1], True] if key.size else np.zeros(0, bool)
        self.keys, self.last = key[final], last[final]
        self.rep_last = rep_last
        self.rows = pos

    def last_row(self, key: np.ndarray) -> np.ndarray:
        return self.last[np.searchsorted(self.keys, key)]


def whole_case_chunks(
    path: str | os.PathLike, columns: list[str] | None = None, ends: _Ends | None = None
) -> Iterator[tuple[pa.Table, int]]:
    """(rows of whole cases, rows read so far) in file order, a batch of the file at a time."""
    pf = pq.ParquetFile(path, pre_buffer=False)  # column chunks read as needed
    ends = ends or _Ends(pf)
    pending: pa.Table | None = None
    pos = 0
    for batch in pf.iter_batches(BATCH_ROWS, columns=columns):
        pos += batch.num_rows
        table = pa.Table.from_batches([batch])
        if pending is not None and pending.num_rows:
            table = pa.concat_tables([pending, table])
        done = ends.last_row(_keys(table)) < pos
        if done.all():
            pending = None
            yield table, pos
        else:
            pending = table.filter(pa.array(~done)).combine_chunks()
            yield table.filter(pa.array(done)), pos
    if pending is not None and pending.num_rows:  # only if the first pass missed rows
        yield pending, pos


def _frame(table: pa.Table, meta: LogMeta) -> pd.DataFrame:
    table = table.unify_dictionaries().combine_chunks()
    df = eventlog.to_pandas(table.replace_schema_metadata(None))
    df.attrs["meta"] = meta
    return df


def summarize_file(path: str | os.PathLike, warmup_min: float = 0.0) -> dict:
    """:func:`sim.metrics.summary.summarize_reps` of the log in a Parquet file, streamed.

    Arrow's buffers come from the system allocator meanwhile (as in every ``exsim`` verb, see
    :mod:`sim.cli.common`), whose freed pages :func:`give_back_memory` hands back."""
    give_back_memory()  # what the run before the summary freed (the simulation's objects)
    map_large_blocks()
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        return _summarize_file(path, warmup_min)
    finally:
        pa.set_memory_pool(previous)


def _summarize_file(path: str | os.PathLike, warmup_min: float) -> dict:
    pf = pq.ParquetFile(path, pre_buffer=False)  # column chunks read as needed
    meta = _meta(pf)
    ends = _Ends(pf)
    if ends.rows == 0:
        return _in_memory(path, warmup_min)
    reps: dict[int, RepKpis] = {}
    runs: dict[int, dict] = {}
    tiers: set[str] = set()

    def finish(rep: int) -> None:
        state = reps.pop(rep)
        runs[rep] = state.result()
        tiers.update(state.tiers)
        give_back_memory()

    for table, pos in whole_case_chunks(path, ends=ends):
        if table.num_rows:
            rep_col = np.asarray(table["rep"])
            for rep in np.unique(rep_col).tolist():
                one_rep = rep_col[0] == rep_col[-1]
                part = table if one_rep else table.filter(pa.array(rep_col == rep))
                df = _frame(part, meta)
                state = reps.get(rep) or reps.setdefault(rep, RepKpis(meta, warmup_min))
                state.add(df, case_table(df))
                del df, part
        del table
        for rep in [r for r in reps if ends.rep_last[r] < pos]:
            finish(rep)
        give_back_memory()
    for rep in list(reps):
        finish(rep)
    ordered = [runs[r] for r in sorted(runs)]
    for run in ordered:  # every replication reports every tier seen in any (0 where none)
        seen = run["escalations_by_tier"]
        run["escalations_by_tier"] = {t: seen.get(t, 0) for t in sorted(tiers)}
    return combine(ordered)


def _in_memory(path: str | os.PathLike, warmup_min: float) -> dict:
    from sim.metrics.summary import summarize_reps

    return summarize_reps(eventlog.read_log(path), warmup_min=warmup_min)
