"""Teams: agents working a shared queue during their shifts.

Think of a warehouse exception desk: cases land in the team's queue, an idle agent on shift takes
the next one (by the policy's discipline) and works it; what "working" means is the owner's
business, given as two callbacks: ``on_start(agent, case) -> minutes`` and ``on_done(agent, case)``.
The exception desk acknowledges and resolves; an approver pool decides. Agents finish the case in
hand when their shift ends but start nothing new off shift. There is no process per case or per
agent: one SimPy process per shift group switches agents on and off duty, and each piece of work is
a timer (:mod:`sim.timers`) whose callback frees the agent. Cases resolved while waiting
(auto-resolved) are dropped when they reach the head of the queue, and so is an entry the owner
declines (``on_start`` returns None: the case moved to another queue since).

Work can be cut short: :meth:`Team.release` frees an agent at once (the case was reassigned or
paged away) and the pending end of that work is ignored, and :meth:`Team.lend` hands one idle
agent to someone else's case (a swarm) until its ``on_done`` callback fires.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.case import Case
from sim.policies.disciplines import Key
from sim.shifts import Calendar
from sim.timers import after

if TYPE_CHECKING:
    from sim.engine import Simulation


class Agent:
    """One person on a team; ``job`` counts the pieces of work given to (or taken from) them, so
    the end of a piece of work taken away early is recognised as stale and ignored."""

    __slots__ = ("name", "code", "on", "busy", "team", "job")

    def __init__(self, name: str, code: int, team: Team) -> None:
        self.name = name
        self.code = code
        self.on = False
        self.busy = False
        self.team = team
        self.job = 0


class Queue:
    """A team's waiting cases: a deque for FIFO, else a heap on (key, arrival order)."""

    __slots__ = ("key", "items", "seq")

    def __init__(self, key: Key | None) -> None:
        self.key = key
        # deque[Case] (FIFO) or a heap list of (key, seq, case)
        self.items: Any = deque() if key is None else []
        self.seq = 0

    def push(self, case: Case) -> None:
        self.seq += 1
        if self.key is None:
            self.items.append(case)
        else:
            heapq.heappush(self.items, (self.key(case), self.seq, case))

    def pop(self) -> Case:
        if self.key is None:
            return self.items.popleft()
        return heapq.heappop(self.items)[2]

    def __len__(self) -> int:
        return len(self.items)


class Team:
    """Runtime of one team: its queue, its agents and who is idle on shift."""

    def __init__(
        self,
        sim: Simulation,
        name: str,
        groups: list[tuple[str, int, Calendar]],
        key: Key | None,
        on_start: Callable[[Agent, Case], float | None],
        on_done: Callable[[Agent, Case], None],
    ) -> None:
        self.sim = sim
        self.on_start = on_start
        self.on_done = on_done
        self.name = name
        self.code = sim.log.code(name)
        self.queue = Queue(key)
        self.idle: deque[Agent] = deque()
        self.groups: list[tuple[list[Agent], Calendar]] = []
        for shift_name, n, calendar in groups:
            agents = [
                Agent(
                    f"{name}/{shift_name}/{i + 1}",
                    sim.log.code(f"{name}/{shift_name}/{i + 1}"),
                    self,
                )
                for i in range(n)
            ]
            self.groups.append((agents, calendar))
            if calendar.always:
                for a in agents:
                    a.on = True
                    self.idle.append(a)
            else:
                sim.env.process(self._shifts(agents, calendar))

    def capacity_min(self, horizon: float) -> float:
        """Agent-minutes on duty within [0, horizon)."""
        return sum(len(agents) * cal.on_minutes(0.0, horizon) for agents, cal in self.groups)

    def on_duty(self, horizon: float) -> list[list[float]]:
        """``[start, end, agents]`` for every stretch a shift group is on duty in [0, horizon):
        the staffing record a log carries, so readers need no policy or calendar."""
        return [
            [lo, hi, len(agents)]
            for agents, cal in self.groups
            if agents
            for lo, hi in cal.spans(0.0, horizon)
        ]

    def push(self, case: Case) -> None:
        queue = self.queue
        queue.seq += 1
        if queue.key is None:
            queue.items.append(case)
        else:
            heapq.heappush(queue.items, (queue.key(case), queue.seq, case))
        if self.idle:
            self.dispatch()

    def dispatch(self) -> None:
        items, fifo, idle = self.queue.items, self.queue.key is None, self.idle
        env, on_start, finish = self.sim.env, self.on_start, self._finish
        while idle and items:
            case = items.popleft() if fifo else heapq.heappop(items)[2]
            if case.resolved:
                continue
            agent = idle[0]
            minutes = on_start(agent, case)
            if minutes is None:  # a stale entry: the case waits elsewhere now
                continue
            idle.popleft()
            agent.busy = True
            agent.job += 1
            after(env, minutes, finish, (agent, case, agent.job))

    def _finish(self, event) -> None:
        agent, case, job = event.value
        if job != agent.job:  # this work was taken away from the agent earlier
            return
        self.on_done(agent, case)
        self._free(agent)

    def _free(self, agent: Agent) -> None:
        agent.busy = False
        agent.job += 1
        if agent.on:
            self.idle.append(agent)
            if self.queue.items:
                self.dispatch()

    def release(self, agent: Agent) -> None:
        """Take the agent's current work away (it moved on); they are free at once."""
        if agent.busy:
            self._free(agent)

    def take_idle(self) -> Agent | None:
        """An idle agent, now busy (None when nobody is free)."""
        if not self.idle:
            return None
        agent = self.idle.popleft()
        agent.busy = True
        return agent

    def run(self, agent: Agent, case: Case, minutes: float) -> None:
        """``agent`` (busy) works ``case`` for ``minutes``, then ``on_done`` as usual."""
        agent.job += 1
        after(self.sim.env, minutes, self._finish, (agent, case, agent.job))

    def restart(self, agent: Agent, case: Case, minutes: float) -> None:
        """The work in hand now ends ``minutes`` from now instead (e.g. a helper joined)."""
        self.run(agent, case, minutes)

    def lend(self, case: Case, minutes: float, on_done: Callable[[Agent, Case], None]):
        """An idle agent of this team works ``minutes`` on someone else's case, then calls
        ``on_done``; returns the agent, or None when nobody here is free."""
        agent = self.take_idle()
        if agent is None:
            return None
        agent.job += 1
        after(self.sim.env, minutes, self._lent_done, (agent, case, agent.job, on_done))
        return agent

    def _lent_done(self, event) -> None:
        agent, case, job, on_done = event.value
        if job != agent.job:
            return
        on_done(agent, case)
        self._free(agent)

    def _shifts(self, agents: list[Agent], calendar: Calendar):
        env = self.sim.env
        for lo, hi in calendar.spans(0.0, self.sim.horizon):
            if lo > env.now:
                yield env.timeout(lo - env.now)
            for a in agents:
                if not a.on:
                    a.on = True
                    if not a.busy:
                        self.idle.append(a)
            self.dispatch()
            yield env.timeout(hi - env.now)
            for a in agents:
                a.on = False
                if not a.busy:
                    self.idle.remove(a)
