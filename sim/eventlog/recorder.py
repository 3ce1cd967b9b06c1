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
# and detail string codes (18 bits each). One append per row instead of five.
_CODE_BITS = 18
_MAX_CODE = 1 << _CODE_BITS
_CODE_MASK = _MAX_CODE - 1
_ACTOR_SHIFT = 8 + _CODE_BITS
_DETAIL_SHIFT = 8 + 2 * _CODE_BITS


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
        self.strings = StringTable()
        self.batches: list[pa.RecordBatch] = []
        self.rows = 0
        # per-case attributes, indexed by case id
        self._c_category = array("i")
        self._c_value = array("d")
        self._c_tier = array("i")
        self._c_warehouse = array("i")
        self._c_site = array("i")
        self._c_parent = array("q")
        self._c_trigger = array("d")
        self._c_cause: list[str | None] = []  # unique per case: never interned
        self._c_promise = array("d")
        self._new_rows()

    def _new_rows(self) -> None:
        self._case = array("q")
        self._ts = array("d")
        self._packed = array("q")  # event | severity | team | actor | detail, see _pack
        self._due = array("d")

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
        :meth:`record`, called for every event, down to its appends)."""
        if len(self._ts) >= self.chunk_rows:
            self.flush()
        code = self.strings.code
        self._c_category.append(code(category))
        self._c_value.append(order_value)
        self._c_tier.append(code(tier))
        self._c_warehouse.append(code(warehouse))
        self._c_site.append(code(site))
        self._c_parent.append(parent)
        self._c_trigger.append(trigger)
        self._c_cause.append(cause)
        self._c_promise.append(promise)
        return len(self._c_category) - 1

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
        self._case.append(case_id)
        self._ts.append(ts)
        self._packed.append(
            event
            | (severity + 1) << 5
            | team << 8
            | actor << _ACTOR_SHIFT
            | detail << _DETAIL_SHIFT
        )
        self._due.append(due)

    def code(self, value: str | None) -> int:
        """Integer code of a string for the team/actor/detail arguments of :meth:`record`."""
        c = self.strings.code(value)
        if c >= _MAX_CODE:
            raise OverflowError(f"more than {_MAX_CODE - 1} distinct names in one log")
        return c

    def flush(self) -> None:
        """Turn the buffered rows into an Arrow record batch (and write it, if streaming)."""
        n = len(self._ts)
        if n == 0:
            return
        case = np.frombuffer(self._case, dtype=np.int64)
        strings = self.strings.strings
        packed = np.frombuffer(self._packed, dtype=np.int64)
        event = (packed & 31).astype(np.int32)
        sev = ((packed >> 5) & 7).astype(np.int32) - 1
        team = ((packed >> 8) & _CODE_MASK).astype(np.int32)
        actor = ((packed >> _ACTOR_SHIFT) & _CODE_MASK).astype(np.int32)
        detail = ((packed >> _DETAIL_SHIFT) & _CODE_MASK).astype(np.int32)
        parent = np.frombuffer(self._c_parent, dtype=np.int64)[case]
        columns = [
            pa.array(np.full(n, self.rep, dtype=np.int32)),
            pa.array(case.copy()),
            pa.array(np.frombuffer(self._ts, dtype=np.float64).copy()),
            pa.DictionaryArray.from_arrays(pa.array(event), pa.array(EVENTS)),
            _dict_array(np.frombuffer(self._c_category, dtype=np.int32)[case], strings),
            pa.DictionaryArray.from_arrays(pa.array(sev, mask=sev < 0), pa.array(SEVERITIES)),
            _dict_array(team, strings),
            _dict_array(actor, strings),
            self._detail_column(detail, event, case, strings),
            pa.array(np.frombuffer(self._due, dtype=np.float64).copy(), from_pandas=True),
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
        self._new_rows()

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
        return len(self._c_category)
