"""The engine: one replication of a scenario under a policy, as a SimPy model.

Cases flow through the stations of an exception desk::

    occurred -> detected -> classified -> assigned -> notified | suppressed -> (queue)
             -> acknowledged/work_started -> [approval_requested -> approved | rejected]
             -> resolved -> closed          (escalated along the way when nobody answers)

Arrivals are one SimPy process per category; detection mechanisms, shift groups and escalation
timers are SimPy processes or timeouts with callbacks; everything that happens is appended to
the :class:`~sim.eventlog.EventLog`. Randomness comes from named streams (``sim.streams``):
arrivals, work content, attributes, trigger dates and transience from per-category streams that
no policy setting touches, so two policies run on the same seed face exactly the same exceptions.

Configured as one category with Poisson arrivals, an event rule, one always-on team of c agents,
exponential handling, FIFO and no escalation, the model is exactly an M/M/c queue.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import simpy

from sim.case import Case
from sim.eventlog import (
    ACKNOWLEDGED,
    APPROVAL_REQUESTED,
    APPROVED,
    ASSIGNED,
    CLASSIFIED,
    CLOSED,
    DETECTED,
    NOTIFIED,
    OCCURRED,
    REJECTED,
    RESOLVED,
    SEVERITIES,
    SUPPRESSED,
    WORK_STARTED,
    EventLog,
    LogMeta,
    ParquetSink,
)
from sim.generators.distributions import Sampler
from sim.generators.injected import injected_world
from sim.generators.operations import operations_world
from sim.policies.approvals import Matrix
from sim.policies.detection import MECHANISMS
from sim.policies.disciplines import DISCIPLINES
from sim.policies.escalation import Ladders
from sim.policies.routing import owner
from sim.policies.schema import Policy
from sim.policies.severity import scorer
from sim.policies.suppression import Suppressor
from sim.scenarios.schema import Scenario
from sim.shifts import Calendar
from sim.streams import Streams
from sim.team import Agent, Team

Progress = Callable[[float], None]
World = Callable[["Simulation"], None]  # starts the processes that make cases occur


class Simulation:
    """One replication. Build it, call :meth:`run`, read :attr:`log`."""

    def __init__(
        self,
        scenario: Scenario,
        policy: Policy,
        seed: int = 0,
        rep: int = 0,
        reps: int = 1,
        sink: ParquetSink | None = None,
        world: World | None = None,
    ) -> None:
        self.scenario = scenario
        self.policy = policy
        self.horizon = scenario.horizon_min
        self.env = simpy.Environment()
        self.streams = Streams(seed, rep)
        self.shared: dict[str, object] = {}  # state shared by mechanisms (the time-rule job)
        start = scenario.start
        self.meta = LogMeta(
            start=start.isoformat(),
            horizon_min=self.horizon,
            scenario=scenario.name,
            policy=policy.name,
            seed=seed,
            reps=reps,
        )
        self.log = EventLog(self.meta, rep=rep, sink=sink)
        code = self.log.code
        key = DISCIPLINES[policy.queue.discipline]
        self.teams: dict[str, Team] = {}
        for name, spec in policy.staffing.teams.items():
            self.teams[name] = Team(
                self, name, _groups(spec, start), key, self._start_work, self._work_done
            )
        self.approvers: dict[str, tuple[Team, Sampler]] = {}
        for name, spec in policy.approvals.approvers.items():
            pool = Team(self, name, _groups(spec, start), None, self._start_decision, self._decided)
            self.approvers[name] = (
                pool,
                Sampler(spec.decision_min, self.streams.generator(f"approval/{name}")),
            )
        self.matrix = Matrix(policy.approvals)
        self.approval_stream = self.streams.stream("approval/outcome")
        self.meta.capacity_min = {n: t.capacity_min(self.horizon) for n, t in self.teams.items()}
        self.meta.extra = {
            "cost_per_hour": {n: t.cost_per_hour for n, t in policy.staffing.teams.items()},
            "watchers": {},
        }
        self.meta.extra["on_duty"] = {n: t.on_duty(self.horizon) for n, t in self.teams.items()}
        self.scorer = scorer(policy.severity, self.streams)
        self.ladders = Ladders(self, policy.escalation)
        self.suppressor = Suppressor(policy.suppression)
        self.dedup = policy.suppression.dedup
        self.auto_resolve = set(policy.resolution.auto_resolve)  # '*' means every category
        self._targets: dict[tuple[str, int], float] = {}
        self._owners: dict[tuple[str, str | None], Team] = {}
        self._mech_code = {name: code(name) for name in MECHANISMS}
        self._dup_code = {name: code(f"duplicate:{name}") for name in MECHANISMS}
        self._system = code("system")
        self._watchers: dict[str, list] = {}
        #: called when the desk resolves a case (an operations world acts on it)
        self.on_resolved: Callable[[Case, str], None] | None = None
        #: called once at the end of a run (a world writes its outcomes into the metadata)
        self.finalizers: list[Callable[[], None]] = []
        if world is None:
            world = injected_world if scenario.mode == "injected" else operations_world
        world(self)

    def _mechanisms(self, category: str) -> list:
        spec = self.policy.detection.get(category) or self.policy.detection.get("*")
        if spec is None:
            return []
        out = []
        for name, cls in MECHANISMS.items():
            params = getattr(spec, name, None)
            if params is not None:
                stream = self.streams.stream(f"detection/{name}/{category}")
                out.append(cls(self, category, params, stream))
        return out

    # -- the world: cases occur ----------------------------------------------------------------
    def watchers(self, category: str) -> list:
        """The detection mechanisms watching ``category`` (built on first use)."""
        found = self._watchers.get(category)
        if found is None:
            found = self._watchers[category] = self._mechanisms(category)
            self.meta.extra["watchers"][category] = [type(w).name for w in found]
        return found

    def occur(
        self,
        category: str,
        t: float,
        work: float,
        value: float = math.nan,
        tier: str | None = None,
        warehouse: str | None = None,
        site: str | None = None,
        trigger: float | None = None,
        clears_after: float | None = None,
        parent: Case | None = None,
        cause: str | None = None,
        promise: float = math.nan,
        recorded_severity: str | None = None,
    ) -> Case:
        """An exception occurs in the world at ``t`` (now): log it and let the rules watch it.

        The entry point of every world: injected arrivals, an operations model, a replayed
        history. ``work`` is its hands-on minutes; ``clears_after`` makes it transient;
        ``cause`` names the operational record behind it (logged as the occurred row's detail);
        ``promise`` is the date promised to the customer, if one is at stake;
        ``recorded_severity`` the severity a recorded history gave it (replay), for rules.
        """
        trigger = t if trigger is None else trigger
        cid = self.log.open_case(
            category,
            value,
            tier,
            warehouse,
            site,
            parent.id if parent is not None else -1,
            trigger,
            cause,
            promise,
        )
        due = t + self._category_target(category)
        case = Case(cid, category, t, work, value, tier, warehouse, site, due, trigger, parent)
        case.promise = promise
        case.recorded_severity = recorded_severity
        self.log.record(t, cid, OCCURRED, -1, 0, 0, 0, due)
        if clears_after is not None:
            case.transient = True
            self.env.timeout(t + clears_after - self.env.now, case).callbacks.append(self._cleared)
        for w in self.watchers(category):
            w.watch(case)
        return case

    def _category_target(self, category: str) -> float:
        target = self._targets.get((category, -1))
        if target is None:
            target = self._targets[(category, -1)] = self.policy.sla.target(category, None)
        return target

    def _cleared(self, event) -> None:
        self.clear(event.value)

    def clear(self, case: Case) -> None:
        """The condition behind ``case`` went away in the world (stock arrived, API is back).

        Undetected, it simply ends ("cleared"); detected, the desk still has it unless the
        policy auto-resolves its category.
        """
        if case.resolved:
            return
        case.matching = False
        if not case.detected:
            self.resolve(case, self._system, self.log.code("cleared"))
        elif case.category in self.auto_resolve or "*" in self.auto_resolve:
            self.resolve(case, self._system, self.log.code("auto-resolved"))

    # -- detection -----------------------------------------------------------------------------
    def detect(self, case: Case, mechanism: str) -> None:
        """A mechanism fired: the first one detects, later ones are duplicates."""
        if mechanism in case.detections:
            return
        case.detections.add(mechanism)
        if case.detected:
            self.duplicate(case, mechanism)
            return
        case.detected = True
        code = self._mech_code[mechanism]
        self.record(self.env.now, case, DETECTED, actor=code, detail=code)
        self._triage(case)

    def duplicate(self, case: Case, mechanism: str) -> None:
        """A repeated detection: another alert, or a suppressed one under dedup."""
        event = SUPPRESSED if self.dedup else DETECTED
        self.record(
            self.env.now,
            case,
            event,
            actor=self._mech_code[mechanism],
            detail=self._dup_code[mechanism],
        )

    # -- triage and routing --------------------------------------------------------------------
    def _triage(self, case: Case) -> None:
        severity, reason, delay = self.scorer(case, self.env.now)
        case.severity = severity
        if delay > 0:
            self.env.timeout(delay, (case, reason)).callbacks.append(self._classified)
        else:
            self._classify(case, reason)

    def _classified(self, event) -> None:
        case, reason = event.value
        if not case.resolved:
            self._classify(case, reason)

    def _classify(self, case: Case, reason: str) -> None:
        now = self.env.now
        key = (case.category, case.severity)
        target = self._targets.get(key)
        if target is None:
            target = self._targets[key] = self.policy.sla.target(
                case.category, SEVERITIES[case.severity]
            )
        case.due = case.occurred + target
        self.record(now, case, CLASSIFIED, detail=self.log.code(reason))
        okey = (case.category, case.site)
        team = self._owners.get(okey)
        if team is None:
            team = self._owners[okey] = self.teams[
                owner(self.policy.routing, case.category, case.site)
            ]
        case.team = team
        self.record(now, case, ASSIGNED)
        self._notify(case, team, now)
        self.ladders.arm(case)
        team.push(case)

    def _notify(self, case: Case, team: Team, now: float) -> None:
        reason, wait = None, 0.0
        if self.suppressor.active:
            on_duty = sum(1 for agents, _ in team.groups for a in agents if a.on)
            reason, wait = self.suppressor.decide(case, now, team.name, on_duty)
        if reason is not None:
            self.record(now, case, SUPPRESSED, detail=self.log.code(reason))
        elif wait > 0:  # a new alert group: the notification goes out after the group wait
            self.env.timeout(wait, case).callbacks.append(self._notify_later)
        else:
            self.record(now, case, NOTIFIED)

    def _notify_later(self, event) -> None:
        self.record(self.env.now, event.value, NOTIFIED)

    # -- work, approval, resolution ------------------------------------------------------------
    def _start_work(self, agent: Agent, case: Case) -> float:
        now = self.env.now
        case.acknowledged = True
        self.record(now, case, ACKNOWLEDGED, agent.code)
        self.record(now, case, WORK_STARTED, agent.code)
        self.ladders.acknowledged(case)
        return case.work

    def _work_done(self, agent: Agent, case: Case) -> None:
        if case.resolved:  # auto-resolved while being worked
            return
        route = self.matrix.route(case) if self.matrix.by_category else None
        if route is None:
            self.resolve(case, agent.code)
            return
        decision, approver = route
        now = self.env.now
        case.decision = decision
        self.record(
            now,
            case,
            APPROVAL_REQUESTED,
            agent.code,
            self.log.code(decision.decision),
            team=self.log.code(approver),
        )
        if approver == "auto":
            auto = self.log.code("auto")
            self.record(now, case, APPROVED, auto, auto, team=self.log.code("auto"))
            self.resolve(case, agent.code)
        else:
            self.approvers[approver][0].push(case)

    def _start_decision(self, agent: Agent, case: Case) -> float:
        return self.approvers[_pool_of(agent)][1]()

    def _decided(self, agent: Agent, case: Case) -> None:
        now = self.env.now
        rejected = self.approval_stream.random() < case.decision.reject_prob
        team = self.log.code(_pool_of(agent))
        self.record(now, case, REJECTED if rejected else APPROVED, agent.code, team=team)
        if not case.resolved:
            detail = self.log.code("rejected") if rejected else 0
            self.resolve(case, agent.code, detail)

    def resolve(self, case: Case, actor: int, detail: int = 0) -> None:
        now = self.env.now
        case.resolved = True
        case.matching = False
        self.record(now, case, RESOLVED, actor, detail)
        self.record(now, case, CLOSED, actor)
        if self.on_resolved is not None and actor != self._system:
            self.on_resolved(case, self.log.strings.strings[detail] or "")

    def record(
        self, ts: float, case: Case, event: int, actor: int = 0, detail: int = 0, team=None
    ) -> None:
        """Log ``event`` (an event code) of ``case`` with its current severity, team, deadline."""
        if team is None:
            team = case.team.code if case.team is not None else 0
        self.log.record(ts, case.id, event, case.severity, team, actor, detail, case.due)

    # -- running -------------------------------------------------------------------------------
    def run(self, progress: Progress | None = None, step_min: float = 1440.0) -> EventLog:
        """Run to the horizon; cases still open then stay open (nothing is lost)."""
        t = 0.0
        while t < self.horizon:
            t = min(t + step_min, self.horizon)
            self.env.run(until=t)
            if progress is not None:
                progress(t / self.horizon)
        for finish in self.finalizers:
            finish()
        self.log.flush()
        return self.log


def _groups(spec, start) -> list[tuple[str, int, Calendar]]:
    """(shift name, agents, calendar) of a team or approver pool."""
    return [(s.name, s.agents, Calendar.from_shift(s, start)) for s in spec.shift_list()]


def _pool_of(agent: Agent) -> str:
    return agent.name.split("/", 1)[0]
