"""Timers on a SimPy environment, without the cost of a SimPy event per wait.

Most waits in the model are pure time: the end of a piece of work, an escalation tier coming
due, the next arrival, a case clearing by itself. SimPy writes each one as a ``Timeout`` event
with a callback appended, which is two Python calls (``Timeout.__init__``,
``Environment.schedule``) and a generic event object per wait, and runs the clock through
``Environment.run`` and ``Environment.step``, two more calls per event.

:func:`after` puts a :class:`Timer` on the same event queue, in the same order SimPy would
(same time, same priority, the next id of the same counter), and :func:`run_until` pops that
queue as ``Environment.run(until=...)`` does. SimPy events and processes still work alongside
(shift rotas, scans are processes), and the order of everything is unchanged, so a seed gives
the same log as before. Both lean on SimPy's scheduler layout (``_queue`` entries
``(time, priority, id, event)``, ``_eid``, ``_now``), stable since SimPy 3.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any, ClassVar

import simpy
from simpy.events import NORMAL, URGENT


class Timer:
    """A scheduled callback: what ``Environment.step`` needs of an event, and nothing else.

    ``callbacks`` are called with the timer itself, so a callback reads ``event.value`` as it
    would from a ``Timeout``."""

    __slots__ = ("callbacks", "value")
    _ok: ClassVar[bool] = True  # it never fails (Environment.step checks this after callbacks)

    def __init__(self, callback: Callable[[Timer], None], value: Any) -> None:
        # None once it has run (as SimPy marks a processed event)
        self.callbacks: list[Callable[[Timer], None]] | None = [callback]
        self.value = value


def after(
    env: simpy.Environment, delay: float, callback: Callable[[Timer], None], value: Any = None
) -> None:
    """Call ``callback(timer)`` in ``delay`` minutes (``timer.value`` is ``value``): what
    ``env.timeout(delay, value).callbacks.append(callback)`` does, for less."""
    if delay < 0:
        raise ValueError(f"Negative delay {delay}")
    queue: list[Any] = env._queue  # SimPy types it for its own events; a Timer fits it too
    heappush(queue, (env._now + delay, NORMAL, next(env._eid), Timer(callback, value)))


def at_start(env: simpy.Environment, callback: Callable[[Timer], None]) -> None:
    """Call ``callback`` when the run starts, where ``env.process`` would start a process."""
    queue: list[Any] = env._queue
    heappush(queue, (env._now, URGENT, next(env._eid), Timer(callback, None)))


def run_until(env: simpy.Environment, until: float) -> None:
    """``env.run(until=until)``: every event due before ``until`` (and the urgent ones due at
    ``until`` that were scheduled before this call), then the clock stands at ``until``."""
    if until <= env._now:
        raise ValueError(f"until ({until}) must be greater than the current simulation time")
    queue: list[Any] = env._queue
    stop = (until, URGENT, next(env._eid))  # where SimPy's own "until" event would sit
    while queue and queue[0] < stop:
        now, _, _, event = heappop(queue)
        env._now = now
        if isinstance(event, Timer):  # most events: never fails, one callback as a rule
            timer_callbacks, event.callbacks = event.callbacks, None
            if timer_callbacks is not None:
                for timer_callback in timer_callbacks:
                    timer_callback(event)
            continue
        callbacks, event.callbacks = event.callbacks, None
        for callback in callbacks:
            callback(event)
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc
    env._now = until
