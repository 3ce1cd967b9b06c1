"""Pickers: one warehouse's pick queue, worked by pickers on shifts, with no event per pick.

A picker who is free when an order becomes ready starts it at once. The pick's end is known
then (now + the order's pick minutes), so it is only remembered: the picker is busy until
then and counts as free again the next time anyone looks. Such an uneventful pick costs no
simulation event. Only waiting needs events: when orders queue because every picker on duty
is busy, one wake-up is set at the earliest end of a pick in hand, and there the freed
pickers take the next orders (best priority first, then first come). Shifts switch pickers on
and off duty; a picker finishes the pick in hand after the shift ends but starts nothing new.

The ends of the picks in hand are a heap of plain floats (``ends``), and who ends when is a
dict beside it (``ending``: end -> picker, or a list of them in the order they started when
picks end at the same moment): the order pickers are freed in is that of a heap of
(end, start order, picker), for the cost of comparing floats instead of tuples.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

import simpy

from sim.generators.operations.state import Order
from sim.shifts import Calendar

if TYPE_CHECKING:
    from sim.generators.operations.floor import Floor


class Picker:
    __slots__ = ("on", "busy")

    def __init__(self) -> None:
        self.on = False  # on duty
        self.busy = False  # a pick in hand


class Pickers:
    """The pickers of one warehouse. A pick begins with ``floor.start_pick(order, now)``, which
    returns its minutes (a direct call, compiled: no Python call per pick)."""

    def __init__(
        self,
        env: simpy.Environment,
        groups: list[tuple[int, Calendar]],
        horizon: float,
        floor: Floor,
    ) -> None:
        self.env = env
        self.floor = floor
        self.idle: list[Picker] = []
        self.ends: list[float] = []  # heap: the end of every pick in hand
        self.ending: dict[float, Picker | list[Picker]] = {}  # who ends then
        self.queue: list[tuple[int, int, Order]] = []  # heap on (priority, arrival order)
        self.seq = 0
        self.wake_at = math.inf  # the earliest wake-up already set
        for n, calendar in groups:
            crew = [Picker() for _ in range(n)]
            if calendar.always:
                for p in crew:
                    p.on = True
                self.idle.extend(crew)
            else:
                env.process(self._shifts(crew, calendar, horizon))

    def starts_now(self) -> bool:
        """Whether an order pushed now starts at once (nobody queued, a picker free)."""
        ends, now = self.ends, self.env._now  # (``env.now``, without the property call)
        if ends and ends[0] <= now:
            self._free(now)
        return not self.queue and bool(self.idle)

    def start_now(self, order: Order) -> None:
        """A free picker starts ``order`` at once (after :meth:`starts_now` said one is)."""
        now = self.env._now
        picker = self.idle.pop()
        picker.busy = True
        end = now + self.floor.start_pick(order, now)
        heappush(self.ends, end)  # (``_hold``, inlined: the bulk)
        ending = self.ending
        other = ending.get(end)
        if other is None:
            ending[end] = picker
        else:
            self._hold_too(picker, end, other)

    def _hold(self, picker: Picker, end: float) -> None:
        """``picker`` has a pick in hand until ``end``."""
        picker.busy = True
        heappush(self.ends, end)
        other = self.ending.get(end)
        if other is None:
            self.ending[end] = picker
        else:
            self._hold_too(picker, end, other)

    def _hold_too(self, picker: Picker, end: float, other: Picker | list[Picker]) -> None:
        """``picker``'s pick ends at ``end`` too, after ``other``'s (started before)."""
        if isinstance(other, list):
            other.append(picker)
        else:
            self.ending[end] = [other, picker]

    def push(self, order: Order) -> None:
        """``order`` is ready to pick (again, with a better priority, when re-pushed)."""
        now = self.env._now
        ends = self.ends
        if ends and ends[0] <= now:
            self._free(now)
        if not self.queue and self.idle:  # someone is free: start it now
            self._hold(self.idle.pop(), now + self.floor.start_pick(order, now))
            return
        self.seq += 1
        heappush(self.queue, (order.prio, self.seq, order))
        self._dispatch(now)

    def _free(self, now: float) -> None:
        """Pickers whose pick ended by ``now`` are free (idle if on duty), first ended first."""
        ends, ending, idle = self.ends, self.ending, self.idle
        while ends and ends[0] <= now:
            end = heappop(ends)
            who = ending[end]
            del ending[end]  # (``pop``: a method call compiled, two C calls this way)
            if isinstance(who, list):  # picks that end together: the first started first
                picker = who.pop(0)
                if who:
                    ending[end] = who
            else:
                picker = who
            picker.busy = False
            if picker.on:
                idle.append(picker)

    def _dispatch(self, now: float) -> None:
        queue, idle, ends = self.queue, self.idle, self.ends
        while queue and idle:
            order = heappop(queue)[2]
            if order.resolved:  # started already (a re-pushed order's older entry)
                continue
            self._hold(idle.pop(), now + self.floor.start_pick(order, now))
        if queue and ends and ends[0] < self.wake_at:
            self.wake_at = ends[0]
            self.env.timeout(self.wake_at - now).callbacks.append(self._wake)

    def _wake(self, event: object) -> None:
        now = self.env._now
        if now >= self.wake_at:
            self.wake_at = math.inf
        self._free(now)
        self._dispatch(now)

    def _shifts(
        self, crew: list[Picker], calendar: Calendar, horizon: float
    ) -> Generator[Any, Any, None]:
        env = self.env
        for lo, hi in calendar.spans(0.0, horizon):
            if lo > env.now:
                yield env.timeout(lo - env.now)
            now = env.now
            self._free(now)
            for p in crew:
                if not p.on:
                    p.on = True
                    if not p.busy:
                        self.idle.append(p)
            self._dispatch(now)
            yield env.timeout(hi - env.now)
            self._free(env.now)
            for p in crew:
                p.on = False
            self.idle = [p for p in self.idle if p.on]
