"""What a policy says: how exceptions are detected, triaged, routed, staffed and escalated.

A policy is the *how it is handled* half of a run, the part a team could deploy in Odoo and
n8n: which mechanisms watch each category (an automation rule firing in the write, a
time-based rule, a scheduled action scanning every N minutes, a webhook to middleware, an OCA
exception rule checked at confirmation, or a plug-in mechanism), how
severity is scored, which team owns what, who
is on shift, in which order queues are worked, when an unanswered case escalates, and the SLA
targets it is judged by. Validated once here; the engine trusts it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

import sim.plugins as plugins
from sim.schema_types import Distribution, Strict

Severity = Literal["low", "medium", "high", "critical"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ALL_DAYS: list[Day] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def minutes_of_day(hhmm: str) -> int:
    """Minutes after midnight of a time of day ``HH:MM`` (``24:00`` is 1440)."""
    m = _HHMM.match(hhmm)
    if not m or (m.group(1) == "24" and m.group(2) != "00"):
        raise ValueError(f"{hhmm!r} is not a time of day HH:MM")
    return int(m.group(1)) * 60 + int(m.group(2))


# -- detection --------------------------------------------------------------------------------
class EventRule(Strict):
    """An automation rule on create/update: detects in the same transaction as the write."""

    failure_prob: Annotated[float, Field(ge=0, le=1)] = 0.0


class ExceptionRule(Strict):
    """An OCA exception rule (``base_exception``, with ``sale_``/``purchase_``/``stock_exception``).

    Odoo evaluates it only when the category's document is confirmed (a transfer also when it
    is validated): a case whose condition is there at that moment is detected then and the
    confirmation is blocked (the document stays a draft until the exception is fixed or
    waived with ``ignore_exception``); a condition that arises after the confirmation is never
    seen by it. ``at_confirmation`` is the share of the category's cases whose condition is
    there when the document is confirmed, ``confirm_after_min`` how long after the condition
    appears the document is confirmed (a case that clears before is not seen). ``is_blocking``
    (Odoo then refuses the waiver) is a deployment setting: the simulated desk resolves a case
    the same whether it fixes or waives.
    """

    at_confirmation: Annotated[float, Field(ge=0, le=1)] = 1.0
    confirm_after_min: Annotated[float, Field(ge=0)] = 0.0
    is_blocking: bool = False


class Scan(Strict):
    """A scheduled action (ir.cron) searching for cases stuck past ``threshold_min``.

    It runs every ``interval_min`` from ``offset_min``; cron workers wake about once a minute,
    so each run starts up to ``lag_min`` after it is due (uniformly drawn). A run taking longer
    than the interval makes the next one skip (the job's row is locked). With
    ``only_undetected`` its domain excludes cases already flagged by another mechanism: the
    reconciliation scan that backs up a webhook.
    """

    # Odoo schedules cron jobs in whole minutes: a scan runs at most once a minute
    interval_min: Annotated[float, Field(ge=1)]
    threshold_min: Annotated[float, Field(ge=0)] = 0.0
    offset_min: Annotated[float, Field(ge=0)] = 0.0
    lag_min: Annotated[float, Field(ge=0)] = 1.0
    lag_drift_min: Annotated[float, Field(ge=0)] = 0.0
    """Each run starts this much later again than the one before (Odoo's cron thread sleeps
    a minute *after* each pass, so its phase drifts by the passes' duration)."""
    run_min: Annotated[float, Field(ge=0)] = 0.0
    only_undetected: bool = False


DELAY_UNIT_MIN = {"minutes": 1, "hour": 60, "day": 1440, "month": 30 * 1440}


class TimeRule(Strict):
    """A time-based automation rule: act ``delay`` units after the record's trigger date.

    All time rules of a policy share one scheduled job whose interval is a tenth of the shortest
    delay, clamped to [1 min, 4 h]. Each rule remembers ``last_run`` and acts on a record only
    when ``last_run <= trigger + delay < now``: a record that starts matching after its action
    time fell into an earlier window is never caught. ``new_rule`` means the rule goes live at
    minute 0 without a ``last_run``, so its first run acts on everything already due.
    """

    # >= 0: Odoo allows a negative delay (act before the date), but here the trigger date
    # is when the exception starts; acting before it would detect nothing
    delay: Annotated[int, Field(ge=0, le=100_000)]
    unit: Literal["minutes", "hour", "day", "month"] = "minutes"
    lag_min: Annotated[float, Field(ge=0)] = 1.0
    lag_drift_min: Annotated[float, Field(ge=0)] = 0.0
    """As ``Scan.lag_drift_min``, for the shared job's runs."""
    new_rule: bool = False
    job_interval_min: Annotated[float, Field(gt=0)] | None = None
    """The shared job's interval when known otherwise (a live run at compressed speed, where
    Odoo's 1-minute floor applies to wall-clock minutes); by default Odoo's rule above."""

    @property
    def delay_min(self) -> float:
        return float(self.delay * DELAY_UNIT_MIN[self.unit])


class Outage(Strict):
    """A window in which the middleware is unreachable, ``day`` counted from the start (0)."""

    day: Annotated[int, Field(ge=0)]
    at: str = "00:00"
    duration_min: Annotated[float, Field(gt=0)]

    @field_validator("at")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        minutes_of_day(v)
        return v

    @property
    def start_min(self) -> float:
        return self.day * 1440.0 + minutes_of_day(self.at)


class Review(Strict):
    """A recurring review, e.g. of a dead-letter queue: every ``every_min`` from ``offset_min``."""

    every_min: Annotated[float, Field(ge=1)] = 1440.0
    offset_min: Annotated[float, Field(ge=0)] = 540.0


class Webhook(Strict):
    """Server action "Send Webhook Notification" to middleware (n8n), and the workflow there.

    Odoo POSTs with a 1-second timeout and never retries: a push that times out, fails, or
    finds the middleware down (``outages``) is lost. A received event runs the workflow, whose
    downstream step can fail (``step_fail_prob``) and is retried ``retries`` times with
    exponential backoff; what still fails lands in a dead-letter queue, seen at its next
    ``dead_letter`` review. Deliveries are duplicated with ``duplicate_prob``.
    """

    loss_prob: Annotated[float, Field(ge=0, le=1)] = 0.0
    outages: list[Outage] = Field(default_factory=list)
    latency_min: Annotated[float, Field(ge=0)] = 0.05
    step_fail_prob: Annotated[float, Field(ge=0, le=1)] = 0.0
    retries: Annotated[int, Field(ge=0, le=100)] = 3
    backoff_min: Annotated[float, Field(gt=0)] = 1.0
    dead_letter: Review | None = Review()
    duplicate_prob: Annotated[float, Field(ge=0, le=1)] = 0.0


BUILTIN_MECHANISMS = ("event_rule", "time_rule", "scan", "webhook", "exception_rule")


class Detection(Strict):
    """The mechanisms watching one category; the first to fire detects.

    Any other key names a plug-in mechanism (entry point ``exsim.mechanisms``) with its
    settings; it is validated against that mechanism's ``params`` model and kept in ``plugins``.
    """

    event_rule: EventRule | None = None
    time_rule: TimeRule | None = None
    scan: Scan | None = None
    webhook: Webhook | None = None
    exception_rule: ExceptionRule | None = None
    plugins: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _plugins(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        known = set(BUILTIN_MECHANISMS) | {"plugins"}
        extra = {k: v for k, v in data.items() if k not in known}
        if not extra:
            return data
        data = {k: v for k, v in data.items() if k in known}
        found = dict(data.get("plugins") or {})
        for name, raw in extra.items():
            plugins.params("mechanisms", name, raw)  # unknown name or bad settings: error
            found[name] = raw
        data["plugins"] = found
        return data

    @model_validator(mode="after")
    def _one(self) -> Detection:
        if not any(getattr(self, m) for m in BUILTIN_MECHANISMS) and not self.plugins:
            raise ValueError(f"needs at least one mechanism ({', '.join(BUILTIN_MECHANISMS)})")
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
    # at triage: hours left until the date promised to the customer (cases with a promise)
    hours_to_promise_max: float | None = None
    # at triage: minutes left before the SLA deadline runs out (the SLA exposure)
    sla_minutes_left_max: float | None = None
    # replay: the severity the history recorded for the case (a service desk's priority or
    # impact column); a case without one never matches
    recorded_severity: list[Severity] | None = None


class SeverityRule(Strict):
    id: str
    when: Condition = Condition()
    severity: Severity


class AiScorer(Strict):
    """An "AI-assisted" severity classifier, modelled honestly as a calibrated noisy classifier.

    Each case gets a confidence ``c`` drawn from a Beta distribution whose mean is ``accuracy``
    (``sharpness`` is its concentration: high means every case gets about the same confidence,
    low means the model is sure of some cases and unsure of others). The model is *calibrated*:
    a prediction made with confidence ``c`` is right with probability ``c`` (and a random other
    level otherwise), so the model is right on ``accuracy`` of all cases and raising the
    threshold buys accuracy. Below ``confidence_threshold`` a human triages it (``triage_min``
    of extra time) and gets the true severity (the rules' answer). Unless ``authoritative``,
    the prediction is only advisory: it is logged, and the severity used stays the rules' one.
    """

    accuracy: Annotated[float, Field(gt=0, lt=1)] = 0.85
    sharpness: Annotated[float, Field(gt=0)] = 4.0
    confidence_threshold: Annotated[float, Field(ge=0, le=1)] = 0.3
    triage_min: Distribution = Distribution(dist="lognormal", mean=8.0, cv=0.6)
    authoritative: bool = False


class SeverityPolicy(Strict):
    """Rules in order; the first match sets the severity, else ``default``.

    ``scorer`` names a plug-in scorer (entry point ``exsim.scorers``) with its settings, as
    ``{name: {settings}}``; it is handed the rules and may use them as ground truth.
    """

    default: Severity = "medium"
    rules: list[SeverityRule] = Field(default_factory=list)
    ai: AiScorer | None = None
    scorer: dict[str, Any] | None = None

    @field_validator("scorer")
    @classmethod
    def _known_scorer(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None:
            if len(v) != 1:
                raise ValueError("name exactly one scorer: {name: {settings}}")
            ((name, raw),) = v.items()
            plugins.params("scorers", name, raw)
        return v


class Routing(Strict):
    """Ownership matrix: category (optionally per site) to team."""

    default: str
    by_category: dict[str, str] = Field(default_factory=dict)
    by_site: dict[str, dict[str, str]] = Field(default_factory=dict)


# -- staffing ---------------------------------------------------------------------------------
class Shift(Strict):
    """A working window repeated on the given weekdays; ``end`` before ``start`` runs overnight."""

    name: str = "shift"
    days: list[Day] = Field(default_factory=lambda: list(ALL_DAYS), min_length=1)
    start: str = "00:00"
    end: str = "24:00"
    agents: Annotated[int, Field(ge=1, le=10_000)] = 1

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        minutes_of_day(v)
        return v

    @model_validator(mode="after")
    def _nonempty(self) -> Shift:
        if self.start == "24:00":
            raise ValueError("start: 24:00 ends a day; a shift starting at midnight starts 00:00")
        if minutes_of_day(self.start) == minutes_of_day(self.end) % 1440 and self.end != "24:00":
            raise ValueError("start and end are the same time")
        return self

    @property
    def start_min(self) -> int:
        return minutes_of_day(self.start)

    @property
    def end_min(self) -> int:
        return minutes_of_day(self.end)


class TeamSpec(Strict):
    """A team as the policy states it (the engine's working team is ``sim.team.Team``): agents
    who work a queue. Either ``agents`` always on duty, or ``shifts``."""

    agents: Annotated[int, Field(ge=1, le=10_000)] | None = None
    shifts: Annotated[list[Shift], Field(min_length=1)] | None = None
    cost_per_hour: Annotated[float, Field(ge=0)] = 0.0
    skills: list[str] | None = None

    @model_validator(mode="after")
    def _either(self) -> TeamSpec:
        if (self.agents is None) == (self.shifts is None):
            raise ValueError("give either agents (always on duty) or shifts")
        return self

    def shift_list(self) -> list[Shift]:
        if self.shifts is not None:
            return self.shifts
        return [Shift(name="always", agents=self.agents or 1)]


class Staffing(Strict):
    teams: dict[str, TeamSpec] = Field(min_length=1)


# -- queues, escalation, SLA ------------------------------------------------------------------
class QueueSpec(Strict):
    """How a team's queue is worked (the engine's queue is ``sim.team.Queue``).

    ``discipline``: fifo, priority (highest severity first), edf (earliest deadline first), or
    a plug-in discipline (entry point ``exsim.disciplines``)."""

    discipline: str = "fifo"

    @field_validator("discipline")
    @classmethod
    def _known(cls, v: str) -> str:
        plugins.get("disciplines", v)
        return v


class Reassign(Strict):
    """Move the case to team ``to`` (a second level, a supervisor's queue). Work already done
    is kept (``work: keep``: the new owner does what is left) or done again (``restart``)."""

    to: str
    work: Literal["keep", "restart"] = "keep"


class RaiseSeverity(Strict):
    """Raise the case ``levels`` severity levels (at most critical) and re-queue it, so a
    ``priority`` or ``edf`` queue serves it sooner. ``sla: follow`` moves its deadline to the
    new severity's target (usually shorter: stricter); ``keep`` leaves the deadline."""

    levels: Annotated[int, Field(ge=1, le=3)] = 1
    sla: Literal["follow", "keep"] = "keep"


class Swarm(Strict):
    """One agent of ``team`` joins the case, if that team has someone free right then: a case
    in work is finished by two (its remaining work halves), a waiting one is taken up."""

    team: str


class Page(Strict):
    """Page the ``on_call`` responder (``escalation.on_call``): after the response delay, if
    the case is still unresolved and nobody works it, the responder takes it, off shift or
    not, at the on-call cost."""

    on_call: str


class NotifyOnly(Strict):
    """Alert a role (``to``; default the tier's ``notify``): today's escalation, nothing moves."""

    to: str | None = None


ACTION_PARAMS: dict[str, type[Strict]] = {
    "notify": NotifyOnly,
    "reassign": Reassign,
    "raise_severity": RaiseSeverity,
    "swarm": Swarm,
    "page": Page,
}


class Tier(Strict):
    """One rung of an escalation ladder (an on-call tool's escalation rule).

    ``after_min`` is the escalation delay from detection; the tier fires when the case is
    then still unacknowledged (or unresolved). It notifies ``notify`` and, like a paging
    policy's repeat, re-notifies every ``repeat_every_min`` up to ``loops`` more times while
    the condition holds. ``actions`` say what else it does when it first fires, in order,
    each ``{name: {settings}}`` (or a bare name): ``reassign``, ``raise_severity``, ``swarm``,
    ``page``, ``notify``, or a plug-in action (entry point ``exsim.escalation_actions``).
    """

    after_min: Annotated[float, Field(ge=0)]
    when: Literal["unacknowledged", "unresolved"] = "unacknowledged"
    notify: str = "lead"
    repeat_every_min: Annotated[float, Field(ge=1)] | None = None
    loops: Annotated[int, Field(ge=0, le=100)] = 0
    actions: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("actions", mode="before")
    @classmethod
    def _named(cls, v: Any) -> Any:
        if not isinstance(v, list):
            return v
        out = []
        for i, item in enumerate(v):
            if isinstance(item, str):
                item = {item: {}}
            if not isinstance(item, dict) or len(item) != 1:
                raise ValueError(f"actions[{i}]: give one action as {{name: {{settings}}}}")
            ((name, raw),) = item.items()
            try:
                plugins.params("escalation_actions", name, raw)
            except plugins.PluginError as exc:
                raise ValueError(f"actions[{i}]: {exc}") from None
            out.append({name: raw or {}})
        return out

    def action_list(self) -> list[tuple[str, Any]]:
        """(name, validated settings) of each action, in order."""
        return [
            (name, plugins.params("escalation_actions", name, raw))
            for item in self.actions
            for name, raw in item.items()
        ]


class OnCall(Strict):
    """An on-call rota: ``responders`` people reachable off shift. A page reaches one after
    ``response_min``; each page costs ``cost_per_page`` (the call-out) and the responder's
    hands-on time ``cost_per_hour``."""

    responders: Annotated[int, Field(ge=1, le=10_000)] = 1
    response_min: Distribution = Distribution(dist="constant", mean=20.0)
    cost_per_page: Annotated[float, Field(ge=0)] = 0.0
    cost_per_hour: Annotated[float, Field(ge=0)] = 0.0


class Escalation(Strict):
    """Ladders per severity, and the acknowledgement timeout.

    ``ack_timeout_min``: an acknowledged case with no progress (not resolved) that long after
    its acknowledgement re-opens its escalation (an ``escalated`` row, detail ``ack-timeout``,
    to ``ack_timeout_notify``).
    """

    ladders: dict[Severity, list[Tier]] = Field(default_factory=dict)
    ack_timeout_min: dict[Severity, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    ack_timeout_notify: str = "lead"
    on_call: dict[str, OnCall] = Field(default_factory=dict)

    @field_validator("ladders")
    @classmethod
    def _ordered(cls, v: dict[str, list[Tier]]) -> dict[str, list[Tier]]:
        for sev, tiers in v.items():
            times = [t.after_min for t in tiers]
            if times != sorted(times):
                raise ValueError(f"{sev}: tiers must be in increasing after_min order")
        return v


class Sla(Strict):
    """Resolution targets in minutes from occurrence; the most specific one applies.

    ``pause_on_hold``: the clock stops while a case is on hold (waiting for a supplier, the
    customer...), as service-desk tools allow: each hold moves the deadline by its length.
    """

    default_min: Annotated[float, Field(gt=0)] = 480.0
    pause_on_hold: bool = False
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


class Suppression(Strict):
    """Alert hygiene, in the vocabulary of alerting tools.

    - ``dedup``: a second mechanism (or a duplicate delivery) detecting a case already known
      becomes a ``suppressed`` row instead of another alert (the dedup key is the case).
    - ``group_by`` + ``group_interval_min``: cases sharing the correlation key (e.g. category
      and warehouse) within the interval after a notification are grouped into it: their own
      notification is suppressed, the case is still queued. ``group_wait_min`` holds the
      first notification of a new group that long, so the cases arriving meanwhile join it.
    - ``inhibit_children``: no notification for a case while its parent case is open
      (orders blocked by one late receipt).
    - ``max_alerts_per_agent_hour``: a team's notifications in any rolling hour are capped at
      this many per agent on duty; the excess is suppressed.
    Every suppressed notification is logged, so alert load before and after is measurable.
    """

    dedup: bool = False
    group_by: list[Literal["category", "warehouse", "site", "customer_tier"]] = Field(
        default_factory=list
    )
    group_interval_min: Annotated[float, Field(gt=0)] = 30.0
    group_wait_min: Annotated[float, Field(ge=0)] = 0.0
    inhibit_children: bool = False
    max_alerts_per_agent_hour: Annotated[float, Field(gt=0)] | None = None


class Approver(Strict):
    """People who decide approval requests, on their own calendar."""

    agents: Annotated[int, Field(ge=1, le=10_000)] | None = None
    shifts: Annotated[list[Shift], Field(min_length=1)] | None = None
    decision_min: Distribution = Distribution(dist="lognormal", mean=20.0, cv=0.8)

    @model_validator(mode="after")
    def _either(self) -> Approver:
        if (self.agents is None) == (self.shifts is None):
            raise ValueError("give either agents (always available) or shifts")
        return self

    def shift_list(self) -> list[Shift]:
        if self.shifts is not None:
            return self.shifts
        return [Shift(name="always", agents=self.agents or 1)]


class Level(Strict):
    """Cases up to ``max_value`` (None: any value) go to ``approver`` ('auto' approves)."""

    max_value: float | None = None
    approver: str


class Decision(Strict):
    """A decision that needs approval before a case of these categories can be resolved."""

    decision: str  # a decision type (sim.policies.approvals.DECISIONS, or a plug-in's)
    categories: list[str] = Field(min_length=1)
    levels: list[Level] = Field(min_length=1)
    reject_prob: Annotated[float, Field(ge=0, le=1)] = 0.0

    @field_validator("decision")
    @classmethod
    def _known(cls, v: str) -> str:
        plugins.get("decisions", v)
        return v


class Approvals(Strict):
    """The approval matrix: decisions, value thresholds to approver levels, approvers."""

    approvers: dict[str, Approver] = Field(default_factory=dict)
    decisions: list[Decision] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known(self) -> Approvals:
        known = set(self.approvers) | {"auto"}
        for i, d in enumerate(self.decisions):
            for j, level in enumerate(d.levels):
                if level.approver not in known:
                    names = ", ".join(sorted(known))
                    raise ValueError(
                        f"decisions[{i}].levels[{j}].approver: unknown approver "
                        f"{level.approver!r} (approvals.approvers: {names})"
                    )
        return self


class Resolution(Strict):
    """``auto_resolve``: categories ('*' for all) whose cases close by themselves when their
    condition clears (a transient exception), instead of waiting for an agent.

    ``reopen_skilled_factor``: a fix by a team with the category's skill (in its ``skills``, or
    the team routing sends the category to) comes back this many times as often as the
    scenario's ``reopen.prob`` says (which is the rate for anyone else: a second-level team, a
    swarm helper, an on-call responder).
    """

    auto_resolve: list[str] = Field(default_factory=list)
    reopen_skilled_factor: Annotated[float, Field(ge=0, le=1)] = 0.5


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
    queue: QueueSpec = QueueSpec()
    escalation: Escalation = Escalation()
    suppression: Suppression = Suppression()
    approvals: Approvals = Approvals()
    resolution: Resolution = Resolution()
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
            category = where.rsplit(".", 1)[-1]
            skills = teams[team].skills
            if skills is not None and where != "routing.default" and category not in skills:
                raise ValueError(f"{where}: team {team!r} lacks the skill {category!r}")
        clash = set(self.approvals.approvers) & set(teams)
        if clash:
            raise ValueError(f"approvals.approvers: {sorted(clash)[0]!r} is also a team name")
        on_call = self.escalation.on_call
        for sev, tiers in self.escalation.ladders.items():
            for i, tier in enumerate(tiers):
                for j, (name, spec) in enumerate(tier.action_list()):
                    where = f"escalation.ladders.{sev}[{i}].actions[{j}].{name}"
                    team = getattr(spec, "to", None) if name == "reassign" else None
                    team = spec.team if name == "swarm" else team
                    if team is not None and team not in teams:
                        raise ValueError(
                            f"{where}: unknown team {team!r} (staffing.teams: {known})"
                        )
                    if name == "page" and spec.on_call not in on_call:
                        rota = ", ".join(sorted(on_call)) or "none defined"
                        raise ValueError(
                            f"{where}: unknown on-call rota {spec.on_call!r} "
                            f"(escalation.on_call: {rota})"
                        )
        return self
