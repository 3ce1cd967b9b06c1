"""A run unit: one replication of one scenario under one policy, and what it sends back.

An experiment (a comparison, a sweep, a staffing search) is a bag of independent units. Each
unit names its world completely (scenario, policy, run settings, replication), so it gives the
same answer wherever it runs: replication r of seed s draws from ``Streams(s, r)``. The worker
summarises its own log (``sim.metrics.summarize``) and sends back the summary dict, plus the
Arrow table only when the caller keeps logs, so a sweep of thousands of runs stays small in
memory and cheap to ship between processes or cluster nodes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from sim import eventlog
from sim.metrics import summarize
from sim.policies.schema import Policy
from sim.runner import RunSettings, simulate
from sim.scenarios.schema import Scenario


@dataclass(frozen=True)
class Unit:
    """One replication to run. ``key`` says which arm of the experiment it belongs to."""

    key: Any
    scenario: Scenario
    policy: Policy
    settings: RunSettings
    rep: int
    keep_log: bool = False


@dataclass
class Outcome:
    """What a unit sends back: its KPI summary, its log when asked for, and its cost."""

    key: Any
    rep: int
    summary: dict
    table: pa.Table | None = None
    wall_s: float = 0.0
    events: int = field(default=0)


def run_unit(unit: Unit) -> Outcome:
    """Simulate one replication and summarise it where it ran."""
    t0 = time.perf_counter()
    run = unit.settings
    table = simulate(unit.scenario, unit.policy, run.seed, unit.rep, run.reps)
    summary = summarize(eventlog.to_pandas(table), warmup_min=run.warmup_min)
    return Outcome(
        key=unit.key,
        rep=unit.rep,
        summary=summary,
        table=table if unit.keep_log else None,
        wall_s=time.perf_counter() - t0,
        events=table.num_rows,
    )
