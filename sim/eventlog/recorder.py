"""The recorder the engine writes to: :class:`EventLog`.

Recording is columnar and cheap: the engine appends integer codes and floats to one flat list
(no pandas, no dicts per row). Every few thousand rows, while those values are still in the
processor's cache, the list is *spilled* into typed arrays (unboxed int64 and float64 columns);
a chunk of rows becomes an Arrow record batch that is streamed to Parquet
(:class:`sim.eventlog.parquet.ParquetSink`) or kept in memory (:meth:`EventLog.table`).
Per-case attributes (category, order value, tier, site...) are stored once per case, in typed
per-case arrays, and joined onto the rows when a chunk is flushed; a case's cause (the
operational record behind it, unique per case) is kept only until its occurred row is spilled.
"""

from __future__ import annotations

import struct
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
#: rows the flat buffer holds before they are moved into typed arrays: small enough that the
#: values the engine just wrote are still in cache, large enough that the per-spill overhead
#: (a dozen array calls) is a few nanoseconds a row
SPILL_ROWS = 4096


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


def _encoding(counts: np.ndarray, strings: list[str | None]) -> tuple[np.ndarray, pa.Array]:
    """A dictionary of the strings whose codes were counted (``counts``, per code; code 0 is
    null and never in it), and each code's index in it (-1 for null and for codes not used)."""
    used = np.flatnonzero(counts)
    used = used[used != 0]
    remap = np.full(len(strings), -1, dtype=np.int32)
    remap[used] = np.arange(used.size, dtype=np.int32)
    return remap, pa.array([strings[u] for u in used], type=pa.string())


def _dict_array(codes: np.ndarray, strings: list[str | None]) -> pa.DictionaryArray:
    """Arrow dictionary column holding only the strings this chunk uses (0 -> null)."""
    remap, dictionary = _encoding(np.bincount(codes, minlength=len(strings)), strings)
    indices = remap[codes]
    return pa.DictionaryArray.from_arrays(pa.array(indices, mask=indices < 0), dictionary)


def _case_dict_array(
    column: array, lo: int, hi: int, seen: np.ndarray, at: np.ndarray, strings: list[str | None]
) -> pa.DictionaryArray:
    """The same column as :func:`_dict_array` for a per-case attribute, encoded per case.

    ``column`` holds the attribute's codes by case id, ``lo:hi`` the chunk's range of case
    ids, ``seen`` the positions (in that range) of the cases the chunk has rows of, ``at``
    each row's position: the strings used are found among the chunk's cases, not its rows
    (about nine rows a case), and each row takes its case's index in one gather."""
    per_case = np.frombuffer(column, dtype=np.int32)[lo:hi]
    counts = np.bincount(per_case[seen], minlength=len(strings))
    remap, dictionary = _encoding(counts, strings)
    indices = remap[per_case][at]
    values = pa.array(indices, mask=indices < 0) if counts[0] > 0 else pa.array(indices)
    return pa.DictionaryArray.from_arrays(values, dictionary)


def _float_array(values: np.ndarray) -> pa.Array:
    """A float column with NaN as null (what ``from_pandas=True`` does, without pandas)."""
    nan = np.isnan(values)
    return pa.array(values, mask=nan) if nan.any() else pa.array(values)


class EventLog:
    """Columnar recorder of events, flushed to Arrow chunks (and Parquet) as it fills.

    The engine registers each case once with :meth:`open_case`, then calls :meth:`record`
    with integer codes. ``sink`` is a :class:`ParquetSink` to stream to, or None to keep the
    chunks in memory (see :meth:`table`).

    Rows wait in one flat list, :attr:`buf`, four values each (case id, ts, packed codes,
    due; see :func:`pack`): one ``list +=`` per row, or per several rows written together
    (the engine extends :attr:`buf` itself with the rows of one moment, e.g. *resolved* and
    *closed*). Every ``spill_rows`` rows (:data:`SPILL_ROWS`) the list is spilled into four
    typed arrays (the boxed values it held were just made, so are still in cache) and
    cleared; a chunk of ``chunk_rows`` rows becomes one record batch. New cases wait the
    same way, nine values each, and move into typed per-case arrays at each spill.
    """

    def __init__(
        self,
        meta: LogMeta,
        rep: int = 0,
        sink: ParquetSink | None = None,
        chunk_rows: int = 1 << 16,
        spill_rows: int = SPILL_ROWS,
    ) -> None:
        self.meta = meta
        self.rep = rep
        self.sink = sink
        self.chunk_rows = chunk_rows
        self.spill_rows = spill_rows
        self.strings = StringTable()
        self.batches: list[pa.RecordBatch] = []
        self.rows = 0
        #: rows not spilled yet, ROW_WIDTH values each (the one list for the log's life)
        self.buf: list = []
        # rows spilled since the last flush, as typed columns: native int64 and float64
        # values packed into byte arrays (new ones for every chunk: a flushed chunk's Arrow
        # arrays share their memory)
        self._r_case = bytearray()
        self._r_ts = bytearray()
        self._r_codes = bytearray()
        self._r_due = bytearray()
        self._spilled = 0
        # (row in the chunk, cause) of the chunk's occurred rows whose case has a cause
        self._r_causes: list[tuple[int, str]] = []
        #: the buffer is spilled (at the next open_case) once it holds this many values
        self._spill_at = min(spill_rows, chunk_rows) * ROW_WIDTH
        # cases opened since the last spill, CASE_WIDTH values each (see open_case)
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
        self._c_promise = array("d")
        # causes of cases whose occurred row has not been spilled yet (unique per case: never
        # interned, and dropped once used, so a long run does not keep one string per case)
        self._causes: dict[int, str] = {}

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
        operational record behind it, unique per case) becomes the detail of the first
        occurred row recorded for the case afterwards.

        Also where the buffer is spilled and full chunks are flushed (once per case is often
        enough, and keeps :meth:`record`, called for every event, down to one ``+=``): a
        chunk ends at the first case opened once it holds ``chunk_rows`` rows."""
        if len(self.buf) >= self._spill_at:
            self._spill()
            if self._spilled >= self.chunk_rows:
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
        return self._spilled + len(self.buf) // ROW_WIDTH

    def _settle_cases(self) -> None:
        """Move the cases opened since the last spill into the typed per-case arrays."""
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
            column.fromlist(found)
        self._c_value.fromlist(new[1::CASE_WIDTH])
        self._c_parent.fromlist(new[5::CASE_WIDTH])
        self._c_trigger.fromlist(new[6::CASE_WIDTH])
        self._c_promise.fromlist(new[8::CASE_WIDTH])
        first = self._n_cases - len(new) // CASE_WIDTH
        causes = self._causes
        for i, cause in enumerate(new[7::CASE_WIDTH]):
            if cause is not None:
                causes[first + i] = cause
        new.clear()

    def _spill(self) -> None:
        """Move the buffered rows into the chunk's typed columns and clear the buffer."""
        self._settle_cases()
        buf = self.buf
        n = len(buf) // ROW_WIDTH
        if n:
            at = self._spilled
            ints, floats = f"={n}q", f"={n}d"  # (struct converts a column in one C loop)
            self._r_case += struct.pack(ints, *buf[0::ROW_WIDTH])
            self._r_ts += struct.pack(floats, *buf[1::ROW_WIDTH])
            self._r_codes += struct.pack(ints, *buf[2::ROW_WIDTH])
            self._r_due += struct.pack(floats, *buf[3::ROW_WIDTH])
            buf.clear()
            self._spilled = at + n
            if self._causes:
                self._take_causes(at)
        self._spill_at = min(self.spill_rows, max(self.chunk_rows - self._spilled, 1)) * ROW_WIDTH

    def _take_causes(self, start: int) -> None:
        """Pair the occurred rows spilled from ``start`` on with their cases' causes."""
        # (copies, not views: a view would keep the byte arrays from growing)
        codes = np.frombuffer(self._r_codes, dtype=np.int64)[start:].copy()
        occurred = np.flatnonzero((codes & 31) == OCCURRED)
        if occurred.size == 0:
            return
        cases = np.frombuffer(self._r_case, dtype=np.int64)[start:][occurred]
        causes = self._causes
        found = self._r_causes
        for i, case in zip(occurred.tolist(), cases.tolist(), strict=True):
            cause = causes.pop(case, None)
            if cause is not None:
                found.append((start + i, cause))

    def flush(self) -> None:
        """Turn the pending rows into an Arrow record batch (and write it, if streaming)."""
        self._spill()
        n = self._spilled
        if n == 0:
            return
        case = np.frombuffer(self._r_case, dtype=np.int64)
        ts = np.frombuffer(self._r_ts, dtype=np.float64)
        packed = np.frombuffer(self._r_codes, dtype=np.int64)
        due = np.frombuffer(self._r_due, dtype=np.float64)
        with_cause = self._r_causes
        self._r_case = bytearray()
        self._r_ts = bytearray()
        self._r_codes = bytearray()
        self._r_due = bytearray()
        self._r_causes = []
        self._spilled = 0
        self._spill_at = min(self.spill_rows, self.chunk_rows) * ROW_WIDTH
        strings = self.strings.strings
        event = (packed & 31).astype(np.int32)
        sev = ((packed >> SEVERITY_SHIFT) & 7).astype(np.int32) - 1
        team = ((packed >> TEAM_SHIFT) & _CODE_MASK).astype(np.int32)
        actor = ((packed >> ACTOR_SHIFT) & _CODE_MASK).astype(np.int32)
        detail = ((packed >> DETAIL_SHIFT) & _CODE_MASK).astype(np.int32)
        # the chunk's cases as a range of ids: per-case columns are sliced to it once
        lo = int(case.min())
        at = case - lo
        seen = np.zeros(int(case.max()) - lo + 1, dtype=bool)
        seen[at] = True
        seen_at = np.flatnonzero(seen)
        hi = lo + seen.size
        parent = np.frombuffer(self._c_parent, dtype=np.int64)[lo:hi][at]
        columns = [
            pa.array(np.full(n, self.rep, dtype=np.int32)),
            pa.array(case),
            pa.array(ts),
            pa.DictionaryArray.from_arrays(pa.array(event), pa.array(EVENTS)),
            _case_dict_array(self._c_category, lo, hi, seen_at, at, strings),
            pa.DictionaryArray.from_arrays(pa.array(sev, mask=sev < 0), pa.array(SEVERITIES)),
            _dict_array(team, strings),
            _dict_array(actor, strings),
            _detail_column(detail, with_cause, strings),
            _float_array(due),
            _float_array(np.frombuffer(self._c_trigger, dtype=np.float64)[lo:hi][at]),
            _float_array(np.frombuffer(self._c_promise, dtype=np.float64)[lo:hi][at]),
            _float_array(np.frombuffer(self._c_value, dtype=np.float64)[lo:hi][at]),
            _case_dict_array(self._c_tier, lo, hi, seen_at, at, strings),
            _case_dict_array(self._c_warehouse, lo, hi, seen_at, at, strings),
            _case_dict_array(self._c_site, lo, hi, seen_at, at, strings),
            pa.array(parent, mask=parent < 0),
        ]
        batch = pa.RecordBatch.from_arrays(columns, schema=SCHEMA)
        self.rows += n
        if self.sink is not None:
            self.sink.write(batch)
        else:
            self.batches.append(batch)

    def table(self) -> pa.Table:
        """Everything recorded so far as one Arrow table (in-memory logs only)."""
        self.flush()
        return pa.Table.from_batches(self.batches, schema=SCHEMA).replace_schema_metadata(
            schema_metadata(self.meta)
        )

    @property
    def n_cases(self) -> int:
        return self._n_cases

    @property
    def held_causes(self) -> int:
        """Causes kept for occurred rows not spilled yet (a handful, however long the run)."""
        new = self._new_cases[7::CASE_WIDTH]
        return len(self._causes) + sum(1 for c in new if c is not None)


def _detail_column(
    detail: np.ndarray, with_cause: list[tuple[int, str]], strings: list[str | None]
) -> pa.DictionaryArray:
    """Detail codes, with each occurred row carrying its case's cause where it has one."""
    if not with_cause:
        return _dict_array(detail, strings)
    values = np.array(strings, dtype=object)[detail]
    for i, cause in with_cause:
        values[i] = cause
    return pa.array(values, type=pa.string()).dictionary_encode()
