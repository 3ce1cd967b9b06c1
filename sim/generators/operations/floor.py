"""The outbound side: picking on shifts, labels, carrier cutoffs, deliveries, payments.

A ready order joins its warehouse's pick queue (pickers are a :class:`~sim.team.Team` on the
scenario's shifts); if nobody has started it by its scheduled date plus the picking SLA, that
is a ``picking_sla`` exception (trigger date: the scheduled date). A picked order gets a carrier
label; the carrier's API fails now and then and always during an outage (``carrier_failure``,
retried by the system until a retry succeeds). Labelled orders leave at the carrier's daily
cutoff; an order that missed its first cutoff counts as a missed cutoff. Transit decides the
delivery; past the promise it is a ``delivery_delay`` (trigger: the promised date). Shipments
can hit customs or a proof-of-delivery dispute (``pod_dispute``) and invoices a validation
block (``invoice_block``). Paid invoices lower the customer's credit exposure and can release
orders on credit hold.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Generator
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

from sim.generators.operations.demand import (
    CARRIER_CHOICE,
    CUSTOMS,
    INVOICE,
    LABEL,
    PAYMENT,
    PICK,
    POD,
    SHRINK,
    SHRINK_LINE,
    TRANSIT,
)
from sim.generators.operations.keyed import one
from sim.generators.operations.picking import Pickers
from sim.generators.operations.state import CARRIER, CREDIT, DATA, NO_PRODUCTS, STOCK, Order
from sim.policies.schema import minutes_of_day as _minutes
from sim.shifts import Calendar

if TYPE_CHECKING:
    from sim.generators.operations.world import OperationsWorld


class DueInvoices:
    """The invoices due on one day, in the order they were owed: customers and amounts.

    Those owed since the last daily settlement are appended to two lists (a list append is
    cheap compiled); the settlement moves them into two unboxed arrays (8 + 8 bytes an
    invoice, against about 120 for a (customer, amount) tuple in a list), as unpaid invoices
    pile up over the payment terms."""

    __slots__ = ("customers", "amounts", "new_customers", "new_amounts")

    def __init__(self) -> None:
        self.customers: array[int] = array("q")
        self.amounts: array[float] = array("d")
        self.new_customers: list[int] = []
        self.new_amounts: list[float] = []

    def compact(self) -> None:
        """Move the invoices owed since the last call into the arrays, in order."""
        if self.new_customers:
            self.customers.fromlist(self.new_customers)  # (one resize; ``extend`` grows
            self.amounts.fromlist(self.new_amounts)  # an item at a time from a list)
            self.new_customers = []
            self.new_amounts = []

    def columns(self) -> tuple[array[int], array[float]]:
        """(customers, amounts) of every invoice, in the order they were owed."""
        self.compact()
        return self.customers, self.amounts


class Floor:
    def __init__(self, world: OperationsWorld) -> None:
        self.world = world
        ops = world.ops
        sim = world.sim
        streams = sim.streams
        self.spec = ops.warehouse
        self.streams = streams
        self.carriers = ops.carriers
        self.retry = [one(c.retry_ok_min) for c in self.carriers]
        total = sum(c.share for c in self.carriers)
        self.carrier_cum = []
        acc = 0.0
        for c in self.carriers:
            acc += c.share / total
            self.carrier_cum.append(acc)
        self.last_carrier = len(self.carrier_cum) - 1
        self.outages = [
            [(o.start_min, o.start_min + o.duration_min) for o in c.outages] for c in self.carriers
        ]
        self.shrink = ops.inventory.shrink_prob
        # chance that some line of an order of n lines loses a unit, by n (computed once)
        self._shrink_by_lines: list[float] = []
        self.api_failure = [c.api_failure_prob for c in self.carriers]
        #: per carrier, the orders labelled (``Order.labelled``) since its last cutoff
        self.labelled: list[list[Order]] = [[] for _ in self.carriers]
        self.sla_watch = world.wants("picking_sla")
        # invoices by the day they are paid on, due in ((k-1) d, k d]
        self.payments: dict[int, DueInvoices] = {}
        self.credit_held: dict[int, list[Order]] = {}
        weights = [w.weight for w in sim.scenario.warehouses]
        top = max(weights)
        start = sim.scenario.start
        self.on_duty = Calendar.from_shifts(self.spec.pickers, start)
        self._span = (-1.0, -1.0)
        self.pickers = [
            Pickers(
                sim.env,
                [
                    (max(1, round(s.agents * weights[i] / top)), Calendar.from_shift(s, start))
                    for s in self.spec.pickers
                ],
                sim.horizon,
                self,
            )
            for i in range(len(world.warehouses))
        ]
        # orders queued for picking, by the moment they breach the picking SLA (one wake-up
        # at the earliest still unpicked, instead of a timer per order)
        self.sla_heap: list[tuple[float, int, Order]] = []
        self.sla_wake = math.inf

    def start(self) -> None:
        env = self.world.env
        for i, c in enumerate(self.carriers):
            env.process(self._cutoffs(i, _minutes(c.cutoff)))
        env.process(self._settle())

    # -- picking -----------------------------------------------------------------------------
    def schedule(self, t: float) -> float:
        """A delivery's scheduled date: the next moment pickers are on duty."""
        lo, hi = self._span
        if lo <= t < hi:
            return t
        for lo, hi in self.on_duty.spans(t, t + 8 * 1440.0):
            self._span = (lo, hi) if lo <= t else (-1.0, -1.0)
            return lo
        return t

    def ready(self, order: Order) -> None:
        now = self.world.env.now
        order.ready = now
        self.pickers[order.wh].push(order)
        if order.picked is None and self.sla_watch:
            due = order.scheduled + self.spec.picking_sla_min
            heappush(self.sla_heap, (due, order.id, order))
            if due < self.sla_wake:
                self.sla_wake = due
                self.world.env.timeout(max(0.0, due - now)).callbacks.append(self._sla)

    def _sla(self, event) -> None:
        """Orders still unpicked at their SLA moment breach it; wake again at the next."""
        now = self.world.env.now
        if now >= self.sla_wake:
            self.sla_wake = math.inf
        heap = self.sla_heap
        while heap:
            due, _, order = heap[0]
            if order.picked is not None or order.cancelled or "picking_sla" in order.cases:
                heappop(heap)
            elif due <= now:
                heappop(heap)
                self.world.open_case(
                    "picking_sla",
                    order.value,
                    order,
                    order.wh,
                    f"picking:{order.id}",
                    trigger=order.scheduled,
                )
            else:
                break
        if heap and heap[0][0] < self.sla_wake:
            self.sla_wake = heap[0][0]
            self.world.env.timeout(self.sla_wake - now).callbacks.append(self._sla)

    def start_pick(self, order: Order, now: float) -> float:
        """A picker starts ``order``: goods leave stock now; the label is asked for at the end."""
        world = self.world
        order.picked = now  # started: no longer "not started within SLA"
        order.resolved = True  # a second entry in the pick queue (re-prioritised) is skipped
        if order.cases:
            world.clear(order.cases.get("picking_sla"))
        world.stock.issue(order)
        # shrink: a unit goes missing on a line now and then (one draw per order)
        lines, fate = order.lines, order.fate
        n, table = len(lines), self._shrink_by_lines
        if self.shrink and fate[SHRINK] < (table[n] if n < len(table) else self._shrink_chance(n)):
            p = lines[int(fate[SHRINK_LINE] * n)][0]
            phys = world.stock.physical[order.wh]
            phys[p] = max(0.0, phys[p] - 1.0)
        c = order.carrier
        if c < 0:  # ``bisect(carrier_cum, u)`` over a few carriers, as a loop (no call)
            u, c = fate[CARRIER_CHOICE], 0
            for edge in self.carrier_cum:
                if u < edge:
                    break
                c += 1
            if c > self.last_carrier:
                c = self.last_carrier
            order.carrier = c
        minutes = fate[PICK]
        end = now + minutes
        label_ok = fate[LABEL] >= self.api_failure[c]
        if label_ok and (not self.outages[c] or self._down(c, end) is None):
            order.tries = 1  # the label will print at the end of the pick: nothing to simulate
            order.labelled = end
            self.labelled[c].append(order)
        else:
            world.env.timeout(minutes, order).callbacks.append(self._picked)
        return minutes

    def _shrink_chance(self, n_lines: int) -> float:
        """Chance that one of ``n_lines`` lines loses a unit when picked."""
        table = self._shrink_by_lines
        while len(table) <= n_lines:
            table.append(1.0 - (1.0 - self.shrink) ** len(table))
        return table[n_lines]

    def _picked(self, event) -> None:
        """A pick whose label request fails ends: ask for the label (and fail) now."""
        self._label(event.value)

    # -- carriers ----------------------------------------------------------------------------
    def _down(self, carrier: int, t: float) -> float | None:
        """End of the outage ``carrier`` is in at ``t``, or None."""
        for a, b in self.outages[carrier]:
            if a <= t < b:
                return b
        return None

    def _label(self, order: Order) -> None:
        world, now = self.world, self.world.env.now
        c = order.carrier
        down = self._down(c, now)
        tries = order.tries
        order.tries += 1
        # the first request's outcome is in the order's fate; a retry draws from its own key
        retry = None if tries == 0 else world.keyed("floor/label", order.id, tries)
        u = order.fate[LABEL] if retry is None else float(retry.random())
        if down is None and u >= self.carriers[c].api_failure_prob:
            world.clear(order.cases.get("carrier_failure"))
            order.labelled = now
            self.labelled[c].append(order)
            return
        if "carrier_failure" not in order.cases:
            order.blocks |= CARRIER
            world.outcomes.blocked(order, True)
            world.open_case(
                "carrier_failure",
                order.value,
                order,
                order.wh,
                f"label:{order.id}:{self.carriers[c].name}",
            )
        wait = self.retry[c](world.keyed(f"floor/retry/{self.carriers[c].name}", order.id, tries))
        retry_at = (down if down is not None else now) + wait
        world.env.timeout(retry_at - now, order).callbacks.append(self._retry)

    def _retry(self, event) -> None:
        order: Order = event.value
        if order.shipped is None and order.blocks & CARRIER:
            self._label_again(order)

    def _label_again(self, order: Order) -> None:
        order.blocks &= ~CARRIER
        self._label(order)
        if not order.blocks & CARRIER:
            self.world.outcomes.blocked(order, False)

    def _cutoffs(self, carrier: int, cutoff_min: int) -> Generator[Any, Any, None]:
        env = self.world.env
        start = self.world.sim.scenario.start
        offset = start.hour * 60 + start.minute
        day = 0
        while True:
            t = day * 1440.0 + cutoff_min - offset
            day += 1
            weekday = (start.weekday() + (t + offset) // 1440) % 7
            if t < env.now or weekday == 6:  # no pickups on Sunday
                continue
            yield env.timeout(t - env.now)
            self._ship(carrier)

    def _ship(self, carrier: int) -> None:
        world, env = self.world, self.world.env
        now = env.now
        batch = self.labelled[carrier]
        later: list[Order] = []
        self.labelled[carrier] = later
        spec = self.carriers[carrier]
        invoice_block = world.ops.finance.invoice_block_prob
        customs, pod = spec.customs_prob, spec.pod_dispute_prob
        watch_late = world.wants("delivery_delay")
        transit = TRANSIT + carrier
        # an uneventful delivery is settled here, with no event: counted on time, its invoice
        # due after the payment terms (``_settle_delivery`` and ``owe``, inlined: the bulk);
        # what ``Outcomes.shipped`` counts is counted on the way too
        outcomes = world.outcomes
        open_orders, payments, counts = world.orders, self.payments, outcomes.counts
        blocked_ids = outcomes.blocked_ids
        unblocked: list[Order] = []
        on_time = n_shipped = partial = missed = 0
        for order in batch:
            if order.labelled > now:  # still being picked: the next cutoff
                later.append(order)
                continue
            if order.cancelled:
                continue
            order.shipped = now
            n_shipped += 1
            if order.partial:
                partial += 1
            picked = order.picked
            if picked is not None and now - picked > 1440.0:
                missed += 1
            if blocked_ids and order.id in blocked_ids:
                unblocked.append(order)
            fate = order.fate
            if fate[CUSTOMS] < customs:
                world.open_case("pod_dispute", order.value, order, order.wh, f"customs:{order.id}")
            if fate[INVOICE] < invoice_block:
                world.open_case(
                    "invoice_block", order.value, order, order.wh, f"invoice:{order.id}"
                )
            arrive = now + fate[transit] * 1440.0
            order.delivered = arrive
            disputed = fate[POD] < pod
            if arrive > order.promise or disputed:
                if arrive > order.promise and watch_late:
                    env.timeout(max(0.0, order.promise - now), order).callbacks.append(self._late)
                env.timeout(arrive - now, (order, disputed)).callbacks.append(self._delivered)
            else:
                on_time += 1
                day = math.ceil((arrive + fate[PAYMENT] * 1440.0) / 1440.0)
                if day < 1:
                    day = 1
                bucket = payments.get(day)
                if bucket is None:
                    bucket = payments[day] = DueInvoices()
                bucket.new_customers.append(order.customer)
                bucket.new_amounts.append(order.value)
                if order.id in open_orders:  # (``pop(id, None)``: one C call compiled)
                    del open_orders[order.id]
        counts["on_time"] += on_time
        outcomes.count_shipped(n_shipped, partial, missed, unblocked)

    def _late(self, event) -> None:
        order: Order = event.value
        self.world.open_case(
            "delivery_delay",
            order.value,
            order,
            order.wh,
            f"delivery:{order.id}",
            trigger=order.promise,
        )

    def _delivered(self, event) -> None:
        order, disputed = event.value
        world = self.world
        world.clear(order.cases.get("delivery_delay"))
        if disputed:
            world.open_case("pod_dispute", order.value, order, order.wh, f"pod:{order.id}")
        self._settle_delivery(order, world.env.now)

    def _settle_delivery(self, order: Order, arrive: float) -> None:
        """Delivered at ``arrive``: outcome counted, invoice due after the payment terms."""
        self.world.outcomes.delivered(order)
        due = arrive + order.fate[PAYMENT] * 1440.0
        self.owe(due, order.customer, order.value)
        self.world.orders.pop(order.id, None)

    def owe(self, due: float, customer: int, amount: float) -> None:
        """``customer`` pays ``amount`` at ``due``: counted at the first daily settlement on or
        after it."""
        day = max(1, math.ceil(due / 1440.0))
        bucket = self.payments.get(day)
        if bucket is None:
            bucket = self.payments[day] = DueInvoices()
        bucket.new_customers.append(customer)
        bucket.new_amounts.append(amount)

    # -- finance -----------------------------------------------------------------------------
    def _settle(self) -> Generator[Any, Any, None]:
        """Daily: invoices paid today lower credit exposure; held orders may be released."""
        world, env = self.world, self.world.env
        customers = world.md.customers
        while True:
            yield env.timeout(1440.0)
            touched: set[int] = set()
            paid = self.payments.pop(round(env.now / 1440.0), None)
            if paid is not None:  # in the order they were owed: the same float sums
                due, amounts = paid.columns()
                for cid, value in zip(due, amounts, strict=True):
                    customers[cid].exposure -= value
                    touched.add(cid)
            for bucket in self.payments.values():  # what was owed today, kept unboxed
                bucket.compact()
            for cid in touched:
                held = self.credit_held.get(cid)
                customer = customers[cid]
                while held and customer.exposure <= customer.credit_limit:
                    order = held.pop(0)
                    if order.blocks & CREDIT:
                        order.blocks &= ~CREDIT
                        world.clear(order.cases.get("credit_hold"))
                        world.advance(order)

    # -- the desk acted ----------------------------------------------------------------------
    def resolved_order_case(self, order: Order, category: str, how: str) -> None:
        world = self.world
        if category == "master_data_gap":
            customer = world.md.customers[order.customer]
            customer.gaps.clear()  # the record is fixed for every later order
            for p, _ in order.lines:
                world.md.products[p].gaps.clear()
            order.blocks &= ~DATA
            world.advance(order)
        elif category == "credit_hold":
            if not order.blocks & CREDIT:
                return
            order.blocks &= ~CREDIT
            held = self.credit_held.get(order.customer)
            if held and order in held:
                held.remove(order)
            if how == "rejected":
                order.cancelled = True
                world.md.customers[order.customer].exposure -= order.value
                world.outcomes.cancelled(order)
            else:
                world.advance(order)
        elif category == "stock_shortage" and not order.reserved and not order.cancelled:
            # the planner ships what is there (from here or another warehouse): partial
            order.partial = True
            order.blocks &= ~STOCK
            order.waiting = NO_PRODUCTS
            order.reserved = True
            stock = world.stock
            shipped = []
            for p, q in order.lines:
                take = max(0.0, min(q, stock.available(order.wh, p)))
                shipped.append((p, take))
                stock.reserved[order.wh][p] += take
            order.lines = shipped
            world.advance(order)
        elif category == "carrier_failure" and order.blocks & CARRIER:
            # switch to the fallback carrier
            order.carrier = (order.carrier + 1) % len(self.carriers)
            self._label_again(order)
        elif category == "picking_sla" and order.picked is None:
            order.prio = 0  # jump the queue
            self.pickers[order.wh].push(order)
