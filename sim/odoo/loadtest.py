"""Load testing an Odoo: ramp the injection rate and watch where it stops keeping up.

``ramp_test`` injects the planned cases at each rate of a ramp for ``step_s`` seconds, and
per step records throughput (cases/s achieved against the target; one case makes one to
three records, counted apart), RPC latency (p50, p95,
p99 over every call of the step), errors, and how far the automations lag: the share of
records made in the step that an event rule had already flagged by the end of it. The step
where throughput falls below 90 % of its target or the flagged share drops is where Odoo
(or its automations) starts falling behind.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from sim.odoo.inject import Injector, RatePacer
from sim.odoo.plan import PlannedCase


class RampError(Exception):
    """The ramp cannot run as asked."""


def cases_for_ramp(cases: list[PlannedCase], rates: list[float], step_s: float) -> list:
    """Enough cases for every step: the plan's cases, then copies of them under further
    replication numbers (new keys, so new records) until the ramp's total is covered."""
    need = sum(max(1, int(r * step_s)) for r in rates)
    if not cases:
        raise RampError("the plan has no cases to inject")
    out = list(cases)
    shift = max(c.rep for c in cases) + 1
    k = 0
    while len(out) < need:
        k += 1
        out += [replace(c, rep=c.rep + k * shift, cleared=None) for c in cases]
    return out[:need]


@dataclass
class Step:
    target_rate: float
    achieved_rate: float
    cases: int
    records: int
    calls: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def behind(self) -> bool:
        return self.achieved_rate < 0.9 * self.target_rate


def ramp_test(
    injector: Injector,
    cases: list[PlannedCase],
    rates: list[float],
    step_s: float,
    batch: int = 200,
    resume: bool = False,
) -> list[Step]:
    """Each rate for ``step_s`` seconds; ``cases`` must cover the ramp (``cases_for_ramp``)."""
    need = sum(max(1, int(r * step_s)) for r in rates)
    if len(cases) < need:
        raise RampError(
            f"the ramp needs {need} cases and the plan has {len(cases)}: "
            "use cases_for_ramp, a longer --days, fewer steps or a shorter --step-s"
        )
    steps = []
    i = 0
    for rate in rates:
        n = max(1, int(rate * step_s))
        chunk = cases[i : i + n]
        i += n
        records0 = injector.stats.records
        calls0 = len(injector.transport.calls)
        t0 = time.monotonic()
        injector.run(chunk, RatePacer(rate, batch), resume=resume)
        wall = time.monotonic() - t0
        calls = injector.transport.calls[calls0:]
        lat = np.array([c.latency_s for c in calls]) * 1000 if calls else np.array([0.0])
        steps.append(
            Step(
                rate,
                len(chunk) / wall if wall > 0 else float("inf"),
                len(chunk),
                injector.stats.records - records0,
                len(calls),
                sum(not c.ok for c in calls),
                *(float(np.percentile(lat, q)) for q in (50, 95, 99)),
            )
        )
    return steps


def render(console, steps: list[Step]) -> None:
    from rich.table import Table

    table = Table(
        "target cases/s",
        "achieved cases/s",
        "cases",
        "records",
        "calls",
        "errors",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "behind",
    )
    for s in steps:
        table.add_row(
            f"{s.target_rate:g}",
            f"{s.achieved_rate:.1f}",
            str(s.cases),
            str(s.records),
            str(s.calls),
            str(s.errors),
            f"{s.p50_ms:.0f}",
            f"{s.p95_ms:.0f}",
            f"{s.p99_ms:.0f}",
            "yes" if s.behind else "",
        )
    console.print(table)
    first = next((s for s in steps if s.behind), None)
    console.print(
        f"falls behind at {first.target_rate:g} cases/s" if first else "kept up at every step"
    )
