"""The recorder the engine writes to: :class:`EventLog`.

Recording is columnar and cheap: the engine appends integer codes and floats to typed arrays
(no pandas, no dicts per row). Per-case attributes (category, order value, tier, site...) are
stored once per case and joined onto the rows when a chunk is flushed. Chunks become Arrow
record batches that are streamed to Parquet (:class:`sim.eventlog.parquet.ParquetSink`) or
kept in memory (:meth:`EventLog.table`).
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sim.eventlog.meta import LogMeta, schema_metadata
from sim.eventlog.schema import EVENTS, OCCURRED, SCHEMA, SEVERITIES

if TYPE_CHECKING:
    from sim.eventlog.parquet import ParquetSink


# Row codes are packed into one int64: event (5 bits), severity + 1 (3 bits), then team, actor
# and detail string codes (18 bits each), so that a row is four values: case, ts, codes, due.
_CODE_BITS = 18
_MAX_CODE = 1 << _CODE_BITS
_CODE_MASK = _MAX_CODE - 1
SEVERITY_SHIFT = 5
TEAM_SHIFT = 8
ACTOR_SHIFT = 8 + _CODE_BITS
DETAIL_SHIFT = 8 + 2 * _CODE_BITS
#: values per buffered row (case, ts, codes, due) and per buffered case (see open_case)
ROW_WIDTH = 4
CASE_WIDTH = 9


def pack(event: int, severity: int = -1, team: int = 0, actor: int = 0, detail: int = 0) -> int:
    """The codes of one row as the recorder stores them (the engine inlines this)."""
    return (
        event
        | (severity + 1) << SEVERITY_SHIFT
        | team << TEAM_SHIFT
        | actor << ACTOR_SHIFT
        | detail << DETAIL_SHIFT
    )


class StringTable:
    """Interns strings to small integer codes; code 0 is null."""

    __slots__ = ("codes", "strings")

    def __init__(self) -> None:
        self.codes: dict[str | None, int] = {None: 0}
        self.strings: list[str | None] = [None]

    def code(self, value: str | None) -> int:
        c = self.codes.get(value)
        if c is None:
            c = self.codes[value] = len(self.strings)
            self.strings.append(value)
        return c


def _dict_array(codes: np.ndarray, strings: list[str | None]) -> pa.DictionaryArray:
    """Arrow dictionary column holding only the strings this chunk uses (0 -> null)."""
    used = np.flatnonzero(np.bincount(codes, minlength=len(strings)))
    used = used[used != 0]
    remap = np.full(len(strings), -1, dtype=np.int32)
    remap[used] = np.arange(used.size, dtype=np.int32)
    indices = remap[codes]
    dictionary = pa.array([strings[u] for u in used], type=pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(indices, mask=indices < 0), dictionary)


class EventLog:
    """Columnar recorder of events, flushed to Arrow chunks (and Parquet) as it fills.

    The engine registers each case once with :meth:`open_case`, then calls :meth:`record`
    with integer codes. ``sink`` is a :class:`ParquetSink` to stream to, or None to keep the
    chunks in memory (see :meth:`table`).

    Rows wait in one flat list, :attr:`buf`, four values each (case id, ts, packed codes,
    due; see :func:`pack`), until a chunk is full: one ``list +=`` per row, or per several
    rows written together (the engine extends :attr:`buf` itself with the rows of one moment,
    e.g. *resolved* and *closed*). New cases wait the same way, nine values each, and are
    interned into typed per-case arrays when a chunk is flushed.
    """

    def __init__(
        self,
        meta: LogMeta,
        rep: int = 0,
        sink: ParquetSink | None = None,
        chunk_rows: int = 1 << 16,
    ) -> None:
        self.meta = meta
        self.rep = rep
        self.sink = sink
        self.chunk_rows = chunk_rows
        self._full = chunk_rows * ROW_WIDTH
        self.strings = StringTable()
        self.batches: list[pa.RecordBatch] = []
        self.rows = 0
        #: rows not flushed yet, ROW_WIDTH values each (the one list for the log's life)
        self.buf: list = []
        # cases opened since the last flush, CASE_WIDTH values each (see open_case)
        self._new_cases: list = []
        self._n_cases = 0
        # per-case attributes of the cases before those, indexed by case id
        self._c_category = array("i")
        self._c_value = array("d")
        self._c_tier = array("i")
        self._c_warehouse = array("i")
        self._c_site = array("i")
        self._c_parent = array("q")
        self._c_trigger = array("d")
        self._c_cause: list[str | None] = []  # unique per case: never interned
        self._c_promise = array("d")

    # -- writing -----------------------------------------------------------------------------
    def open_case(
        self,
        category: str,
        order_value: float = float("nan"),
        tier: str | None = None,
        warehouse: str | None = None,
        site: str | None = None,
        parent: int = -1,
        trigger: float = float("nan"),
        cause: str | None = None,
        promise: float = float("nan"),
    ) -> int:
        """Register a new case's fixed attributes; returns its case id. ``cause`` (the
        operational record behind it, unique per case) becomes its occurred row's detail.

        Also where full chunks are flushed (once per case is often enough, and keeps
        :meth:`record`, called for every event, down to one ``+=``)."""
        if len(self.buf) >= self._full:
            self.flush()
        self._new_cases += (
            category,
            order_value,
            tier,
            warehouse,
            site,
            parent,
            trigger,
            cause,
            promise,
        )
        self._n_cases += 1
        return self._n_cases - 1

    def record(
        self,
        ts: float,
        case_id: int,
        event: int,
        severity: int = -1,
        team: int = 0,
        actor: int = 0,
        detail: int = 0,
        due: float = float("nan"),
    ) -> None:
        """Append one event. ``event`` is an EVENT_CODE, ``severity`` a SEVERITY_RANK or -1,
        ``team``/``actor``/``detail`` codes from :meth:`code` (0 = null)."""
        self.buf += (
            case_id,
            ts,
            event
            | (severity + 1) << SEVERITY_SHIFT
            | team << TEAM_SHIFT
            | actor << ACTOR_SHIFT
            | detail << DETAIL_SHIFT,
            due,
        )

    def code(self, value: str | None) -> int:
        """Integer code of a string for the team/actor/detail arguments of :meth:`record`."""
        c = self.strings.code(value)
        if c >= _MAX_CODE:
            raise OverflowError(f"more than {_MAX_CODE - 1} distinct names in one log")
        return c

    @property
    def pending_rows(self) -> int:
        """Rows recorded and not flushed yet."""
        return len(self.buf) // ROW_WIDTH

    def _settle_cases(self) -> None:
        """Move the cases opened since the last flush into the typed per-case arrays."""
        new = self._new_cases
        if not new:
            return
        codes = self.strings.codes
        intern = self.strings.code
        for column, at in (
            (self._c_category, 0),
            (self._c_tier, 2),
            (self._c_warehouse, 3),
            (self._c_site, 4),
        ):
            values = new[at::CASE_WIDTH]
            found = [codes.get(v, -1) for v in values]
            if -1 in found:  # names never seen before: intern them (in order of appearance)
                found = [intern(v) for v in values]
            column.extend(found)
        self._c_value.fromlist(new[1::CASE_WIDTH])
        self._c_parent.fromlist(new[5::CASE_WIDTH])
        self._c_trigger.fromlist(new[6::CASE_WIDTH])
        self._c_cause += new[7::CASE_WIDTH]
        self._c_promise.fromlist(new[8::CASE_WIDTH])
        new.clear()

    def flush(self) -> None:
        """Turn the buffered rows into an Arrow record batch (and write it, if streaming)."""
        self._settle_cases()
        buf = self.buf
        n = len(buf) // ROW_WIDTH
        if n == 0:
            return
        case = np.array(buf[0::ROW_WIDTH], dtype=np.int64)
        ts = np.array(buf[1::ROW_WIDTH], dtype=np.float64)
        packed = np.array(buf[2::ROW_WIDTH], dtype=np.int64)
        due = np.array(buf[3::ROW_WIDTH], dtype=np.float64)
        buf.clear()
        strings = self.strings.strings
        event = (packed & 31).astype(np.int32)
        sev = ((packed >> SEVERITY_SHIFT) & 7).astype(np.int32) - 1
        team = ((packed >> TEAM_SHIFT) & _CODE_MASK).astype(np.int32)
        actor = ((packed >> ACTOR_SHIFT) & _CODE_MASK).astype(np.int32)
        detail = ((packed >> DETAIL_SHIFT) & _CODE_MASK).astype(np.int32)
        parent = np.frombuffer(self._c_parent, dtype=np.int64)[case]
        columns = [
            pa.array(np.full(n, self.rep, dtype=np.int32)),
            pa.array(case),
            pa.array(ts),
            pa.DictionaryArray.from_arrays(pa.array(event), pa.array(EVENTS)),
            _dict_array(np.frombuffer(self._c_category, dtype=np.int32)[case], strings),
            pa.DictionaryArray.from_arrays(pa.array(sev, mask=sev < 0), pa.array(SEVERITIES)),
            _dict_array(team, strings),
            _dict_array(actor, strings),
            self._detail_column(detail, event, case, strings),
            pa.array(due, from_pandas=True),
            pa.array(np.frombuffer(self._c_trigger, dtype=np.float64)[case], from_pandas=True),
            pa.array(np.frombuffer(self._c_promise, dtype=np.float64)[case], from_pandas=True),
            pa.array(np.frombuffer(self._c_value, dtype=np.float64)[case], from_pandas=True),
            _dict_array(np.frombuffer(self._c_tier, dtype=np.int32)[case], strings),
            _dict_array(np.frombuffer(self._c_warehouse, dtype=np.int32)[case], strings),
            _dict_array(np.frombuffer(self._c_site, dtype=np.int32)[case], strings),
            pa.array(parent, mask=parent < 0),
        ]
        batch = pa.RecordBatch.from_arrays(columns, schema=SCHEMA)
        self.rows += n
        if self.sink is not None:
            self.sink.write(batch)
        else:
            self.batches.append(batch)

    def _detail_column(self, detail, event, case, strings) -> pa.DictionaryArray:
        """Detail codes, with each occurred row carrying its case's cause where it has one."""
        occurred = np.flatnonzero(event == OCCURRED)
        causes = self._c_cause
        with_cause = [i for i in occurred.tolist() if causes[case[i]] is not None]
        if not with_cause:
            return _dict_array(detail, strings)
        values = np.array(strings, dtype=object)[detail]
        for i in with_cause:
            values[i] = causes[case[i]]
        return pa.array(values, type=pa.string()).dictionary_encode()

    def table(self) -> pa.Table:
        """Everything recorded so far as one Arrow table (in-memory logs only)."""
        self.flush()
        return pa.Table.from_batches(self.batches, schema=SCHEMA).replace_schema_metadata(
            schema_metadata(self.meta)
        )

    @property
    def n_cases(self) -> int:
        return self._n_cases
