"""What a policy says: how exceptions are detected, triaged, routed, staffed and escalated.

A policy is the *how it is handled* half of a run, the part a team could deploy in Odoo and
n8n: which mechanism watches each category (an automation rule firing in the write, or a
scheduled action scanning every N minutes), how severity is scored, which team owns what, who
is on shift, in which order queues are worked, when an unanswered case escalates, and the SLA
targets it is judged by. Validated once here; the engine trusts it.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.scenarios.schema import Strict

Severity = Literal["low", "medium", "high", "critical"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ALL_DAYS: list[Day] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


# -- detection --------------------------------------------------------------------------------
class EventRule(Strict):
    """An automation rule on create/update: detects in the same transaction as the write."""

    failure_prob: Annotated[float, Field(ge=0, le=1)] = 0.0


class Scan(Strict):
    """A scheduled action (ir.cron) searching for cases stuck past ``threshold_min``.

    It runs every ``interval_min`` from ``offset_min``; cron workers wake about once a minute,
    so each run starts up to ``lag_min`` after it is due (uniformly drawn).
    """

    interval_min: Annotated[float, Field(gt=0)]
    threshold_min: Annotated[float, Field(ge=0)] = 0.0
    offset_min: Annotated[float, Field(ge=0)] = 0.0
    lag_min: Annotated[float, Field(ge=0)] = 1.0


class Detection(Strict):
    """The mechanisms watching one category; the first to fire detects."""

    event_rule: EventRule | None = None
    scan: Scan | None = None

    @model_validator(mode="after")
    def _one(self) -> Detection:
        if self.event_rule is None and self.scan is None:
            raise ValueError("needs at least one mechanism (event_rule, scan)")
        return self


# -- triage -----------------------------------------------------------------------------------
class Condition(Strict):
    """All given fields must hold (lists mean 'any of')."""

    category: list[str] | None = None
    customer_tier: list[Literal["strategic", "key", "standard"]] | None = None
    site: list[str] | None = None
    warehouse: list[str] | None = None
    order_value_min: float | None = None
    order_value_max: float | None = None


class SeverityRule(Strict):
    id: str
    when: Condition = Condition()
    severity: Severity


class SeverityPolicy(Strict):
    """Rules in order; the first match sets the severity, else ``default``."""

    default: Severity = "medium"
    rules: list[SeverityRule] = Field(default_factory=list)


class Routing(Strict):
    """Ownership matrix: category (optionally per site) to team."""

    default: str
    by_category: dict[str, str] = Field(default_factory=dict)
    by_site: dict[str, dict[str, str]] = Field(default_factory=dict)


# -- staffing ---------------------------------------------------------------------------------
def _minutes(hhmm: str) -> int:
    m = _HHMM.match(hhmm)
    if not m or (m.group(1) == "24" and m.group(2) != "00"):
        raise ValueError(f"{hhmm!r} is not a time of day HH:MM")
    return int(m.group(1)) * 60 + int(m.group(2))


class Shift(Strict):
    """A working window repeated on the given weekdays; ``end`` before ``start`` runs overnight."""

    name: str = "shift"
    days: list[Day] = Field(default_factory=lambda: list(ALL_DAYS), min_length=1)
    start: str = "00:00"
    end: str = "24:00"
    agents: Annotated[int, Field(ge=1)] = 1

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        _minutes(v)
        return v

    @model_validator(mode="after")
    def _nonempty(self) -> Shift:
        if _minutes(self.start) == _minutes(self.end) % 1440 and self.end != "24:00":
            raise ValueError("start and end are the same time")
        return self

    @property
    def start_min(self) -> int:
        return _minutes(self.start)

    @property
    def end_min(self) -> int:
        return _minutes(self.end)


class Team(Strict):
    """Agents who work a queue. Either ``agents`` always on duty, or ``shifts``."""

    agents: Annotated[int, Field(ge=1)] | None = None
    shifts: list[Shift] | None = None
    cost_per_hour: Annotated[float, Field(ge=0)] = 0.0

    @model_validator(mode="after")
    def _either(self) -> Team:
        if (self.agents is None) == (self.shifts is None):
            raise ValueError("give either agents (always on duty) or shifts")
        return self

    def shift_list(self) -> list[Shift]:
        if self.shifts is not None:
            return self.shifts
        return [Shift(name="always", agents=self.agents or 1)]


class Staffing(Strict):
    teams: dict[str, Team] = Field(min_length=1)


# -- queues, escalation, SLA ------------------------------------------------------------------
class Queue(Strict):
    discipline: Literal["fifo", "priority", "edf"] = "fifo"


class Tier(Strict):
    """One rung of an escalation ladder."""

    after_min: Annotated[float, Field(ge=0)]
    when: Literal["unacknowledged", "unresolved"] = "unacknowledged"
    notify: str = "lead"


class Escalation(Strict):
    ladders: dict[Severity, list[Tier]] = Field(default_factory=dict)

    @field_validator("ladders")
    @classmethod
    def _ordered(cls, v: dict[str, list[Tier]]) -> dict[str, list[Tier]]:
        for sev, tiers in v.items():
            times = [t.after_min for t in tiers]
            if times != sorted(times):
                raise ValueError(f"{sev}: tiers must be in increasing after_min order")
        return v


class Sla(Strict):
    """Resolution targets in minutes from occurrence; the most specific one applies."""

    default_min: Annotated[float, Field(gt=0)] = 480.0
    by_severity: dict[Severity, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    by_category: dict[str, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    by_category_severity: dict[str, dict[Severity, Annotated[float, Field(gt=0)]]] = Field(
        default_factory=dict
    )

    def target(self, category: str, severity: str | None) -> float:
        if severity is not None:
            exact = self.by_category_severity.get(category, {}).get(severity)
            if exact is not None:
                return exact
            if severity in self.by_severity:
                return self.by_severity[severity]
        return self.by_category.get(category, self.default_min)


class Policy(Strict):
    """A candidate exception-management policy."""

    name: str = "policy"
    description: str = ""
    detection: dict[str, Detection] = Field(
        default_factory=lambda: {"*": Detection(event_rule=EventRule())}
    )
    severity: SeverityPolicy = SeverityPolicy()
    routing: Routing
    staffing: Staffing
    queue: Queue = Queue()
    escalation: Escalation = Escalation()
    sla: Sla = Sla()

    @model_validator(mode="after")
    def _teams_exist(self) -> Policy:
        teams = self.staffing.teams
        known = ", ".join(sorted(teams))
        refs = [("routing.default", self.routing.default)]
        refs += [(f"routing.by_category.{c}", t) for c, t in self.routing.by_category.items()]
        for site, table in self.routing.by_site.items():
            refs += [(f"routing.by_site.{site}.{c}", t) for c, t in table.items()]
        for where, team in refs:
            if team not in teams:
                raise ValueError(f"{where}: unknown team {team!r} (staffing.teams: {known})")
        return self
