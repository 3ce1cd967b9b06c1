"""What a scenario says: the world that makes exceptions happen.

A scenario is the *what happens* half of a run: when it starts and how long it lasts, the sites
and warehouses, which exception categories arrive and how often (a Poisson rate per hour shaped
by daily and weekly profiles), how much hands-on work each takes, and the business attributes a
case carries (order value, customer tier, warehouse). How cases are then detected and handled is
the policy's business (``sim.policies.schema``). Validated once here; the engine trusts it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.eventlog import TIERS
from sim.scenarios.operations import Operations
from sim.schema_types import Distribution, NonNegFloat, PositiveFloat, Strict

__all__ = [
    "Distribution",
    "Strict",
    "Scenario",
    "Category",
    "Profile",
    "Volume",
    "Warehouse",
]


class Profile(Strict):
    """Relative intensity by hour of day (24 values) and day of week (7 values, Monday first).

    Only the shape matters: a category's ``rate_per_hour`` is its average over the week.
    """

    hourly: list[NonNegFloat] = Field(default_factory=lambda: [1.0] * 24)
    weekly: list[NonNegFloat] = Field(default_factory=lambda: [1.0] * 7)

    @field_validator("hourly")
    @classmethod
    def _24(cls, v: list[float]) -> list[float]:
        if len(v) != 24:
            raise ValueError(f"needs 24 values (one per hour), got {len(v)}")
        return v

    @field_validator("weekly")
    @classmethod
    def _7(cls, v: list[float]) -> list[float]:
        if len(v) != 7:
            raise ValueError(f"needs 7 values (Monday to Sunday), got {len(v)}")
        return v

    @model_validator(mode="after")
    def _not_all_zero(self) -> Profile:
        if sum(self.hourly) == 0 or sum(self.weekly) == 0:
            raise ValueError("a profile cannot be zero everywhere")
        return self


class TriggerAge(Strict):
    """How far in the past a record's trigger date already lies when it starts matching.

    A picking that becomes ready only after its scheduled date has passed, or a receipt
    entered late, matches a rule's domain with a trigger date already behind it. ``prob`` of
    the cases are backdated by a draw of ``age_min``; the others start matching at their
    trigger date. Time-based rules are blind to backdated records whose action time passed.
    """

    prob: Annotated[float, Field(ge=0, le=1)] = 1.0
    age_min: Distribution


class Transient(Strict):
    """Some exceptions clear by themselves (stock arrives, the carrier API recovers)."""

    prob: Annotated[float, Field(ge=0, le=1)]
    clears_after_min: Distribution


class Volume(Strict):
    """Volume that changes over time (a roll-out, growth, a seasonal peak).

    The category's rate is multiplied by ``factors[i]`` during the i-th period of
    ``period_days`` from the scenario start; after the last period its factor holds. The
    rhythm of the week (``profile``) is applied on top. Calibration writes factors that
    average 1 over the fitted horizon, so ``rate_per_hour`` stays the average rate.
    """

    period_days: PositiveFloat = 7.0
    factors: list[NonNegFloat] = Field(min_length=1)


HoldReason = Literal["supplier", "customer", "carrier", "approval", "team"]


class Wait(Strict):
    """One reason a case goes on hold, its share of holds and how long the wait lasts."""

    weight: PositiveFloat = 1.0
    duration_min: Distribution


class Hold(Strict):
    """Work that waits: ``prob`` of the cases go on hold once, after ``at_fraction`` of their
    hands-on work, waiting for a supplier, the customer, a carrier, an approval or another team
    (``waits``: each reason's weight and duration). The agent puts the case down meanwhile; when
    the wait ends it goes back to its team's queue for the rest of the work."""

    prob: Annotated[float, Field(ge=0, le=1)]
    at_fraction: Annotated[float, Field(ge=0, le=1)] = 0.5
    waits: dict[HoldReason, Wait] = Field(min_length=1)


class Reopen(Strict):
    """Work that comes back: ``prob`` of resolved cases are reopened ``after_min`` later (the
    fix did not hold, the customer came back) and need ``rework_fraction`` of their work again.
    ``prob`` is the rate when a team without the category's skill fixed it; the policy's
    ``resolution.reopen_skilled_factor`` lowers it for skilled teams."""

    prob: Annotated[float, Field(ge=0, le=1)]
    after_min: Distribution = Distribution(dist="exponential", mean=1440.0)
    rework_fraction: Annotated[float, Field(gt=0, le=1)] = 0.5


class Category(Strict):
    """One kind of exception and how it arrives in injected mode."""

    description: str = ""
    # injected mode only; at most 1,000 an hour (24,000 a day) in one category
    rate_per_hour: Annotated[float, Field(ge=0, le=1000)] | None = None
    profile: str | None = None
    handling_min: Distribution
    order_value: Distribution | None = None
    has_customer: bool = True
    trigger_age: TriggerAge | None = None
    transient: Transient | None = None
    # hours from occurrence to the date promised to the customer (None: no promise at stake)
    promise_hours: Distribution | None = None
    open_at_start: Annotated[int, Field(ge=0, le=100_000)] = 0
    volume: Volume | None = None  # rate changing over time (None: constant)
    hold: Hold | None = None  # work that waits (off: never)
    reopen: Reopen | None = None  # work that comes back (off: never)


#: The exception categories an operations-mode world can make happen (sim.generators.operations).
OPERATIONS_CATEGORIES: tuple[str, ...] = (
    "stock_shortage",
    "urgent_replenishment",
    "inbound_delay",
    "quality_hold",
    "picking_sla",
    "inventory_discrepancy",
    "credit_hold",
    "invoice_block",
    "carrier_failure",
    "delivery_delay",
    "master_data_gap",
    "pod_dispute",
)


class Warehouse(Strict):
    name: str
    site: str
    weight: PositiveFloat = 1.0


class Scenario(Strict):
    """A named world: horizon, places, and the exception categories that arrive in it."""

    name: str = "scenario"
    description: str = ""
    mode: Literal["injected", "operations"] = "injected"
    start: datetime = datetime(2026, 1, 5)  # a Monday
    horizon_days: Annotated[float, Field(gt=0, le=3660)] = 14.0  # at most ten years
    warehouses: list[Warehouse] = Field(
        default_factory=lambda: [Warehouse(name="WH", site="main")], min_length=1
    )
    tier_mix: dict[Literal["strategic", "key", "standard"], NonNegFloat] = Field(
        default_factory=lambda: {"strategic": 0.1, "key": 0.3, "standard": 0.6}
    )
    profiles: dict[str, Profile] = Field(default_factory=dict)
    categories: dict[str, Category] = Field(min_length=1)
    operations: Operations | None = None

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        if self.mode == "injected":
            for name, cat in self.categories.items():
                if cat.rate_per_hour is None:
                    raise ValueError(f"categories.{name}.rate_per_hour: required in injected mode")
            if self.operations is not None:
                raise ValueError("operations: only for mode: operations")
        elif self.operations is None:
            object.__setattr__(self, "operations", Operations())
        if self.mode == "operations":
            for name in self.categories:
                if name not in OPERATIONS_CATEGORIES:
                    raise ValueError(
                        f"categories.{name}: the operations world cannot make this category "
                        f"happen (it makes {', '.join(OPERATIONS_CATEGORIES)}); "
                        "run it in mode: injected with a rate_per_hour"
                    )
        ops = self.operations
        if ops is not None and ops.demand.profile and ops.demand.profile not in self.profiles:
            raise ValueError(
                f"operations.demand.profile: unknown profile {self.operations.demand.profile!r}"
            )
        for name, cat in self.categories.items():
            if cat.profile is not None and cat.profile not in self.profiles:
                known = ", ".join(sorted(self.profiles)) or "none defined"
                raise ValueError(
                    f"categories.{name}.profile: unknown profile {cat.profile!r} ({known})"
                )
        if sum(self.tier_mix.values()) <= 0:
            raise ValueError("tier_mix: weights must not all be zero")
        return self

    @property
    def horizon_min(self) -> float:
        return self.horizon_days * 1440.0

    def tiers(self) -> list[tuple[str, float]]:
        return [(t, self.tier_mix.get(t, 0.0)) for t in TIERS]
