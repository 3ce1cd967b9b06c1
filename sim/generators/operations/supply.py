"""The inbound side: replenishment, purchase orders, receipts, quality, counts.

A daily review compares each warehouse's stock position with its reorder point (days of
average demand) and orders up to the target from the product's supplier. Suppliers promise a
lead time and keep it or not: a share of receipts slip (and a supplier can slip for weeks, the
cascade scenario), some arrive partial, some fail inspection and are held. Orders short of
stock wait per (warehouse, product) in arrival order; a receipt releases them.

Exceptions raised here: ``stock_shortage`` (an order cannot be reserved), ``inbound_delay``
(a receipt past its planned date while orders wait for it: their shortages become its
children), ``quality_hold``, ``urgent_replenishment`` (available stock under safety with no
receipt in time) and ``inventory_discrepancy`` (a cycle count finds book and shelf apart).
Resolving an inbound delay expedites the receipt, which releases the orders it blocked.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.generators.operations.keyed import one
from sim.generators.operations.state import STOCK, Order, PurchaseOrder

if TYPE_CHECKING:
    from sim.case import Case
    from sim.generators.operations.world import OperationsWorld


class Supply:
    def __init__(self, world: OperationsWorld) -> None:
        self.world = world
        ops = world.ops
        self.spec = ops.suppliers
        self.inv = ops.inventory
        streams = world.sim.streams
        self.streams = streams
        self.lead = one(self.spec.lead_time_days)
        self.delay = one(self.spec.delay_days)
        self.raised: dict[tuple[int, int], int] = {}  # purchase orders raised per (wh, product)
        n_wh, n_p = len(world.warehouses), len(world.md.products)
        demand = ops.demand
        per_day = demand.orders_per_day * demand.lines.mean * demand.quantity.mean
        self.daily = [
            [per_day * world.wh_share[w] * float(world.md.product_p[p]) for p in range(n_p)]
            for w in range(n_wh)
        ]
        # slow movers are stocked in whole order lines at least; only A items are urgent
        self.min_qty = 3.0 * demand.quantity.mean
        self.fast = [pr.abc == "A" for pr in world.md.products]
        self.waiting: dict[tuple[int, int], deque[Order]] = {}
        self.open_pos: dict[tuple[int, int], list[PurchaseOrder]] = {}
        self.delay_case: dict[tuple[int, int], Case] = {}
        self.urgent_case: dict[tuple[int, int], Case] = {}
        for w in range(n_wh):
            for p in range(n_p):
                qty = round(max(self.daily[w][p] * self.inv.initial_cover_days, 3 * self.min_qty))
                world.stock.receive(w, p, float(qty))

    def start(self) -> None:
        env = self.world.env
        env.process(self._review())
        if self.inv.cycle_count_share_per_day > 0 and self.world.wants("inventory_discrepancy"):
            env.process(self._counts())

    # -- shortages ---------------------------------------------------------------------------
    def shortage(self, order: Order) -> None:
        """``order`` cannot be reserved: it waits for the products it lacks."""
        world, stock = self.world, self.world.stock
        parent = None
        for p, q in order.lines:  # (re-)register for every line short now
            if stock.available(order.wh, p) < q and p not in order.waiting:
                key = (order.wh, p)
                order.wait_for(p)
                queue = self.waiting.get(key)
                if queue is None:  # dropped when it empties (``release``)
                    queue = self.waiting[key] = deque()
                queue.append(order)
                parent = parent or self._delayed_receipt(key)
        if not order.blocks & STOCK:
            order.blocks |= STOCK
            world.open_case(
                "stock_shortage", order.value, order, order.wh, f"order:{order.id}", parent=parent
            )

    def _delayed_receipt(self, key: tuple[int, int]) -> Case | None:
        """The open inbound-delay case for ``key``, opening one if its receipt is overdue."""
        case = self.delay_case.get(key)
        if case is not None and not case.resolved:
            return case
        now = self.world.env.now
        for po in self.open_pos.get(key, ()):
            if not po.received and po.planned < now:
                return self._inbound_delay(po)
        return None

    def _inbound_delay(self, po: PurchaseOrder) -> Case | None:
        key = (po.wh, po.product)
        waiting = self.waiting.get(key)
        if not waiting or not self.world.wants("inbound_delay"):
            return None
        value = sum(o.value for o in waiting)
        case = self.world.open_case(
            "inbound_delay",
            value,
            None,
            po.wh,
            f"po:{po.id}",
            trigger=po.planned,
            ref=po,
        )
        po.case = case
        if case is not None:  # (it is: the category is wanted)
            self.delay_case[key] = case
        return case

    # -- replenishment -----------------------------------------------------------------------
    def _review(self) -> Generator[Any, Any, None]:
        """Every review period: per warehouse and product, order up to the target when stock
        and what is on order fall under the reorder point; flag fast movers under safety
        stock. The stock position of every product is compared at once (numpy); the few
        products under a threshold are then handled one by one, in product order."""
        world, env, inv = self.world, self.world.env, self.inv
        stock = world.stock
        daily = [np.array(row) for row in self.daily]
        reorder = [np.maximum(inv.reorder_cover_days * d, self.min_qty) for d in daily]
        safety = [inv.safety_cover_days * d for d in daily]
        fast = np.array(self.fast, dtype=bool)
        n_wh = len(world.warehouses)
        while True:
            on_order = np.zeros((n_wh, len(fast)))
            for (w, p), pos_list in self.open_pos.items():
                for po in pos_list:
                    if not po.received:
                        on_order[w, p] += po.qty
            for w in range(n_wh):
                pos = np.array(stock.on_hand[w]) - np.array(stock.reserved[w])
                pos -= np.array(stock.held[w])
                low = (pos + on_order[w] < reorder[w]) | (pos < safety[w]) & fast
                low &= daily[w] > 0
                for p in np.flatnonzero(low).tolist():
                    self._review_one(w, p)
            yield env.timeout(inv.review_every_min)

    def _review_one(self, w: int, p: int) -> None:
        """The review of product ``p`` at warehouse ``w``."""
        inv, stock = self.inv, self.world.stock
        daily = self.daily[w][p]
        key = (w, p)
        pos = stock.on_hand[w][p] - stock.reserved[w][p] - stock.held[w][p]
        on_order = sum(po.qty for po in self.open_pos.get(key, ()) if not po.received)
        if pos + on_order < max(inv.reorder_cover_days * daily, self.min_qty):
            target = max(inv.order_up_to_days * daily, 2.5 * self.min_qty)
            qty = round(target - pos - on_order)
            if qty > 0:
                self._order(w, p, float(qty))
        if pos < inv.safety_cover_days * daily and self.fast[p]:
            self._urgent(w, p, daily)

    def _order(self, w: int, p: int, qty: float, lead_days: float | None = None) -> PurchaseOrder:
        world, env, spec = self.world, self.world.env, self.spec
        now = env.now
        supplier = world.md.products[p].supplier
        # the k-th purchase order for (w, p) draws from its own key: lead time, slip, and at
        # receipt whether it comes partial (and how much) and whether it fails inspection
        k = self.raised.get((w, p), 0)
        self.raised[(w, p)] = k + 1
        gen = world.keyed("supply/receipt", w, p, k)
        u_delay, u_partial, u_share, u_quality = gen.random(4).tolist()
        lead = (self.lead(gen) if lead_days is None else lead_days) * 1440.0
        planned = now + lead
        late = 0.0
        if lead_days is None:
            if u_delay < spec.delay_prob:
                late += self.delay(gen) * 1440.0
            for slip in spec.slips:
                start = slip.from_day * 1440.0
                if slip.supplier == supplier and start <= planned < start + slip.days * 1440.0:
                    late += slip.days_late * 1440.0
        po = PurchaseOrder(
            f"{w}:{p}:{k}",
            supplier,
            w,
            p,
            qty,
            now,
            planned,
            planned + late,
            (u_partial, u_share, u_quality),
        )
        self.open_pos.setdefault((w, p), []).append(po)
        env.timeout(po.arrival - now, po).callbacks.append(self._arrive)
        if late > 0:
            env.timeout(lead, po).callbacks.append(self._overdue)
        return po

    def _overdue(self, event) -> None:
        po = event.value
        if not po.received and po.case is None:
            self._inbound_delay(po)

    def _arrive(self, event) -> None:
        po: PurchaseOrder = event.value
        if po.received:
            return
        world, spec = self.world, self.spec
        po.received = True
        self.open_pos[(po.wh, po.product)].remove(po)
        world.clear(po.case)
        qty = po.qty
        u_partial, u_share, u_quality = po.draws
        if u_partial < spec.partial_prob:
            qty = float(max(1, round(qty * (0.3 + 0.5 * u_share))))
            world.outcomes.count("partial_receipts")
        held = u_quality < spec.quality_fail_prob and world.wants("quality_hold")
        world.stock.receive(po.wh, po.product, qty, held=held)
        if held:
            value = qty * world.md.products[po.product].value
            world.open_case(
                "quality_hold",
                value,
                None,
                po.wh,
                f"receipt:{po.id}",
                ref=("held", po.wh, po.product, qty),
            )
        self.release(po.wh, po.product)

    def _urgent(self, w: int, p: int, daily: float) -> None:
        key = (w, p)
        open_case = self.urgent_case.get(key)
        if open_case is not None and not open_case.resolved:
            return
        soon = self.world.env.now + 1440.0
        if any(po.arrival <= soon for po in self.open_pos.get(key, ()) if not po.received):
            return
        value = daily * self.world.md.products[p].value
        case = self.world.open_case(
            "urgent_replenishment", value, None, w, f"product:{p}", ref=("urgent", w, p)
        )
        if case is not None:
            self.urgent_case[key] = case

    def release(self, w: int, p: int) -> None:
        """Stock came in for (w, p): orders waiting for it try again, oldest first."""
        queue = self.waiting.get((w, p))
        world = self.world
        while queue:
            order = queue[0]
            if order.reserved or order.cancelled or p not in order.waiting:
                queue.popleft()
                continue
            if world.stock.available(w, p) < dict(order.lines).get(p, 0):
                break
            queue.popleft()
            order.stop_waiting_for(p)
            if not order.waiting:
                world.advance(order)
        if queue is not None and not queue and self.waiting.get((w, p)) is queue:
            del self.waiting[(w, p)]  # nobody waits here now: no empty queue kept
        case = self.delay_case.get((w, p))
        if case is not None and not queue:
            world.clear(case)

    # -- counts ------------------------------------------------------------------------------
    def _counts(self) -> Generator[Any, Any, None]:
        world, env = self.world, self.world.env
        stock = world.stock
        n_p = len(world.md.products)
        per_day = max(1, round(n_p * self.inv.cycle_count_share_per_day))
        cursor = [0] * len(world.warehouses)
        while True:
            yield env.timeout(1440.0)
            for w in range(len(world.warehouses)):
                for _ in range(per_day):
                    p = cursor[w] % n_p
                    cursor[w] += 1
                    diff = stock.physical[w][p] - stock.on_hand[w][p]
                    if abs(diff) >= 1:
                        value = abs(diff) * world.md.products[p].value
                        world.open_case(
                            "inventory_discrepancy",
                            value,
                            None,
                            w,
                            f"count:{w}:{p}",
                            ref=("count", w, p),
                        )

    # -- the desk acted ----------------------------------------------------------------------
    def resolved(self, case, ref, how: str) -> None:
        world = self.world
        stock = world.stock
        if case.category == "inbound_delay" and isinstance(ref, PurchaseOrder):
            if not ref.received and not ref.expedited:
                ref.expedited = True
                world.outcomes.count("expedites")
                soon = world.env.now + self.spec.expedite_days * 1440.0
                if soon < ref.arrival:
                    ref.arrival = soon
                    world.env.timeout(soon - world.env.now, ref).callbacks.append(self._arrive)
        elif isinstance(ref, tuple) and ref[0] == "held":
            _, w, p, qty = ref
            stock.held[w][p] -= qty
            if how == "rejected":  # write-off: the goods go back to the supplier
                stock.on_hand[w][p] -= qty
                stock.physical[w][p] -= qty
            else:
                self.release(w, p)
        elif isinstance(ref, tuple) and ref[0] == "urgent":
            _, w, p = ref
            world.outcomes.count("expedites")
            qty = float(round(self.inv.order_up_to_days * self.daily[w][p]))
            self._order(w, p, max(qty, 1.0), lead_days=self.spec.expedite_days)
        elif isinstance(ref, tuple) and ref[0] == "count":
            _, w, p = ref
            # book := shelf, but never below what is promised to orders already
            stock.on_hand[w][p] = max(stock.physical[w][p], stock.reserved[w][p] + stock.held[w][p])
            stock.physical[w][p] = stock.on_hand[w][p]
