"""Business attributes of an injected case: warehouse, customer tier, order value.

A policy scores and routes on these (a strategic customer's large order goes to the top of the
queue), so each case draws them once, from its category's own stream, when it occurs.
"""

from __future__ import annotations

import itertools
import math

from sim.generators.distributions import Sampler
from sim.scenarios.schema import Category, Scenario
from sim.streams import Streams


def _cumulative(weights: list[float]) -> list[float]:
    total = sum(weights)
    acc = list(itertools.accumulate(w / total for w in weights))
    acc[-1] = 1.0
    return acc


class AttributeSampler:
    """Draws (warehouse, site, tier, order value) for cases of one category."""

    def __init__(self, scenario: Scenario, name: str, category: Category, streams: Streams):
        self.stream = streams.stream(f"attributes/{name}")
        self.warehouses = [(w.name, w.site) for w in scenario.warehouses]
        self.wh_cum = _cumulative([w.weight for w in scenario.warehouses])
        tiers = scenario.tiers()
        self.tiers = [t for t, _ in tiers]
        self.tier_cum = _cumulative([w for _, w in tiers])
        self.has_customer = category.has_customer
        self.value = (
            Sampler(category.order_value, streams.generator(f"order_value/{name}"))
            if category.order_value is not None
            else None
        )

    def draw(self) -> tuple[str, str, str | None, float]:
        wh, site = self.warehouses[self.stream.choice(self.wh_cum)]
        tier = self.tiers[self.stream.choice(self.tier_cum)] if self.has_customer else None
        value = self.value() if self.value is not None else math.nan
        return wh, site, tier, value
