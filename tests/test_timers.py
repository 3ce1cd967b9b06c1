"""Timers keep SimPy's order: the same schedule run with SimPy timeouts and ``env.run`` and
with ``sim.timers`` (mixed with SimPy processes) fires the same callbacks in the same order."""

from __future__ import annotations

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.timers import after, at_start, run_until

# (delay, follow-up delays): integer minutes, so that many things fall due at the same moment
plans = st.lists(
    st.tuples(st.integers(0, 5), st.lists(st.integers(0, 3), max_size=3)), min_size=1, max_size=12
)


def _play(plan, light: bool, stops: list[int]) -> list[tuple]:
    env = simpy.Environment()
    fired: list[tuple] = []

    def wait(delay, callback, value):
        if light:
            after(env, delay, callback, value)
        else:
            env.timeout(delay, value).callbacks.append(callback)

    def fire(event):
        i, rest = event.value
        fired.append(("timer", i, len(rest), env.now))
        if rest:
            wait(rest[0], fire, (i, rest[1:]))

    def rota(env):  # a SimPy process alongside, as the shift rotas are
        for k in range(4):
            yield env.timeout(2)
            fired.append(("process", k, env.now))

    def begin(_=None):
        fired.append(("start", env.now))
        for i, (delay, rest) in enumerate(plan):
            wait(delay, fire, (i, rest))

    env.process(rota(env))
    if light:
        at_start(env, begin)
    else:
        env.process(_starting(begin))
    for stop in stops:
        if light:
            run_until(env, stop)
        else:
            env.run(until=stop)
        fired.append(("stop", env.now))
    return fired


def _starting(begin):
    begin()
    yield from ()


@settings(max_examples=80, deadline=None)
@given(plan=plans, stops=st.lists(st.integers(1, 4), min_size=1, max_size=4))
def test_timers_fire_in_simpys_order(plan, stops):
    cumulative = [sum(stops[: i + 1]) for i in range(len(stops))]
    assert _play(plan, True, cumulative) == _play(plan, False, cumulative)


def test_negative_delays_and_a_clock_that_goes_back_are_refused():
    env = simpy.Environment()
    with pytest.raises(ValueError):
        after(env, -1.0, lambda ev: None)
    run_until(env, 5.0)
    assert env.now == 5.0
    with pytest.raises(ValueError):
        run_until(env, 5.0)
