"""What an operations-mode scenario says: the distributor whose daily work makes exceptions.

Instead of injecting exceptions at fixed rates, the scenario describes the business: master
data (customers with tiers and credit limits, products by ABC class, suppliers and carriers,
with deliberate defects), demand (orders per day with daily/weekly profiles, peaks and
promotions, promised dates by tier), inventory policy (cover, reorder points, cycle counts),
supplier behaviour (lead times, slips, partial and rejected receipts), the warehouse floor
(pickers on shifts, picking SLA, carrier cutoffs), carriers (API failures, outages, transit)
and finance (credit exposure, month-end pressure, invoice validation). The twelve exception
categories then *emerge* from these states (``sim/generators/operations``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from sim.policies.schema import Outage, Shift
from sim.schema_types import Distribution, Strict

Prob = Annotated[float, Field(ge=0, le=1)]
Pos = Annotated[float, Field(gt=0)]
NonNeg = Annotated[float, Field(ge=0)]


class Defects(Strict):
    """Share of master-data records created with a gap (each blocks a document downstream)."""

    missing_address: Prob = 0.01
    missing_vat: Prob = 0.01
    missing_route: Prob = 0.005
    missing_weight: Prob = 0.01


class DefectWave(Strict):
    """From ``from_day`` on, defect rates are multiplied by ``factor`` (a data migration)."""

    from_day: NonNeg
    factor: Pos


class MasterData(Strict):
    customers: Annotated[int, Field(ge=1, le=1_000_000)] = 300
    products: Annotated[int, Field(ge=1, le=1_000_000)] = 800
    suppliers: Annotated[int, Field(ge=1, le=100_000)] = 25
    abc_shares: dict[str, Prob] = Field(default_factory=lambda: {"A": 0.2, "B": 0.3, "C": 0.5})
    abc_demand: dict[str, Prob] = Field(default_factory=lambda: {"A": 0.8, "B": 0.15, "C": 0.05})
    unit_value: Distribution = Distribution(dist="lognormal", mean=60.0, cv=1.5)
    # a customer's credit limit as a multiple of its usual outstanding balance (its daily
    # purchases times the payment terms): near 1, normal trading runs into holds
    credit_headroom: Distribution = Distribution(dist="lognormal", mean=2.2, cv=0.3)
    defects: Defects = Defects()
    defect_wave: DefectWave | None = None


class Peak(Strict):
    """Demand multiplied by ``factor`` for ``days`` from ``from_day`` (a season, a promotion).

    ``abc`` limits it to product classes (a promotion on A items); empty means all orders.
    """

    from_day: NonNeg
    days: Pos
    factor: Annotated[float, Field(gt=0, le=100)]
    abc: list[str] = Field(default_factory=list)


class Demand(Strict):
    orders_per_day: Annotated[float, Field(gt=0, le=100_000)] = 400.0
    profile: str | None = None
    lines: Distribution = Distribution(dist="gamma", mean=3.0, cv=0.6)
    quantity: Distribution = Distribution(dist="gamma", mean=4.0, cv=1.0)
    promise_days: dict[str, NonNeg] = Field(
        default_factory=lambda: {"strategic": 1, "key": 2, "standard": 3}
    )
    peaks: list[Peak] = Field(default_factory=list)


class Inventory(Strict):
    """Stock policy per warehouse and product, in days of average demand."""

    initial_cover_days: NonNeg = 14.0
    reorder_cover_days: NonNeg = 6.0
    order_up_to_days: Pos = 18.0
    review_every_min: Pos = 1440.0
    safety_cover_days: NonNeg = 2.0
    cycle_count_share_per_day: Prob = 0.05
    shrink_prob: Prob = 0.002


class SupplierSlip(Strict):
    """Supplier ``supplier`` (0 = the biggest) delivers ``days_late`` late from ``from_day``."""

    supplier: Annotated[int, Field(ge=0)] = 0
    from_day: NonNeg
    days: Pos
    days_late: Pos


class Suppliers(Strict):
    lead_time_days: Distribution = Distribution(dist="gamma", mean=6.0, cv=0.3)
    delay_prob: Prob = 0.12
    delay_days: Distribution = Distribution(dist="lognormal", mean=3.0, cv=0.8)
    partial_prob: Prob = 0.08
    quality_fail_prob: Prob = 0.02
    expedite_days: NonNeg = 1.0
    slips: list[SupplierSlip] = Field(default_factory=list)


class FloorSpec(Strict):
    """The floor as the scenario states it (the working floor is
    ``sim.generators.operations.floor.Floor``): pickers per warehouse on shifts, and the picking
    SLA the business expects."""

    pickers: list[Shift] = Field(
        default_factory=lambda: [
            Shift(
                name="early",
                days=["mon", "tue", "wed", "thu", "fri", "sat"],
                start="06:00",
                end="14:00",
                agents=4,
            ),
            Shift(
                name="late",
                days=["mon", "tue", "wed", "thu", "fri"],
                start="14:00",
                end="22:00",
                agents=4,
            ),
        ]
    )
    pick_min: Distribution = Distribution(dist="lognormal", mean=7.0, cv=0.6)
    picking_sla_min: Pos = 240.0


class Carrier(Strict):
    name: str
    share: Pos = 1.0
    cutoff: str = "16:00"
    api_failure_prob: Prob = 0.01
    retry_ok_min: Distribution = Distribution(dist="lognormal", mean=30.0, cv=1.0)
    transit_days: Distribution = Distribution(dist="gamma", mean=1.2, cv=0.4)
    pod_dispute_prob: Prob = 0.005
    customs_prob: Prob = 0.0
    outages: list[Outage] = Field(default_factory=list)


class Finance(Strict):
    """Invoices are paid ``payment_days`` after delivery; at minute 0 each customer already
    owes ``opening_balance`` times its usual outstanding balance, paid off over the first
    payment terms; ``month_end_factor`` lifts demand in the last ``month_end_days`` days.
    Expedites cost ``expedite_cost`` each; a late delivery pays ``late_penalty_rate`` of its
    value."""

    opening_balance: Distribution = Distribution(dist="gamma", mean=1.0, cv=0.3)
    payment_days: Distribution = Distribution(dist="gamma", mean=30.0, cv=0.4)
    month_end_days: NonNeg = 0.0
    month_end_factor: Pos = 1.0
    invoice_block_prob: Prob = 0.01
    expedite_cost: NonNeg = 250.0  # per expedited receipt or emergency order
    late_penalty_rate: Prob = 0.02  # share of an order's value paid when delivered late


class Operations(Strict):
    master_data: MasterData = MasterData()
    demand: Demand = Demand()
    inventory: Inventory = Inventory()
    suppliers: Suppliers = Suppliers()
    warehouse: FloorSpec = FloorSpec()
    carriers: list[Carrier] = Field(
        default_factory=lambda: [Carrier(name="carrier", share=1.0)], min_length=1
    )
    finance: Finance = Finance()

    @model_validator(mode="after")
    def _abc(self) -> Operations:
        md = self.master_data
        if set(md.abc_shares) != set(md.abc_demand):
            raise ValueError("master_data: abc_shares and abc_demand must name the same classes")
        for peak in self.demand.peaks:
            unknown = set(peak.abc) - set(md.abc_shares)
            if unknown:
                raise ValueError(f"demand.peaks: unknown ABC class {sorted(unknown)[0]!r}")
        return self
