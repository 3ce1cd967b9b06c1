"""The event log: the one record that every part of exsim writes and reads.

Picture a flight recorder bolted to the exception desk. Each row says that one thing happened
to one exception case at one moment: it occurred in operations, a rule detected it, it was
classified, queued for a team, escalated, picked up, resolved. The simulator, live-Odoo
observation and replay all write this same log, and metrics, reports and exports read nothing
else. The columns below (``COLUMNS``) are the schema's single definition; ``exsim schema``
prints them.

Recording is columnar and cheap: the engine appends integer codes and floats to typed arrays
(no pandas, no dicts per row). Per-case attributes (category, order value, tier, site...) are
stored once per case and joined onto the rows when a chunk is flushed. Chunks become Arrow
record batches that are streamed to Parquet (or kept in memory) and read back into pandas with
categorical columns. Times are float minutes since the scenario start; the start datetime is
kept in the file metadata as the wall-clock anchor.
"""

from __future__ import annotations

import json
import os
from array import array
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA_VERSION = 1

#: The life of a case, in the order it is usually lived.
EVENTS: tuple[str, ...] = (
    "occurred",
    "detected",
    "classified",
    "assigned",
    "escalated",
    "acknowledged",
    "work_started",
    "approval_requested",
    "approved",
    "rejected",
    "resolved",
    "closed",
    "suppressed",
    "notified",
    "on_hold",
    "resumed",
    "reopened",
    "reassigned",
)
#: What each event means, for ``exsim schema`` and the README (one place documents them all).
EVENT_DOCS: dict[str, str] = {
    "occurred": "the exception came into being in operations (or was created in the source system)",
    "detected": "a mechanism (event rule, time rule, scan, webhook) or a person noticed it",
    "classified": "severity and SLA deadline (due_ts) were set",
    "assigned": "the case joined a team's queue (team column: the owning team)",
    "escalated": "an escalation tier fired (detail: tier and action; team: who was alerted)",
    "acknowledged": "an agent took the case from the queue",
    "work_started": "hands-on work began (effort is counted from here)",
    "approval_requested": "the resolution needs an approval (detail: the approval level)",
    "approved": "the approval was given",
    "rejected": "the approval was refused",
    "resolved": "the fix was done (detail: how, e.g. 'cleared' when it went away by itself)",
    "closed": "the case is closed; nothing happens to it afterwards unless it is reopened",
    "suppressed": "a notification was withheld (duplicate, grouped, threshold)",
    "notified": "a human was alerted (team: the notified role)",
    "on_hold": "work paused, waiting on someone else (detail: supplier, customer, carrier, "
    "approval, team); hands-on effort stops, elapsed time goes on",
    "resumed": "work continues after a hold",
    "reopened": "a resolved or closed case came back (detail: why)",
    "reassigned": "the case moved to another team (detail: escalation tier, level change)",
}
EVENT_CODE: dict[str, int] = {name: i for i, name in enumerate(EVENTS)}
# integer codes for the engine's hot path (plain ints: cheaper than an enum)
(
    OCCURRED,
    DETECTED,
    CLASSIFIED,
    ASSIGNED,
    ESCALATED,
    ACKNOWLEDGED,
    WORK_STARTED,
    APPROVAL_REQUESTED,
    APPROVED,
    REJECTED,
    RESOLVED,
    CLOSED,
    SUPPRESSED,
    NOTIFIED,
    ON_HOLD,
    RESUMED,
    REOPENED,
    REASSIGNED,
) = range(len(EVENTS))

#: Severity levels, lowest first (P4..P1 in on-call speech).
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
SEVERITY_RANK: dict[str, int] = {name: i for i, name in enumerate(SEVERITIES)}

#: Customer tiers of a B2B distributor, most important first.
TIERS: tuple[str, ...] = ("strategic", "key", "standard")


class Column(NamedTuple):
    name: str
    type: pa.DataType
    doc: str


_STR = pa.dictionary(pa.int32(), pa.string())

COLUMNS: tuple[Column, ...] = (
    Column("rep", pa.int32(), "replication number (0 for a single run)"),
    Column("case_id", pa.int64(), "exception case id, unique within a replication"),
    Column("ts", pa.float64(), "simulated time of the event, minutes since the scenario start"),
    Column("event", _STR, "what happened: one of EVENTS"),
    Column("category", _STR, "exception category, e.g. stock_shortage, picking_sla"),
    Column("severity", _STR, "severity at that moment (null before classification)"),
    Column("team", _STR, "team that owns the case at that moment (null before routing)"),
    Column("actor", _STR, "who acted: an agent, a detection mechanism, 'system'"),
    Column("detail", _STR, "why: mechanism name, rule id, escalation tier, reason"),
    Column(
        "due_ts", pa.float64(), "SLA deadline in simulated minutes (null before classification)"
    ),
    Column(
        "trigger_ts",
        pa.float64(),
        "the record's trigger date (e.g. scheduled date) a time "
        "rule or scan measures from, simulated minutes; before ts when backdated",
    ),
    Column(
        "promise_ts",
        pa.float64(),
        "the date promised to the customer, simulated minutes (null when no promise is at stake)",
    ),
    Column("order_value", pa.float64(), "value of the business document at stake"),
    Column("customer_tier", _STR, "strategic / key / standard (null when no customer)"),
    Column("warehouse", _STR, "warehouse the case belongs to"),
    Column("site", _STR, "site (location/region) of the warehouse"),
    Column("parent_case_id", pa.int64(), "case that caused this one (ripple effects), else null"),
)
SCHEMA = pa.schema([pa.field(c.name, c.type) for c in COLUMNS])
STRING_COLUMNS = tuple(c.name for c in COLUMNS if c.type == _STR)


@dataclass
class LogMeta:
    """What a log needs besides its rows to be read on its own."""

    start: str  # ISO datetime of minute 0 (the wall-clock anchor)
    horizon_min: float
    scenario: str = ""
    policy: str = ""
    seed: int = 0
    reps: int = 1
    source: str = "simulation"  # simulation | odoo | replay
    capacity_min: dict[str, float] = field(default_factory=dict)  # team -> agent-minutes on shift
    extra: dict = field(default_factory=dict)

    def start_datetime(self) -> datetime:
        return datetime.fromisoformat(self.start)

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> LogMeta:
        data = json.loads(raw)
        data.pop("schema_version", None)
        return cls(**data)


#: Metadata each replication has of its own (the operations world's business outcomes). A log
#: joining several replications keeps them per replication, ``extra["by_rep"][r]`` (without
#: their hourly series, which stay those of the first), so each one's summary reads its own.
PER_REP_EXTRA = ("operations",)


def joined_meta(metas: list[LogMeta]) -> LogMeta:
    """The metadata of one log joining replications 0..n-1: the first's, plus each one's own
    outcomes under ``extra["by_rep"]`` (see :data:`PER_REP_EXTRA`)."""
    first = metas[0]
    per_rep = [
        {k: _without_hourly(m.extra[k]) for k in PER_REP_EXTRA if k in (m.extra or {})}
        for m in metas
    ]
    extra = dict(first.extra or {})
    if len(metas) > 1 and any(per_rep):
        extra["by_rep"] = per_rep
    return LogMeta(**{**asdict(first), "extra": extra})


def rep_meta(meta: LogMeta, rep: int) -> LogMeta:
    """The metadata as replication ``rep`` saw it: its own outcomes in place of the first's."""
    by_rep = (meta.extra or {}).get("by_rep")
    if not by_rep or not 0 <= rep < len(by_rep):
        return meta
    return LogMeta(**{**asdict(meta), "extra": {**meta.extra, **by_rep[rep]}})


def _without_hourly(value):
    if isinstance(value, dict):
        return {k: _without_hourly(v) for k, v in value.items() if k != "hourly"}
    return value


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


def schema_metadata(meta: LogMeta) -> dict[bytes, bytes]:
    return {b"exsim": meta.to_bytes(), b"exsim.schema_version": str(SCHEMA_VERSION).encode()}


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


def empty_frame(meta: LogMeta) -> pd.DataFrame:
    """A log with no rows but the right columns and types."""
    return to_pandas(SCHEMA.empty_table().replace_schema_metadata(schema_metadata(meta)))


def describe_schema() -> str:
    """The schema as text, for ``exsim schema`` and the docs."""
    width = max(len(c.name) for c in COLUMNS)

    def kind(t: pa.DataType) -> str:
        return "category" if pa.types.is_dictionary(t) else str(t)

    lines = [f"{c.name:<{width}}  {kind(c.type):<8}  {c.doc}" for c in COLUMNS]
    lines.append("")
    lines.append("events:")
    ew = max(len(e) for e in EVENTS)
    lines.extend(f"  {e:<{ew}}  {EVENT_DOCS[e]}" for e in EVENTS)
    lines.append("severities: " + ", ".join(SEVERITIES))
    return "\n".join(lines)
