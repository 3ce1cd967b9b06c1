"""The injection plan: which cases to play into Odoo, when, and with which trigger dates.

The plan is the simulator's own stream: the scenario is run with the policy and seed, and its
``occurred`` rows (one per case, with ``trigger_ts`` and the business attributes) are what
``inject`` creates in Odoo, in time order. So the live run and the simulation face exactly
the same cases, which is what makes their detection outcomes comparable case by case.
Simulated minutes become Odoo datetimes through a ``TimeMap``: ``anchor + minutes / speed``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from sim import eventlog
from sim.engine import Simulation
from sim.policies.schema import Policy
from sim.scenarios.schema import Scenario

ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class PlannedCase:
    rep: int
    case_id: int
    category: str
    occurred: float  # simulated minutes
    trigger: float
    value: float
    tier: str | None
    cleared: float | None = None  # simulated minute the condition went away by itself

    @property
    def tag(self) -> str:
        return f"case_{self.rep}_{self.case_id}"

    @property
    def at(self) -> float:
        """When inject creates it (the pacers' clock)."""
        return self.occurred


@dataclass(frozen=True)
class Clear:
    """The simulator's self-clearing of a case, played into Odoo at ``at``.

    In the simulation an undetected transient case ends with ``resolved`` / ``cleared`` (the
    stock arrived, the carrier API came back); in Odoo its record must stop matching the
    category's pattern at the same moment, or a scan would still find it there."""

    case: PlannedCase
    at: float

    @property
    def category(self) -> str:
        return self.case.category


@dataclass(frozen=True)
class TimeMap:
    """Simulated minutes <-> naive-UTC Odoo datetimes, compressed ``speed`` times."""

    anchor: datetime
    speed: float = 1.0

    def at(self, minutes: float) -> datetime:
        return self.anchor + timedelta(minutes=minutes / self.speed)

    def odoo(self, minutes: float) -> str:
        return self.at(minutes).strftime(ODOO_DATETIME)

    def minutes(self, when: str | datetime) -> float:
        if isinstance(when, str):  # Odoo's seconds, or the receiver's microseconds
            when = datetime.fromisoformat(when)
        return (when - self.anchor).total_seconds() / 60.0 * self.speed


def build_plan(
    scenario: Scenario, policy: Policy, seed: int = 0, rep: int = 0
) -> tuple[list[PlannedCase], pd.DataFrame]:
    """The cases of one replication, in occurrence order, and the simulated log they came from."""
    sim = Simulation(scenario, policy, seed=seed, rep=rep, reps=1)
    df = eventlog.to_pandas(sim.run().table())
    occ = df[df["event"] == "occurred"].sort_values(["ts", "case_id"], kind="stable")
    res = df[(df["event"] == "resolved") & (df["detail"].astype(str) == "cleared")]
    cleared = dict(zip(res["case_id"].astype(int), res["ts"].astype(float), strict=True))
    cases = [
        PlannedCase(
            rep,
            int(r.case_id),
            str(r.category),
            float(r.ts),
            float(r.trigger_ts) if not math.isnan(r.trigger_ts) else float(r.ts),
            float(r.order_value) if not math.isnan(r.order_value) else 100.0,
            None
            if r.customer_tier is None or r.customer_tier != r.customer_tier
            else str(r.customer_tier),
            cleared.get(int(r.case_id)),
        )
        for r in occ.itertuples(index=False)
    ]
    return cases, df
