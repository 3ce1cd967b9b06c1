"""The event log: the one record that every part of exsim writes and reads.

Picture a flight recorder bolted to the exception desk. Each row says that one thing happened
to one exception case at one moment: it occurred in operations, a rule detected it, it was
classified, queued for a team, escalated, picked up, resolved. The simulator, live-Odoo
observation and replay all write this same log, and metrics, reports and exports read nothing
else. Times are float minutes since the scenario start; the start datetime is kept in the file
metadata as the wall-clock anchor.

The package in parts (``from sim.eventlog import ...`` reaches all of them):

- :mod:`~sim.eventlog.schema`: the columns (``COLUMNS``, the schema's single definition, which
  ``exsim schema`` prints), the events (``EVENTS``, ``EVENT_DOCS``, integer codes), severities
  and customer tiers;
- :mod:`~sim.eventlog.meta`: :class:`LogMeta`, what a log carries besides its rows;
- :mod:`~sim.eventlog.recorder`: :class:`EventLog`, the columnar recorder the engine writes to;
- :mod:`~sim.eventlog.tables`: whole log tables (stacking replications, the pandas view);
- :mod:`~sim.eventlog.parquet`: logs on disk (streamed and atomic writes, reading back).
"""

from sim.eventlog.meta import (
    PER_REP_EXTRA,
    LogMeta,
    joined_meta,
    rep_meta,
    schema_metadata,
)
from sim.eventlog.parquet import ParquetSink, read_log, read_table, write_table
from sim.eventlog.recorder import EventLog, StringTable
from sim.eventlog.schema import (
    ACKNOWLEDGED,
    APPROVAL_REQUESTED,
    APPROVED,
    ASSIGNED,
    CLASSIFIED,
    CLOSED,
    COLUMNS,
    DETECTED,
    ESCALATED,
    EVENT_CODE,
    EVENT_DOCS,
    EVENTS,
    NOTIFIED,
    OCCURRED,
    ON_HOLD,
    REASSIGNED,
    REJECTED,
    REOPENED,
    RESOLVED,
    RESUMED,
    SCHEMA,
    SCHEMA_VERSION,
    SEVERITIES,
    SEVERITY_RANK,
    STRING_COLUMNS,
    SUPPRESSED,
    TIERS,
    WORK_STARTED,
    Column,
    describe_schema,
)
from sim.eventlog.tables import concat, empty_frame, to_pandas

__all__ = [
    "ACKNOWLEDGED",
    "APPROVAL_REQUESTED",
    "APPROVED",
    "ASSIGNED",
    "CLASSIFIED",
    "CLOSED",
    "COLUMNS",
    "DETECTED",
    "ESCALATED",
    "EVENTS",
    "EVENT_CODE",
    "EVENT_DOCS",
    "NOTIFIED",
    "OCCURRED",
    "ON_HOLD",
    "PER_REP_EXTRA",
    "REASSIGNED",
    "REJECTED",
    "REOPENED",
    "RESOLVED",
    "RESUMED",
    "SCHEMA",
    "SCHEMA_VERSION",
    "SEVERITIES",
    "SEVERITY_RANK",
    "STRING_COLUMNS",
    "SUPPRESSED",
    "TIERS",
    "WORK_STARTED",
    "Column",
    "EventLog",
    "LogMeta",
    "ParquetSink",
    "StringTable",
    "concat",
    "describe_schema",
    "empty_frame",
    "joined_meta",
    "read_log",
    "read_table",
    "rep_meta",
    "schema_metadata",
    "to_pandas",
    "write_table",
]
