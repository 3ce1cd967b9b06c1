"""What an event log's rows are: the columns, the events a case lives through, severities, tiers.

``COLUMNS`` is the schema's single definition (``exsim schema`` prints it, via
:func:`describe_schema`); ``EVENTS`` lists a case's life in the order it is usually lived and
``EVENT_DOCS`` says what each event means. The engine records events as the plain integer codes
below (``OCCURRED``, ``DETECTED``...), cheaper on its hot path than strings or an enum.
"""

from __future__ import annotations

from typing import NamedTuple

import pyarrow as pa

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
    "detected": "a mechanism (event rule, time rule, scan, webhook, exception rule) or a person "
    "noticed it",
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
