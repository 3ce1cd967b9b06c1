"""The injected world: exceptions arrive at given rates, with no operations behind them.

Each category of the scenario is a chain of timers (:mod:`sim.timers`: each arrival schedules
the next, no SimPy process) drawing its arrivals (``arrivals.py``), its hands-on time, its
business attributes, whether its trigger date is already behind it and whether it clears by
itself, all from the category's own named streams, then hands the case to ``Simulation.occur``.
Quick what-ifs and queueing validation run in this world.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.generators.arrivals import ArrivalClock
from sim.generators.attributes import AttributeSampler
from sim.generators.distributions import Sampler
from sim.scenarios.schema import Category
from sim.streams import Streams
from sim.timers import Timer, after, at_start

if TYPE_CHECKING:
    from sim.engine import Simulation


def injected_world(sim: Simulation) -> None:
    for name, cat in sim.scenario.categories.items():
        sim.watchers(name)
        at_start(sim.env, arrivals(sim, name, cat))


def arrivals(sim: Simulation, name: str, cat: Category) -> Callable[[Timer], None]:
    """The category's arrivals: a callback that, when the run starts, makes its open-at-start
    cases occur and schedules the first arrival, each arrival then scheduling the next."""
    env, horizon, streams, scenario = sim.env, sim.horizon, sim.streams, sim.scenario
    rate = cat.rate_per_hour
    assert rate is not None  # the scenario's validation requires it in injected mode
    clock = ArrivalClock(
        rate,
        scenario.profiles.get(cat.profile) if cat.profile else None,
        scenario.start,
        streams.stream(f"arrivals/{name}").exponential,
        cat.volume,
    )
    work = Sampler(cat.handling_min, streams.generator(f"handling/{name}"))
    attrs = AttributeSampler(scenario, name, cat, streams)
    backdate = optional_draw(cat.trigger_age, "age_min", streams, f"trigger/{name}")
    clears = optional_draw(cat.transient, "clears_after_min", streams, f"transient/{name}")
    promise = (
        Sampler(cat.promise_hours, streams.generator(f"promise/{name}"))
        if cat.promise_hours is not None
        else None
    )

    def occur(t: float) -> None:
        wh, site, tier, value = attrs.draw()
        trigger = t - backdate() if backdate else t
        sim.occur(
            name,
            t,
            work(),
            value,
            tier,
            wh,
            site,
            trigger,
            clears() if clears else None,
            promise=t + 60.0 * promise() if promise else math.nan,
        )

    def arrive(timer: Timer) -> None:
        t = timer.value
        occur(t)
        t = clock.next_after(t)
        if t < horizon:
            after(env, t - env._now, arrive, t)

    def start(_: Timer) -> None:
        for _i in range(cat.open_at_start):
            occur(0.0)
        t = clock.next_after(0.0)
        if t < horizon:
            after(env, t - env._now, arrive, t)

    return start


def optional_draw(spec, field: str, streams: Streams, name: str):
    """Sampler for a scenario's optional random effect: None when absent; else a callable
    returning a draw with probability ``spec.prob``, and 0 (ages) or None otherwise."""
    if spec is None:
        return None
    stream = streams.stream(name)
    sample = Sampler(getattr(spec, field), streams.generator(name + "/size"))
    prob = spec.prob
    miss = 0.0 if field == "age_min" else None
    return lambda: sample() if stream.random() < prob else miss
