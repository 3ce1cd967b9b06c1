"""The engine: one replication of a scenario under a policy, as a SimPy model.

Cases flow through the stations of an exception desk::

    occurred -> detected -> classified -> assigned -> (queue) -> acknowledged/work_started
             -> resolved -> closed          (escalated along the way when nobody answers)

Arrivals are one SimPy process per category; detection mechanisms, shift groups and escalation
timers are SimPy processes or timeouts with callbacks; everything that happens is appended to
the :class:`~sim.eventlog.EventLog`. Randomness comes from named streams (``sim.streams``):
arrivals, work content and attributes from per-category streams that no policy setting touches,
so two policies run on the same seed face exactly the same exceptions.

Configured as one category with Poisson arrivals, an event rule, one always-on team of c agents,
exponential handling, FIFO and no escalation, the model is exactly an M/M/c queue.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy

from sim.case import Case
from sim.eventlog import (
    ASSIGNED,
    CLASSIFIED,
    DETECTED,
    OCCURRED,
    SEVERITIES,
    EventLog,
    LogMeta,
    ParquetSink,
)
from sim.generators.arrivals import ArrivalClock
from sim.generators.attributes import AttributeSampler
from sim.generators.distributions import Sampler
from sim.policies.detection import MECHANISMS
from sim.policies.disciplines import DISCIPLINES
from sim.policies.escalation import Ladders
from sim.policies.routing import owner
from sim.policies.schema import Policy
from sim.policies.severity import RuleScorer
from sim.scenarios.schema import Scenario
from sim.shifts import Calendar
from sim.streams import Streams
from sim.team import Team

Progress = Callable[[float], None]


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
        key = DISCIPLINES[policy.queue.discipline]
        self.teams: dict[str, Team] = {}
        for name, spec in policy.staffing.teams.items():
            groups = [(s.name, s.agents, Calendar.from_shift(s, start)) for s in spec.shift_list()]
            self.teams[name] = Team(self, name, groups, key)
        self.meta.capacity_min = {n: t.capacity_min(self.horizon) for n, t in self.teams.items()}
        self.scorer = RuleScorer(policy.severity)
        self.ladders = Ladders(self, policy.escalation)
        self._targets: dict[tuple[str, int], float] = {}
        self._owners: dict[tuple[str, str | None], Team] = {}
        self._codes = {name: self.log.code(name) for name in MECHANISMS}
        for name, cat in scenario.categories.items():
            watchers = self._mechanisms(name)
            clock = ArrivalClock(
                cat.rate_per_hour,
                scenario.profiles.get(cat.profile) if cat.profile else None,
                start,
                self.streams.stream(f"arrivals/{name}").exponential,
            )
            work = Sampler(cat.handling_min, self.streams.generator(f"handling/{name}"))
            attrs = AttributeSampler(scenario, name, cat, self.streams)
            self.env.process(self._arrivals(name, clock, work, attrs, watchers))

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

    # -- the flow of a case --------------------------------------------------------------------
    def _arrivals(self, name: str, clock: ArrivalClock, work, attrs, watchers):
        env, horizon, log = self.env, self.horizon, self.log
        target = self.policy.sla.target(name, None)
        t = clock.next_after(0.0)
        while t < horizon:
            yield env.timeout(t - env.now)
            wh, site, tier, value = attrs.draw()
            cid = log.open_case(name, value, tier, wh, site)
            case = Case(cid, name, t, work(), value, tier, wh, site, t + target)
            log.record(t, cid, OCCURRED, -1, 0, 0, 0, case.due)
            for w in watchers:
                w.watch(case)
            t = clock.next_after(t)

    def detect(self, case: Case, mechanism: str) -> None:
        """A mechanism fired: the first one detects, later ones are duplicates."""
        if mechanism in case.detections:
            return
        case.detections.add(mechanism)
        code = self._codes[mechanism]
        self.record(self.env.now, case, DETECTED, actor=code, detail=code)
        if not case.detected:
            case.detected = True
            self._triage(case)

    def _triage(self, case: Case) -> None:
        now = self.env.now
        case.severity, reason = self.scorer(case)
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
        self.ladders.arm(case)
        team.push(case)

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
        self.log.flush()
        return self.log
