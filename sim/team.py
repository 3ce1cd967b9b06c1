"""Teams: agents working a shared queue during their shifts.

Think of a warehouse exception desk: cases land in the team's queue, an idle agent on shift takes
the next one (by the policy's discipline) and works it; what "working" means is the owner's
business, given as two callbacks: ``on_start(agent, case) -> minutes`` and
``on_done(agent, case)``. The exception desk acknowledges and resolves; an approver pool
decides. Agents finish the case in hand when their shift ends but start nothing new off shift.
There is no process per case or per agent: one SimPy process per shift group switches agents on
and off duty, and each piece of work is a timeout whose callback frees the agent. Cases resolved
while waiting (auto-resolved) are dropped when they reach the head of the queue.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.case import Case
from sim.policies.disciplines import Key
from sim.shifts import Calendar

if TYPE_CHECKING:
    from sim.engine import Simulation


class Agent:
    __slots__ = ("name", "code", "on", "busy")

    def __init__(self, name: str, code: int) -> None:
        self.name = name
        self.code = code
        self.on = False
        self.busy = False


class Queue:
    """A team's waiting cases: a deque for FIFO, else a heap on (key, arrival order)."""

    __slots__ = ("key", "items", "seq")

    def __init__(self, key: Key | None) -> None:
        self.key = key
        self.items: deque[Case] | list = deque() if key is None else []
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
        on_start: Callable[[Agent, Case], float],
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
                Agent(f"{name}/{shift_name}/{i + 1}", sim.log.code(f"{name}/{shift_name}/{i + 1}"))
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
        self.queue.push(case)
        if self.idle:
            self.dispatch()

    def dispatch(self) -> None:
        queue, idle = self.queue, self.idle
        while idle and queue:
            case = queue.pop()
            if case.resolved:
                continue
            agent = idle.popleft()
            agent.busy = True
            minutes = self.on_start(agent, case)
            self.sim.env.timeout(minutes, (agent, case)).callbacks.append(self._finish)

    def _finish(self, event) -> None:
        agent, case = event.value
        self.on_done(agent, case)
        agent.busy = False
        if agent.on:
            self.idle.append(agent)
            if self.queue:
                self.dispatch()

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
