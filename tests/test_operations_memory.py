"""Operations mode keeps what grows with the horizon small: unpaid invoices as unboxed columns,
no empty queue of orders waiting for stock kept once its orders are released."""

from __future__ import annotations

import pytest

from sim import config
from sim.engine import Simulation


def run(name: str, days: float) -> tuple[Simulation, int]:
    """The run and how many stock shortages it logged."""
    scen = config.load_scenario(name, {"horizon_days": days})
    sim = Simulation(scen, config.load_policy("default"), seed=2)
    table = sim.run().table()
    events, categories = table["event"].to_pylist(), table["category"].to_pylist()
    shortages = sum(
        e == "occurred" and c == "stock_shortage" for e, c in zip(events, categories, strict=True)
    )
    return sim, shortages


@pytest.fixture(scope="module")
def supplier_delay() -> Simulation:
    sim, shortages = run("supplier-delay", 40)
    assert shortages > 50  # orders did wait for stock (else there is little to check)
    return sim


def test_released_queues_of_waiting_orders_are_dropped(supplier_delay):
    world = supplier_delay.world
    supply = world.supply
    assert all(queue for queue in supply.waiting.values()), "an empty queue is kept"
    # and a queue is there for every order still short of a product
    for order in world.orders.values():
        if order.reserved or order.cancelled:
            continue
        for p in order.waiting:
            assert order in supply.waiting[(order.wh, p)]


def test_unpaid_invoices_are_kept_as_two_unboxed_columns_per_day(supplier_delay):
    payments = supplier_delay.world.floor.payments
    assert payments
    # invoices owed before the last daily settlement are in the arrays already
    assert sum(len(bucket.customers) for bucket in payments.values()) > 1000
    for bucket in payments.values():
        customers, amounts = bucket.columns()
        assert customers.typecode == "q" and amounts.typecode == "d"
        assert len(customers) == len(amounts) > 0
        assert not bucket.new_customers and not bucket.new_amounts


def test_exposure_is_what_is_unpaid_plus_what_is_not_yet_invoiced(supplier_delay):
    """A customer's credit exposure: invoices not yet paid plus orders confirmed and not yet
    invoiced (an order is invoiced when it is delivered; a cancelled one never is)."""
    world = supplier_delay.world
    owed = [0.0] * len(world.md.customers)
    for bucket in world.floor.payments.values():
        for c, amount in zip(*bucket.columns(), strict=True):
            owed[c] += amount
    for order in world.orders.values():
        if not order.cancelled:
            owed[order.customer] += order.value
    for customer in world.md.customers:
        assert customer.exposure == pytest.approx(owed[customer.id], rel=1e-9, abs=1e-6)
