"""Business outcomes of the operations: what the exceptions cost the business.

Counted as the world runs and stored in the log's metadata (``extra.operations``), so the
summary reads them from the log like every other KPI: orders created, shipped, delivered on
time / late, shipped partial, cancelled, cutoffs missed, expedites and receipts that came
partial; the value of shipments blocked (by credit, stock, data or carrier) and the number of
orders at risk (unshipped with the promise less than a day away), sampled every hour; and the
expedite and lateness-penalty costs they imply (rates from the scenario's ``finance``).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from sim.generators.operations.state import Order

if TYPE_CHECKING:
    from sim.generators.operations.world import OperationsWorld


class Outcomes:
    def __init__(self, world: OperationsWorld) -> None:
        self.world = world
        self.counts = {
            "orders": 0,
            "shipped": 0,
            "on_time": 0,
            "late": 0,
            "partial": 0,
            "cancelled": 0,
            "missed_cutoffs": 0,
            "expedites": 0,
            "partial_receipts": 0,
        }
        self.blocked_value = 0.0
        self.blocked_ids: set[int] = set()
        self.late_value = 0.0
        self.series_blocked: list[float] = []
        self.series_at_risk: list[int] = []

    def start(self) -> None:
        self.world.env.process(self._sample())
        self.world.sim.finalizers.append(self._finish)

    def _finish(self) -> None:
        self.world.sim.meta.extra["operations"] = self.report()

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] += n

    def created(self, order: Order) -> None:
        self.counts["orders"] += 1

    def blocked(self, order: Order, now_blocked: bool) -> None:
        if now_blocked and order.id not in self.blocked_ids:
            self.blocked_ids.add(order.id)
            self.blocked_value += order.value
        elif not now_blocked and order.id in self.blocked_ids:
            self.blocked_ids.discard(order.id)
            self.blocked_value -= order.value

    def count_shipped(self, n: int, partial: int, missed: int, unblocked: list[Order]) -> None:
        """``n`` orders left at a cutoff (``Floor._ship`` counts them on its way): ``partial``
        of them partial, ``missed`` picked more than a day before (they missed a cutoff), and
        ``unblocked`` those that were counted blocked, in the order they left."""
        counts = self.counts
        counts["shipped"] += n
        for order in unblocked:
            self.blocked(order, False)
        counts["partial"] += partial
        counts["missed_cutoffs"] += missed

    def delivered(self, order: Order) -> None:
        if order.delivered is not None and order.delivered <= order.promise:
            self.counts["on_time"] += 1
        else:
            self.counts["late"] += 1
            self.late_value += order.value

    def cancelled(self, order: Order) -> None:
        self.counts["cancelled"] += 1
        self.blocked(order, False)

    def _sample(self) -> Generator[Any, Any, None]:
        env, world = self.world.env, self.world
        while True:
            self.series_blocked.append(round(self.blocked_value, 2))
            horizon = env.now + 1440.0
            self.series_at_risk.append(
                sum(
                    1
                    for o in world.orders.values()
                    if o.shipped is None and not o.cancelled and o.promise < horizon
                )
                if env.now % 360.0 == 0
                else (self.series_at_risk[-1] if self.series_at_risk else 0)
            )
            yield env.timeout(60.0)

    def report(self) -> dict:
        c = dict(self.counts)
        blocked = self.series_blocked or [0.0]
        risk = self.series_at_risk or [0]
        return {
            "orders": c,
            "on_time_rate": c["on_time"] / (c["on_time"] + c["late"])
            if c["on_time"] + c["late"]
            else None,
            "blocked_value": {
                "mean": sum(blocked) / len(blocked),
                "max": max(blocked),
                "hourly": blocked,
            },
            "orders_at_risk": {"mean": sum(risk) / len(risk), "max": max(risk), "hourly": risk},
            "costs": {
                "expedite": c["expedites"] * self.world.ops.finance.expedite_cost,
                "late_penalty": self.late_value * self.world.ops.finance.late_penalty_rate,
            },
        }
