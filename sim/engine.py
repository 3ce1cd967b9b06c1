"""The engine: one replication of a scenario under a policy, as a SimPy model.

Cases flow through the stations of an exception desk::

    occurred -> detected -> classified -> assigned -> notified | suppressed -> (queue)
             -> acknowledged/work_started -> [on_hold -> resumed -> (queue) -> work_started]
             -> [approval_requested -> approved | rejected] -> resolved -> closed
             [-> reopened -> (queue) -> work_started -> resolved -> closed]

and escalated along the way when nobody answers: an escalation tier may only notify, or act
(reassign the case to another team, raise its severity, swarm it, page an on-call responder:
``reassigned``, ``classified``, ``work_started`` and ``notified`` rows with the tier in
``detail``). Hands-on work is ``remaining`` minutes that agents work down in segments: a hold
puts the case down part-way, a reassignment moves what is left (or all of it) to another team,
a swarm helper halves what is left.

Arrivals are a chain of timers per category; detection mechanisms, shift groups and escalation are
SimPy processes or timers with callbacks (:mod:`sim.timers`); everything that happens is appended to
the :class:`~sim.eventlog.EventLog`. Randomness comes from named streams (``sim.streams``):
arrivals, work content, attributes, trigger dates and transience from per-category streams that no
policy setting touches, so two policies run on the same seed face exactly the same exceptions.

Configured as one category with Poisson arrivals, an event rule, one always-on team of c agents,
exponential handling, FIFO and no escalation, the model is exactly an M/M/c queue.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable
from typing import Any

import simpy

import sim.plugins as plugins
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
    ON_HOLD,
    REASSIGNED,
    REJECTED,
    REOPENED,
    RESOLVED,
    RESUMED,
    SEVERITIES,
    SUPPRESSED,
    WORK_STARTED,
    EventLog,
    LogMeta,
    ParquetSink,
)
from sim.eventlog.recorder import ACTOR_SHIFT, DETAIL_SHIFT, SEVERITY_SHIFT, TEAM_SHIFT
from sim.generators.distributions import Sampler
from sim.generators.injected import injected_world
from sim.generators.operations import operations_world
from sim.policies.approvals import Matrix
from sim.policies.disciplines import discipline_key
from sim.policies.escalation import Ladders
from sim.policies.routing import owner
from sim.policies.schema import BUILTIN_MECHANISMS, Policy, Shift
from sim.policies.severity import scorer
from sim.policies.suppression import Suppressor
from sim.port import EnginePort
from sim.scenarios.schema import Scenario
from sim.shifts import Calendar
from sim.streams import Streams
from sim.team import Agent, Team
from sim.timers import after, run_until

Progress = Callable[[float], None]
#: Allocations between two collections of the youngest generation while a run goes on.
GC_YOUNG = 50_000
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
        self.buf = self.log.buf  # the log's row buffer: hot paths extend it themselves
        code = self.log.code
        self.port = EnginePort(self)
        self.shared = self.port.objects  # per-run objects parts share (the time-rule job)
        key = discipline_key(policy.queue.discipline)
        self.teams: dict[str, Team] = {}
        for name, spec in policy.staffing.teams.items():
            self.teams[name] = Team(
                self, name, _groups(spec, start), key, self._start_work, self._work_done
            )
        self._skills = _skills(policy)
        self.on_call: dict[str, tuple[Team, Sampler]] = {}
        for name, rota in policy.escalation.on_call.items():
            rota_cal = Calendar.from_shift(Shift(name="on-call"), start)
            always = [("on-call", rota.responders, rota_cal)]
            self.on_call[name] = (
                Team(self, name, always, None, self._start_work, self._work_done),
                Sampler(rota.response_min, self.streams.generator(f"on_call/{name}")),
            )
        self._draws: dict[str, _CaseDraws | None] = {}
        self.pause_on_hold = policy.sla.pause_on_hold
        self.reopen_factor = policy.resolution.reopen_skilled_factor
        self.approvers: dict[str, tuple[Team, Sampler]] = {}
        for name, approver in policy.approvals.approvers.items():
            pool = Team(
                self, name, _groups(approver, start), None, self._start_decision, self._decided
            )
            self.approvers[name] = (
                pool,
                Sampler(approver.decision_min, self.streams.generator(f"approval/{name}")),
            )
        self.matrix = Matrix(policy.approvals)
        self.approval_stream = self.streams.stream("approval/outcome")
        self.meta.capacity_min = {n: t.capacity_min(self.horizon) for n, t in self.teams.items()}
        self.meta.extra = {
            "cost_per_hour": {n: t.cost_per_hour for n, t in policy.staffing.teams.items()},
            "watchers": {},
        }
        self.meta.extra["on_duty"] = {n: t.on_duty(self.horizon) for n, t in self.teams.items()}
        if self.on_call:
            self.meta.extra["on_call"] = {
                n: {"cost_per_page": r.cost_per_page, "cost_per_hour": r.cost_per_hour}
                for n, r in policy.escalation.on_call.items()
            }
        self.scorer = scorer(policy.severity, self.streams, self.port)
        self.ladders = Ladders(self, policy.escalation)
        self.suppressor = Suppressor(policy.suppression)
        self._suppressing = self.suppressor.active
        self._codes = self.log.strings.codes  # string -> code of the names interned so far
        self.dedup = policy.suppression.dedup
        self.auto_resolve = set(policy.resolution.auto_resolve)  # '*' means every category
        self._targets: dict[tuple[str, int], float] = {}
        self._owners: dict[tuple[str, str | None], Team] = {}
        self._mech_code: dict[str, int] = {}
        self._dup_code: dict[str, int] = {}
        self._system = code("system")
        self._resumed = code("resumed")
        self._watchers: dict[str, list] = {}
        #: called when the desk resolves a case (an operations world acts on it)
        self.on_resolved: Callable[[Case, str], None] | None = None
        #: called once at the end of a run (a world writes its outcomes into the metadata)
        self.finalizers: list[Callable[[], None]] = []
        #: the world's own state, for inspection (tests, notebooks): set by worlds that have one
        self.world: Any = None
        if world is None:
            world = injected_world if scenario.mode == "injected" else operations_world
        world(self)

    def _mechanisms(self, category: str) -> list:
        spec = self.policy.detection.get(category) or self.policy.detection.get("*")
        if spec is None:
            return []
        out = []
        chosen = [(n, getattr(spec, n)) for n in BUILTIN_MECHANISMS if getattr(spec, n) is not None]
        chosen += [(n, plugins.params("mechanisms", n, raw)) for n, raw in spec.plugins.items()]
        for name, params in chosen:
            cls = plugins.get("mechanisms", name)
            if name not in self._mech_code:
                self._mech_code[name] = self.log.code(name)
                self._dup_code[name] = self.log.code(f"duplicate:{name}")
            stream = self.streams.stream(f"detection/{name}/{category}")
            out.append(cls(self.port, category, params, stream))
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
        hold: tuple[float, float, str] | None = None,
    ) -> Case:
        """An exception occurs in the world at ``t`` (now): log it and let the rules watch it.

        The entry point of every world: injected arrivals, an operations model, a replayed
        history. ``work`` is its hands-on minutes; ``clears_after`` makes it transient;
        ``cause`` names the operational record behind it (logged as the occurred row's detail);
        ``promise`` is the date promised to the customer, if one is at stake;
        ``recorded_severity`` the severity a recorded history gave it (replay), for rules;
        ``hold`` a wait it will meet (work done first, minutes, reason) instead of a draw.
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
        try:
            draws = self._draws[category]
        except KeyError:
            draws = self._draws[category] = _CaseDraws.of(self, category)
        if draws is not None:
            draws.draw(case)
        if hold is not None:  # a recorded wait (replay) is the case's, not a draw
            case.hold = hold
        self.buf += (cid, t, OCCURRED, due)  # no severity, team, actor or detail yet
        if clears_after is not None:
            case.transient = True
            after(self.env, t + clears_after - self.env.now, self._cleared, case)
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
        now = self.env._now
        self.buf += (
            case.id,
            now,
            DETECTED
            | (case.severity + 1) << SEVERITY_SHIFT
            | (case.team.code if case.team is not None else 0) << TEAM_SHIFT
            | code << ACTOR_SHIFT
            | code << DETAIL_SHIFT,
            case.due,
        )
        # triage: the scorer sets the severity, at once or after a triage delay
        severity, reason, delay = self.scorer(case, now)
        case.severity = severity
        if delay > 0:
            after(self.env, delay, self._classified, (case, reason))
        else:
            self._classify(case, reason)

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
    def _classified(self, event) -> None:
        case, reason = event.value
        if not case.resolved:
            self._classify(case, reason)

    def _classify(self, case: Case, reason: str) -> None:
        """Severity is set (by triage): the case gets its deadline and its team."""
        now = self.env._now
        key = (case.category, case.severity)
        target = self._targets.get(key)
        if target is None:
            target = self._targets[key] = self.policy.sla.target(
                case.category, SEVERITIES[case.severity]
            )
        case.due = due = case.occurred + target
        okey = (case.category, case.site)
        team = self._owners.get(okey)
        if team is None:
            team = self._owner(case)
        before = case.team.code if case.team is not None else 0
        case.team = team
        codes = (case.severity + 1) << SEVERITY_SHIFT
        cid = case.id
        why = self._codes.get(reason)
        if why is None:
            why = self.log.code(reason)
        classified = CLASSIFIED | codes | before << TEAM_SHIFT | why << DETAIL_SHIFT
        codes |= team.code << TEAM_SHIFT
        if self._suppressing:
            self.buf += (cid, now, classified, due, cid, now, ASSIGNED | codes, due)
            self._notify(case, team, now)
        else:  # notified at once: the three rows of this moment in one go
            self.buf += (
                cid, now, classified, due,
                cid, now, ASSIGNED | codes, due,
                cid, now, NOTIFIED | codes, due,
            )  # fmt: skip
        self.ladders.arm(case)
        case.waiting_at = team
        team.push(case)

    def _notify(self, case: Case, team: Team, now: float) -> None:
        reason, wait = None, 0.0
        if self._suppressing:
            on_duty = sum(1 for agents, _ in team.groups for a in agents if a.on)
            reason, wait = self.suppressor.decide(case, now, team.name, on_duty)
        if reason is not None:
            self.record(now, case, SUPPRESSED, detail=self.log.code(reason))
        elif wait > 0:  # a new alert group: the notification goes out after the group wait
            after(self.env, wait, self._notify_later, case)
        else:
            self.record(now, case, NOTIFIED)

    def _notify_later(self, event) -> None:
        self.record(self.env.now, event.value, NOTIFIED)

    # -- work, approval, resolution ------------------------------------------------------------
    def _start_work(self, agent: Agent, case: Case, again: int = -1) -> float | None:
        """``agent`` starts (or goes on with) the case: minutes of this piece of work. None for
        a stale queue entry (the case moved on: reassigned, re-queued). ``again`` is the detail
        of the work_started row when the case was started before (default: "resumed")."""
        if case.waiting_at is not agent.team:
            return None
        if again < 0:
            again = self._resumed
        case.waiting_at = None
        now = self.env._now
        if case.acknowledged:
            self.record(now, case, WORK_STARTED, agent.code, again)
        else:
            case.acknowledged = True
            codes = (
                (case.severity + 1) << SEVERITY_SHIFT
                | (case.team.code if case.team is not None else 0) << TEAM_SHIFT
                | agent.code << ACTOR_SHIFT
            )
            first = 0 if again == self._resumed else again
            due = case.due
            self.buf += (
                case.id, now, ACKNOWLEDGED | codes, due,
                case.id, now, WORK_STARTED | codes | first << DETAIL_SHIFT, due,
            )  # fmt: skip
            self.ladders.acknowledged(case)
        case.agent = agent
        case.started = now
        hold = case.hold
        if hold is not None:
            done = case.work - case.remaining
            if done < hold[0]:  # this piece of work ends where the case has to wait
                case.target = case.work - hold[0]
                return hold[0] - done
        case.target = 0.0
        return case.remaining

    def _enqueue(self, case: Case, team: Team) -> None:
        case.team = team
        case.waiting_at = team
        team.push(case)

    def _take_off(self, case: Case, keep: bool) -> None:
        """Stop whoever works the case (what they did counts, unless ``keep`` is False) and
        make any queue entry of it stale."""
        agent = case.agent
        if agent is not None:
            done = (self.env.now - case.started) * (1 + len(case.helpers))
            case.remaining = max(case.target, case.remaining - done)
            agent.team.release(agent)
            for helper in case.helpers:
                helper.team.release(helper)
            case.helpers.clear()
            case.agent = None
        case.waiting_at = None
        if not keep:
            case.remaining = case.work

    def _movable(self, case: Case) -> bool:
        """Neither done, nor waiting on someone outside, nor with an approver."""
        return not (case.resolved or case.on_hold or case.decision is not None)

    def _work_done(self, agent: Agent, case: Case) -> None:
        if case.resolved:  # auto-resolved while being worked
            return
        case.agent = None
        case.remaining = case.target
        if case.remaining > 0.0:  # stopped where it has to wait: on hold
            self._hold(agent, case)
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
        decision = case.decision
        assert decision is not None  # an approver only ever holds cases awaiting a decision
        rejected = self.approval_stream.random() < decision.reject_prob
        team = self.log.code(_pool_of(agent))
        self.record(now, case, REJECTED if rejected else APPROVED, agent.code, team=team)
        case.decision = None
        if not case.resolved:
            detail = self.log.code("rejected") if rejected else 0
            self.resolve(case, agent.code, detail)

    def resolve(self, case: Case, actor: int, detail: int = 0) -> None:
        now = self.env._now
        case.resolved = True
        case.matching = False
        codes = (
            (case.severity + 1) << SEVERITY_SHIFT
            | (case.team.code if case.team is not None else 0) << TEAM_SHIFT
            | actor << ACTOR_SHIFT
        )
        due = case.due
        self.buf += (
            case.id, now, RESOLVED | codes | detail << DETAIL_SHIFT, due,
            case.id, now, CLOSED | codes, due,
        )  # fmt: skip
        if actor == self._system:
            return
        if case.reopen is not None:
            self._maybe_reopen(case)
        if self.on_resolved is not None and not case.reopened:
            self.on_resolved(case, self.log.strings.strings[detail] or "")

    # -- work that waits and work that comes back ----------------------------------------------
    def _hold(self, agent: Agent, case: Case) -> None:
        hold = case.hold
        assert hold is not None  # work stops short only where a hold is due
        _, minutes, reason = hold
        case.hold = None
        case.on_hold = True
        self.record(self.env.now, case, ON_HOLD, agent.code, self.log.code(reason))
        after(self.env, minutes, self._resume, (case, minutes))

    def _resume(self, event) -> None:
        case, minutes = event.value
        case.on_hold = False
        if case.resolved:  # it cleared and was auto-resolved meanwhile
            return
        if self.pause_on_hold:  # the SLA clock stood still while it waited
            case.due += minutes
        self.record(self.env.now, case, RESUMED)
        self._enqueue(case, case.team)

    def _maybe_reopen(self, case: Case) -> None:
        reopen, draws = case.reopen, self._draws[case.category]
        assert reopen is not None and draws is not None  # drawn at occurrence
        u, delay, rework = reopen
        case.reopen = None  # a case comes back at most once
        prob = draws.reopen_prob
        if case.team is not None and case.category in self._skills.get(case.team.name, ()):
            prob *= self.reopen_factor
        if u < prob:
            after(self.env, delay, self._reopened, (case, rework))

    def _reopened(self, event) -> None:
        case, rework = event.value
        case.resolved = False
        case.reopened = True
        case.remaining = rework * case.work
        team = self._owner(case)
        case.team = team
        self.record(self.env.now, case, REOPENED, detail=self.log.code("fix-did-not-hold"))
        self._enqueue(case, team)

    def _owner(self, case: Case) -> Team:
        okey = (case.category, case.site)
        team = self._owners.get(okey)
        if team is None:
            team = self._owners[okey] = self.teams[
                owner(self.policy.routing, case.category, case.site)
            ]
        return team

    # -- the desk's moves (what escalation tiers do) -------------------------------------------
    def reassign(self, case: Case, team: str, keep_work: bool = True, detail: str = "") -> bool:
        """Move the case to ``team``'s queue; the agent working it, if any, puts it down."""
        target = self.teams[team]
        if not self._movable(case) or case.team is target:
            return False
        self._take_off(case, keep_work)
        case.team = target
        self.record(self.env.now, case, REASSIGNED, detail=self.log.code(detail))
        self._enqueue(case, target)
        return True

    def raise_severity(
        self, case: Case, levels: int = 1, sla_follows: bool = False, detail: str = ""
    ) -> bool:
        """Raise the severity (re-queued under a keyed discipline; deadline follows or not)."""
        new = min(case.severity + levels, len(SEVERITIES) - 1)
        if case.resolved or new == case.severity:
            return False
        case.severity = new
        if sla_follows:
            case.due = case.occurred + self.policy.sla.target(case.category, SEVERITIES[new])
        self.record(self.env.now, case, CLASSIFIED, detail=self.log.code(detail))
        team = case.waiting_at
        if team is not None and team.queue.key is not None:
            team.push(case)  # the old entry is served after this one and then skipped
        return True

    def swarm(self, case: Case, team: str, detail: str = "") -> bool:
        """An idle agent of ``team`` joins: halves the work left, or takes the waiting case."""
        helpers = self.teams[team]
        if not self._movable(case) or case.helpers or not helpers.idle:
            return False
        now = self.env.now
        code = self.log.code(detail)
        agent = case.agent
        if agent is not None:
            case.remaining -= now - case.started
            case.started = now
            share = (case.remaining - case.target) / 2.0
            agent.team.restart(agent, case, share)
            helper = helpers.lend(case, share, self._helped)
            assert helper is not None  # someone is idle (checked above)
            case.helpers.append(helper)
            self.record(now, case, WORK_STARTED, helper.code, code)
            return True
        if case.waiting_at is None:
            return False
        helper = helpers.take_idle()
        assert helper is not None  # someone is idle (checked above)
        case.waiting_at = helpers
        minutes = self._start_work(helper, case, code)
        assert minutes is not None  # the case waits at the helper's team: never stale
        helpers.run(helper, case, minutes)
        return True

    def _helped(self, agent: Agent, case: Case) -> None:
        if agent in case.helpers:
            case.helpers.remove(agent)

    def page(self, case: Case, on_call: str, detail: str = "") -> bool:
        """Page the on-call rota: a responder arrives after the response delay and takes the
        case if it still needs someone."""
        if not self._movable(case):
            return False
        pool, response = self.on_call[on_call]
        self.record(self.env.now, case, NOTIFIED, detail=self.log.code(detail), team=pool.code)
        after(self.env, response(), self._responder, (case, pool, detail))
        return True

    def _responder(self, event) -> None:
        case, pool, detail = event.value
        if not self._movable(case) or case.agent is not None:
            return  # resolved, waiting on someone, or somebody works it already
        self._take_off(case, True)
        case.team = pool
        self.record(self.env.now, case, REASSIGNED, detail=self.log.code(detail))
        self._enqueue(case, pool)

    def record(
        self, ts: float, case: Case, event: int, actor: int = 0, detail: int = 0, team=None
    ) -> None:
        """Log ``event`` (an event code) of ``case`` with its current severity, team, deadline."""
        if team is None:
            team = case.team.code if case.team is not None else 0
        self.buf += (
            case.id,
            ts,
            event
            | (case.severity + 1) << SEVERITY_SHIFT
            | team << TEAM_SHIFT
            | actor << ACTOR_SHIFT
            | detail << DETAIL_SHIFT,
            case.due,
        )

    # -- running -------------------------------------------------------------------------------
    def run(self, progress: Progress | None = None, step_min: float = 1440.0) -> EventLog:
        """Run to the horizon; cases still open then stay open (nothing is lost).

        The garbage collector is told what the run is like: everything built so far (the model,
        its configuration, imported modules) lives as long as the run, so it is frozen out of
        the collector's scans (``gc.freeze``), and the youngest generation is collected every
        :data:`GC_YOUNG` allocations instead of every 700, as a run allocates a great many
        short-lived objects (rows, events, tuples) and makes almost no reference cycles. Both
        are restored when the run ends."""
        threshold = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(max(threshold[0], GC_YOUNG), *threshold[1:])
        try:
            t = 0.0
            while t < self.horizon:
                t = min(t + step_min, self.horizon)
                run_until(self.env, t)
                if progress is not None:
                    progress(t / self.horizon)
        finally:
            gc.set_threshold(*threshold)
            gc.unfreeze()
        for finish in self.finalizers:
            finish()
        self.log.flush()
        return self.log


class _CaseDraws:
    """A category's hold and reopen draws, made for each case as it occurs.

    Drawn from the category's own streams at occurrence (not when the desk gets to it), so every
    policy faces the same holds and the same fixes that would not hold (common random numbers).
    """

    __slots__ = (
        "hold",
        "reasons",
        "cumulative",
        "hold_u",
        "durations",
        "reopen",
        "reopen_u",
        "reopen_after",
        "reopen_prob",
    )

    @classmethod
    def of(cls, sim: Simulation, category: str) -> _CaseDraws | None:
        spec = sim.scenario.categories.get(category)
        if spec is None or (spec.hold is None and spec.reopen is None):
            return None
        return cls(sim, category, spec)

    def __init__(self, sim: Simulation, category: str, spec) -> None:
        self.hold = spec.hold
        self.reopen = spec.reopen
        streams = sim.streams
        if self.hold is not None:
            self.reasons = list(self.hold.waits)
            total = sum(w.weight for w in self.hold.waits.values())
            acc, self.cumulative = 0.0, []
            for w in self.hold.waits.values():
                acc += w.weight / total
                self.cumulative.append(acc)
            self.hold_u = streams.stream(f"hold/{category}")
            gen = streams.generator(f"hold/{category}/duration")
            self.durations = [Sampler(w.duration_min, gen) for w in self.hold.waits.values()]
        if self.reopen is not None:
            self.reopen_u = streams.stream(f"reopen/{category}")
            self.reopen_after = Sampler(
                self.reopen.after_min, streams.generator(f"reopen/{category}/after")
            )
            self.reopen_prob = self.reopen.prob

    def draw(self, case: Case) -> None:
        hold = self.hold
        if hold is not None:
            u = self.hold_u.random()
            which = self.hold_u.choice(self.cumulative)
            minutes = self.durations[which]()
            if u < hold.prob:
                case.hold = (hold.at_fraction * case.work, minutes, self.reasons[which])
        if self.reopen is not None:
            u = self.reopen_u.random()
            case.reopen = (u, self.reopen_after(), self.reopen.rework_fraction)


def _skills(policy: Policy) -> dict[str, set[str]]:
    """Per team, the categories it has the skill for: its ``skills``, or else the categories
    routing sends it (a specialist team is skilled at what it owns)."""
    out: dict[str, set[str]] = {}
    for name, team in policy.staffing.teams.items():
        if team.skills is not None:
            out[name] = set(team.skills)
        else:
            owned = {c for c, t in policy.routing.by_category.items() if t == name}
            for table in policy.routing.by_site.values():
                owned |= {c for c, t in table.items() if t == name}
            out[name] = owned
    return out


def _groups(spec, start) -> list[tuple[str, int, Calendar]]:
    """(shift name, agents, calendar) of a team or approver pool."""
    return [(s.name, s.agents, Calendar.from_shift(s, start)) for s in spec.shift_list()]


def _pool_of(agent: Agent) -> str:
    return agent.name.split("/", 1)[0]
