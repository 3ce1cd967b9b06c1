"""The moving parts of operations: orders, purchase orders and stock.

Plain objects with slots; the world's processes mutate them. Stock is kept per warehouse and
product as on-hand, reserved (promised to confirmed orders) and held (received but blocked by a
quality hold); available = on hand - reserved - held, and it is never negative.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from sim.case import Case

# what holds an order (bits of ``Order.blocks``)
CREDIT: Final = 1
STOCK: Final = 2
DATA: Final = 4
CARRIER: Final = 8
#: shared by orders without a case until their first one (``Order.add_case``)
NO_CASES: Final[Mapping[str, Case]] = MappingProxyType({})
#: shared by orders not waiting for stock (``Order.wait_for``)
NO_PRODUCTS: Final[frozenset[int]] = frozenset()


class Order:
    """A confirmed sales order for one warehouse, and how far it got."""

    __slots__ = (
        "id",
        "t",
        "customer",
        "wh",
        "lines",
        "value",
        "promise",
        "scheduled",
        "blocks",
        "reserved",
        "ready",
        "picked",
        "shipped",
        "carrier",
        "delivered",
        "partial",
        "prio",
        "resolved",
        "cases",
        "cancelled",
        "waiting",
        "fate",
        "tries",
        "labelled",
    )

    def __init__(
        self,
        id: int,
        t: float,
        customer: int,
        wh: int,
        lines: list[tuple[int, float]],
        value: float,
        promise: float,
        scheduled: float,
        fate: tuple[float, ...] = (),
    ) -> None:
        self.id = id
        self.t = t
        self.customer = customer
        self.wh = wh
        self.lines = lines  # (product id, quantity), one per product
        self.value = value
        self.promise = promise
        self.scheduled = scheduled  # the delivery's scheduled date: when pickers are on duty
        self.blocks = 0  # what holds it: CREDIT | STOCK | DATA | CARRIER bits
        self.reserved = False
        self.ready: float | None = None
        self.picked: float | None = None
        self.shipped: float | None = None
        self.carrier = -1  # chosen when the pick starts
        self.delivered: float | None = None
        self.partial = False
        self.prio = 1
        self.resolved = False  # team queues skip resolved items; an order never is
        #: exception case per category (a dict from the first one)
        self.cases: Mapping[str, Case] = NO_CASES
        self.cancelled = False
        #: products it waits for (a set while it waits)
        self.waiting: Set[int] = NO_PRODUCTS
        self.fate = fate  # its keyed draws on the floor (demand.py: PICK, CARRIER, ...)
        self.tries = 0  # label requests made
        self.labelled = -1.0  # when its label printed: it leaves at the next cutoff from then

    def add_case(self, category: str, case: Case) -> None:
        """``case`` (of ``category``) is now this order's exception of that category."""
        cases = self.cases
        if isinstance(cases, dict):
            cases[category] = case
        else:  # the first: a dict of its own instead of the shared empty one
            self.cases = {category: case}

    def wait_for(self, product: int) -> None:
        """The order now waits for stock of ``product``."""
        waiting = self.waiting
        if isinstance(waiting, set):
            waiting.add(product)
        else:  # the first: a set of its own instead of the shared empty one
            self.waiting = {product}

    def stop_waiting_for(self, product: int) -> None:
        waiting = self.waiting
        if isinstance(waiting, set):
            waiting.discard(product)


class PurchaseOrder:
    """A replenishment order; ``id`` is ``"w:p:k"``, the k-th for product p at warehouse w
    (stable across policies), and ``draws`` its keyed (partial, share, inspection) uniforms."""

    __slots__ = (
        "id",
        "draws",
        "supplier",
        "wh",
        "product",
        "qty",
        "t",
        "planned",
        "arrival",
        "case",
        "received",
        "expedited",
    )

    def __init__(
        self,
        id: str,
        supplier: int,
        wh: int,
        product: int,
        qty: float,
        t: float,
        planned: float,
        arrival: float,
        draws: tuple[float, float, float] = (0.0, 0.0, 1.0),
    ) -> None:
        self.id = id
        self.supplier = supplier
        self.wh = wh
        self.product = product
        self.draws = draws
        self.qty = qty
        self.t = t
        self.planned = planned
        self.arrival = arrival
        self.case: Case | None = None
        self.received = False
        self.expedited = False


class Stock:
    """On hand, reserved and held per (warehouse, product); book stock vs physical stock."""

    def __init__(self, n_wh: int, n_products: int) -> None:
        self.on_hand = [[0.0] * n_products for _ in range(n_wh)]
        self.reserved = [[0.0] * n_products for _ in range(n_wh)]
        self.held = [[0.0] * n_products for _ in range(n_wh)]
        self.physical = [[0.0] * n_products for _ in range(n_wh)]  # what a count would find

    def available(self, wh: int, p: int) -> float:
        return self.on_hand[wh][p] - self.reserved[wh][p] - self.held[wh][p]

    def covers(self, order: Order) -> bool:
        """Whether every line of ``order`` is available now."""
        wh = order.wh
        on_hand, reserved, held = self.on_hand[wh], self.reserved[wh], self.held[wh]
        for p, q in order.lines:  # noqa: SIM110 (a loop: no generator frame per order)
            if on_hand[p] - reserved[p] - held[p] < q:
                return False
        return True

    def reserve(self, order: Order) -> bool:
        """Reserve all lines of ``order`` if every line is available; else nothing."""
        if not self.covers(order):
            return False
        self.book(order)
        return True

    def book(self, order: Order) -> None:
        """Reserve the lines of ``order`` (known to be available)."""
        reserved = self.reserved[order.wh]
        for p, q in order.lines:
            reserved[p] += q
        order.reserved = True

    def issue(self, order: Order) -> None:
        """Goods leave: the reservation is consumed. An order picked the moment it is
        confirmed (available, a picker free) was never reserved: its goods just leave."""
        wh = order.wh
        on_hand, physical = self.on_hand[wh], self.physical[wh]
        if order.reserved:
            reserved = self.reserved[wh]
            for p, q in order.lines:
                reserved[p] -= q
                on_hand[p] -= q
                left = physical[p] - q
                physical[p] = left if left > 0.0 else 0.0
        else:
            order.reserved = True
            for p, q in order.lines:
                on_hand[p] -= q
                left = physical[p] - q
                physical[p] = left if left > 0.0 else 0.0

    def receive(self, wh: int, p: int, qty: float, held: bool = False) -> None:
        self.on_hand[wh][p] += qty
        self.physical[wh][p] += qty
        if held:
            self.held[wh][p] += qty
