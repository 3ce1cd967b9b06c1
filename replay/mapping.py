"""The mapping file: how a foreign event log's columns and activity names mean exsim's.

A real export (Odoo's chatter, a WMS audit trail, a Celonis extract) names things its own
way: "Case ID", "Activity", "Timestamp", "Picked". A small YAML file says which column is
which and which activity names are which exsim events::

    columns:
      case_id: Case ID
      timestamp: Timestamp
      activity: Activity
      team: Assigned Team
    activities:
      Exception raised: occurred
      Alert fired: detected
      Picked: null          # known, deliberately ignored (counted, not an error)
    timezone: Europe/Berlin  # for timestamps without an offset

Column names are matched ignoring case, surrounding spaces and ``_``/``-``/space
differences. Activity names that already are exsim events map to themselves.

Service-desk exports speak in statuses, and need a little more::

    columns:
      activity: [Status, Sub Status]   # composed: "Wait / Customer" (else "Wait" alone)
      level: Support Level             # a change of level is a hand-over, not an activity
      severity: Impact                 # the recorded impact: the case's recorded severity
    activities:
      Queued: assigned
      In Progress: work_started
      Wait / Customer: on_hold
      Resolved: resolved
      Reopened: reopened
    levels: [L1, L2, L3]               # a move up the list is an escalation, else a reassignment
    source_detects: true               # ticket creation is both occurrence and detection
    working_hours:                     # hands-on effort counts only inside these hours
      - {days: [mon, tue, wed, thu, fri], start: "08:00", end: "18:00"}

A case starts at its first recorded row, whatever that row's activity (an ignored status
too): when no row maps to ``occurred``, an ``occurred`` event is derived there.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from replay.errors import ReplayInputError
from sim import safe_yaml
from sim.eventlog import EVENTS, SEVERITIES
from sim.policies.schema import Shift

#: Priority and impact names service desks use, understood without a ``severity_map``.
COMMON_SEVERITIES: dict[str, str] = {
    "p1": "critical",
    "p2": "high",
    "p3": "medium",
    "p4": "low",
    "p5": "low",
    "urgent": "critical",
    "major": "high",
    "normal": "medium",
    "moderate": "medium",
    "minor": "low",
}


class Columns(BaseModel):
    """Source column for each exsim field (None: not in the source).

    Besides the case id, timestamp and activity, every field is optional. The per-case dates
    ``trigger`` (the record's trigger date, e.g. a picking's scheduled date) and ``promise``
    (the date promised to the customer) take each case's first non-null value.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    case_id: str
    timestamp: str
    #: one column, or several whose values are joined with ``activity_separator``
    activity: str | list[str]
    #: support level / tier of the owning team; a change is a reassignment or escalation
    level: str | None = None
    rep: str | None = None
    category: str | None = None
    severity: str | None = None
    team: str | None = None
    actor: str | None = Field(None, validation_alias=AliasChoices("actor", "resource"))
    detail: str | None = None
    due: str | None = None
    #: the record's trigger date (a picking's scheduled date), per case
    trigger: str | None = None
    #: the date promised to the customer (e.g. a sale order's commitment date), per case
    promise: str | None = None
    order_value: str | None = None
    customer_tier: str | None = None
    warehouse: str | None = None
    site: str | None = None
    parent: str | None = None

    @field_validator("activity")
    @classmethod
    def _some(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not value:
            raise ValueError("needs at least one column")
        return value

    def used(self) -> dict[str, str]:
        """exsim field -> source column, for the fields that are mapped.

        A composed activity's parts are ``activity``, ``activity:1``, ``activity:2``...
        """
        out = {}
        for k, v in self.model_dump().items():
            if isinstance(v, list):
                out.update({k if i == 0 else f"{k}:{i}": c for i, c in enumerate(v)})
            elif v is not None:
                out[k] = v
        return out


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: Columns
    activities: dict[str, str | None] = Field(default_factory=dict)
    category_from_activity: dict[str, str] = Field(default_factory=dict)
    default_category: str = "unknown"
    severity_map: dict[str, str] = Field(default_factory=dict)
    timezone: str = "UTC"
    start: datetime | None = None
    timestamp_format: str | None = None
    dayfirst: bool = False
    dedupe: bool = True
    #: OCEL only: the object type whose objects are the cases.
    case_object_type: str = "case"
    #: joins the parts of a composed activity ("Wait" + "Customer" -> "Wait / Customer")
    activity_separator: str = " / "
    #: support levels, lowest first: a case moving up this list is escalated, else reassigned
    levels: list[str] = Field(default_factory=list)
    #: the source system itself detects: a case's first row is its occurrence and detection
    source_detects: bool = False
    #: the desk's working hours (local time): hands-on effort counts only inside them
    working_hours: list[Shift] = Field(default_factory=list)
    #: Where the mapping came from, for error messages.
    _source: str = PrivateAttr("mapping")

    @property
    def source(self) -> str:
        return self._source

    @field_validator("levels", mode="before")
    @classmethod
    def _level_names(cls, value: object) -> object:
        return [str(v) for v in value] if isinstance(value, list) else value

    @field_validator("activities", "severity_map", "category_from_activity", mode="before")
    @classmethod
    def _string_keys(cls, value: object) -> object:
        # YAML reads `101:` as an int and `Yes:` as a bool; source names are text.
        if isinstance(value, dict):
            return {("" if k is None else str(k)): v for k, v in value.items()}
        return value

    @field_validator("activities")
    @classmethod
    def _events(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        for name, event in value.items():
            if event is not None and event not in EVENTS:
                raise _at(name, f"{event!r} is not an exsim event (one of {', '.join(EVENTS)})")
        return value

    @field_validator("severity_map")
    @classmethod
    def _severities(cls, value: dict[str, str]) -> dict[str, str]:
        for name, sev in value.items():
            if sev not in SEVERITIES:
                raise _at(name, f"{sev!r} is not a severity (one of {', '.join(SEVERITIES)})")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone (e.g. UTC, Europe/Berlin)") from None
        return value

    def event_of(self) -> dict[str, str | None]:
        """Lookup from normalised source activity name to exsim event (None: ignore)."""
        table: dict[str, str | None] = {key(e): e for e in EVENTS}
        table.update({key(k): v for k, v in self.activities.items()})
        return table


def _at(name: str, message: str) -> ValueError:
    # pydantic reports dict validators at the dict; put the key in the message's path.
    return ValueError(f"@{name}@ {message}")


def key(name: object) -> str:
    """Normalised name for matching: case, surrounding space and ``_ -`` runs ignored."""
    return re.sub(r"[\s_\-]+", " ", str(name)).strip().casefold()


def load_mapping(path: str | os.PathLike) -> Mapping:
    """Read and validate a mapping YAML file (errors name the file and the field)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = safe_yaml.load(fh.read(safe_yaml.MAX_BYTES + 1))
    except OSError as exc:
        raise ReplayInputError(f"{path}: cannot read mapping: {exc.strerror}") from None
    except safe_yaml.YamlError as exc:
        if exc.line is not None:
            line = f" (line {exc.line})" if exc.line else ""
            raise ReplayInputError(f"{path.name}: not valid YAML{line}") from None
        raise ReplayInputError(f"{path.name}: {exc}") from None
    if not isinstance(data, dict):
        raise ReplayInputError(f"{path.name}: a mapping must be a YAML dictionary")
    return parse_mapping(data, path.name)


def parse_mapping(data: dict, source: str = "mapping") -> Mapping:
    """Validate a mapping given as a dict; ``source`` names it in error messages."""
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        err = errors[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        found = re.match(r"@(.*?)@ (.*)", msg, re.S)
        if found:
            loc, msg = f"{loc}.{found.group(1)}", found.group(2)
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ReplayInputError(f"{source}: {loc}: {msg}{more}") from None
    mapping._source = source
    return mapping
