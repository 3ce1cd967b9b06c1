"""The operations world: a distributor's daily work, from which exceptions emerge.

Orders arrive and pass three gates at confirmation: master data (a customer without address or
VAT, a product without route or weight blocks the document), credit (exposure over the limit
puts the order on hold) and stock (lines not available wait for a receipt). Ready orders are
picked on shift, labelled (the carrier API can fail, in bursts during outages), shipped at the
carrier's cutoff and delivered after transit, maybe late against the promise, maybe disputed.
Behind them, replenishment reviews raise purchase orders whose receipts come late, partial, or
fail inspection, and cycle counts find the stock that went missing.

Every exception is opened by ``Simulation.occur`` from the state that causes it, with the cause
in ``detail`` and the case that caused it in ``parent_case_id`` (a shortage waiting on a late
receipt). When the desk resolves a case, :meth:`OperationsWorld.resolved` acts in the world
(releases the order, expedites the receipt, fixes the record); when the condition goes away by
itself (the receipt arrives), the world clears the case. This module holds the shared state and
the order flow; ``supply.py`` and ``floor.py`` hold the inbound and outbound sides.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from datetime import date
from typing import TYPE_CHECKING, Any

from sim.case import Case
from sim.generators.arrivals import ArrivalClock
from sim.generators.distributions import block_drawer
from sim.generators.operations.demand import OrderBlock, OrderDraws
from sim.generators.operations.floor import Floor
from sim.generators.operations.keyed import BLOCK, Keyed, one
from sim.generators.operations.masterdata import Customer, MasterDataSet
from sim.generators.operations.outcomes import Outcomes
from sim.generators.operations.state import CREDIT, DATA, STOCK, Order, Stock
from sim.generators.operations.supply import Supply
from sim.scenarios.operations import Operations

if TYPE_CHECKING:
    from sim.engine import Simulation


def operations_world(sim: Simulation) -> None:
    """Build the world and every detector of the policy before the first event runs.

    Detectors are built up front, not at a category's first case: the one time-rule job of
    a policy (Odoo's "check and execute" cron) takes its interval from *all* its time rules,
    as Odoo's does, not from those whose category happened to occur before it first ran.
    """
    world = OperationsWorld(sim)
    sim.world = world  # for inspection (tests, notebooks)
    for category in sim.scenario.categories:
        sim.watchers(category)
    world.start()


class OperationsWorld:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        scenario = sim.scenario
        assert scenario.operations is not None, "an operations world needs an operations scenario"
        self.ops: Operations = scenario.operations
        streams = sim.streams
        self.env = sim.env
        self.warehouses = [w.name for w in scenario.warehouses]
        self.sites = [w.site for w in scenario.warehouses]
        md = self.ops.master_data
        wave = md.defect_wave
        self.md = MasterDataSet(md, scenario.tiers(), sorted(set(self.sites)), streams)
        self.defect_wave = wave
        self.stock = Stock(len(self.warehouses), md.products)
        self.keyed = Keyed(streams)
        self.promise_min = {
            tier: days * 1440.0 for tier, days in self.ops.demand.promise_days.items()
        }
        self._pools: dict[tuple[str, ...], list[int]] = {}  # promoted products by classes
        #: work content per category, drawn per case keyed by (cause, time)
        self.handling = {name: one(cat.handling_min) for name, cat in scenario.categories.items()}
        self.orders: dict[int, Order] = {}  # open orders (not yet delivered)
        self._site_wh: dict[str, tuple[list[int], list[float]]] = {}
        for i, w in enumerate(scenario.warehouses):
            idx, cum = self._site_wh.setdefault(w.site, ([], []))
            idx.append(i)
            cum.append((cum[-1] if cum else 0.0) + w.weight)
        self.wh_share = self._warehouse_shares()
        self.outcomes = Outcomes(self)
        self.supply = Supply(self)
        self.floor = Floor(self)
        self._open_credit(streams)
        sim.on_resolved = self.resolved

    def _open_credit(self, streams) -> None:
        """Credit limits from each customer's usual balance, and the opening balances."""
        ops = self.ops
        demand, fin = ops.demand, ops.finance
        md = self.md
        mean_value = sum(p.value * w for p, w in zip(md.products, md.product_p, strict=True))
        daily = (
            demand.orders_per_day
            / len(md.customers)
            * demand.lines.mean
            * demand.quantity.mean
            * mean_value
        )
        usual = daily * (fin.payment_days.mean + 2.0)
        opening = block_drawer(fin.opening_balance, streams.generator("finance/opening"))(
            len(md.customers)
        )
        due = streams.generator("finance/opening-due").uniform(
            0, fin.payment_days.mean * 1440.0 * 1.2, (len(md.customers), 10)
        )
        owe = self.floor.owe
        for c, share, dues in zip(md.customers, opening.tolist(), due.tolist(), strict=True):
            c.credit_limit = c.credit_limit * usual  # headroom x usual balance
            c.exposure = share * usual
            tenth = c.exposure / 10
            for d in dues:  # the opening balance falls due over the first terms
                owe(d, c.id, tenth)

    # -- helpers ---------------------------------------------------------------------------
    def wants(self, category: str) -> bool:
        return category in self.handling

    def open_case(
        self,
        category: str,
        value: float,
        order: Order | None,
        wh: int,
        cause: str,
        trigger: float | None = None,
        parent: Case | None = None,
        ref: object = None,
        tier: str | None = None,
    ) -> Case | None:
        """Open an exception of ``category`` now, caused by ``cause`` (a record reference)."""
        if category not in self.handling:
            return None
        if order is not None and tier is None:
            tier = self.md.customers[order.customer].tier
        now = self.env.now
        work = self.handling[category](self.keyed(f"handling/{category}", cause, repr(now)))
        case = self.sim.occur(
            category,
            now,
            work,
            value,
            tier,
            self.warehouses[wh],
            self.sites[wh],
            trigger,
            None,
            parent,
            cause,
        )
        case.ref = ref if ref is not None else order
        if order is not None:
            order.add_case(category, case)
        return case

    def clear(self, case: Case | None) -> None:
        if case is not None and not case.resolved:
            self.sim.clear(case)

    def _warehouse_shares(self) -> list[float]:
        """Share of all orders each warehouse serves."""
        sites = sorted(set(self.sites))
        shares = [0.0] * len(self.warehouses)
        for site in sites:
            idx, cum = self._site_wh[site]
            for k, i in enumerate(idx):
                w = cum[k] - (cum[k - 1] if k else 0.0)
                shares[i] += w / cum[-1] / len(sites)
        return shares

    # -- demand ----------------------------------------------------------------------------
    def start(self) -> None:
        self.supply.start()
        self.floor.start()
        self.outcomes.start()
        self.env.process(self._orders())
        if self.defect_wave is not None:
            self.env.process(self._migration(self.defect_wave))

    def _migration(self, wave: Any) -> Generator[Any, Any, None]:
        """A data migration goes live: records come over with gaps at ``factor`` x the rate."""
        yield self.env.timeout(wave.from_day * 1440.0)
        gen = self.sim.streams.generator("masterdata/migration")
        defects = self.ops.master_data.defects
        extra = wave.factor - 1.0
        for records, kinds in (
            (self.md.customers, ("missing_address", "missing_vat")),
            (self.md.products, ("missing_route", "missing_weight")),
        ):
            for record in records:
                for kind in kinds:
                    if gen.random() < min(1.0, getattr(defects, kind) * extra):
                        record.gaps.add(kind)
        self.md.any_product_gaps = any(p.gaps for p in self.md.products)

    def _orders(self) -> Generator[Any, Any, None]:
        env, sim, demand = self.env, self.sim, self.ops.demand
        scenario = sim.scenario
        peak_max = 1.0 + sum(p.factor - 1.0 for p in demand.peaks if p.factor > 1.0)
        month_end = self.ops.finance
        boost = max(1.0, month_end.month_end_factor) if month_end.month_end_days else 1.0
        clock = ArrivalClock(
            demand.orders_per_day / 24.0 * peak_max * boost,
            scenario.profiles.get(demand.profile) if demand.profile else None,
            scenario.start,
            sim.streams.stream("operations/orders").exponential,
        )
        accept = sim.streams.stream("operations/orders-thinning")
        draws = OrderDraws(self)
        block = draws.block(0)
        pairs, bounds, values, customer_of, wh_of, fates = block.columns()
        customers = self.md.customers
        queue = env._queue  # SimPy's event heap: what is due next (``env.peek()``, inlined)
        steady = not demand.peaks and not month_end.month_end_days  # every arrival an order
        factor: float = 1.0
        promo: tuple[float, list[int]] | None = None
        next_id, base = 0, 0
        t = clock.next_after(0.0)
        horizon = sim.horizon
        while t < horizon:
            if not steady:
                factor, promo = self._demand_factor(t)
            if steady or accept.random() * peak_max * boost < factor:
                if not queue or t < queue[0][0]:
                    # nothing else is due before this order: advance the clock to it, as
                    # stepping a timeout would, without creating and scheduling one
                    env._now = t
                else:
                    yield env.timeout(t - env.now)
                i = next_id - base
                if i >= BLOCK:
                    block = draws.block(next_id // BLOCK)
                    base, i = block.base, 0
                    pairs, bounds, values, customer_of, wh_of, fates = block.columns()
                if promo is None:
                    lines, value = pairs[bounds[i] : bounds[i + 1]], values[i]
                else:
                    lines, value = self._promo_lines(block, i, promo)
                self.confirm(
                    next_id, t, customers[customer_of[i]], wh_of[i], lines, value, fates[i]
                )
                next_id += 1
            t = clock.next_after(t)

    def _promo_lines(
        self, block: OrderBlock, i: int, promo: tuple[float, list[int]]
    ) -> tuple[list[tuple[int, float]], float]:
        """Order ``i``'s lines during a promotion (a share of them from the promoted pool)."""
        share, pool = promo
        lines: dict[int, float] = {}  # one line per product
        starts, products, qty, promo_u, pool_u = block.drawn_lines()
        for k in range(starts[i], starts[i + 1]):
            promoted = promo_u[k] < share
            p = pool[int(pool_u[k] * len(pool))] if promoted else products[k]
            lines[p] = lines.get(p, 0.0) + qty[k]
        records = self.md.products
        value = sum(records[p].value * q for p, q in lines.items())
        return list(lines.items()), value

    def _demand_factor(self, t: float) -> tuple[float, tuple[float, list[int]] | None]:
        """Demand multiplier at ``t`` and, during a promotion, (share of promo lines, pool)."""
        day = t / 1440.0
        factor, promo_extra, pool = 1.0, 0.0, []
        for peak in self.ops.demand.peaks:
            if peak.from_day <= day < peak.from_day + peak.days:
                factor += peak.factor - 1.0
                if peak.abc:
                    promo_extra += peak.factor - 1.0
                    pool = self._pool(tuple(peak.abc))
        fin = self.ops.finance
        if fin.month_end_days:
            start = self.sim.scenario.start
            when = start.toordinal() + (start.hour * 60 + start.minute + t) / 1440.0
            d = _days_to_month_end(when)
            if d < fin.month_end_days:
                factor *= fin.month_end_factor
        promo = (promo_extra / factor, pool) if promo_extra and pool else None
        return factor, promo

    def _pool(self, classes: tuple[str, ...]) -> list[int]:
        pool = self._pools.get(classes)
        if pool is None:
            pool = self._pools[classes] = [p for k in classes for p in self.md.by_class[k]]
        return pool

    def confirm(
        self,
        oid: int,
        t: float,
        customer: Customer,
        wh: int,
        lines: list[tuple[int, float]],
        value: float,
        fate: tuple[float, ...],
    ) -> None:
        md, floor = self.md, self.floor
        promise = t + self.promise_min.get(customer.tier, 2880.0)
        lo, hi = floor._span  # the pickers' duty span last looked up (``Floor.schedule``)
        scheduled = t if lo <= t < hi else floor.schedule(t)
        order = Order(oid, t, customer.id, wh, lines, value, promise, scheduled, fate)
        self.orders[oid] = order
        self.outcomes.counts["orders"] += 1
        gaps = customer.gaps
        if md.any_product_gaps:
            products = md.products
            for p, _ in lines:
                if products[p].gaps:
                    gaps = gaps | products[p].gaps
        if gaps and "master_data_gap" in self.handling:
            order.blocks |= DATA
            self.open_case(
                "master_data_gap", value, order, wh, f"order:{oid}:{'+'.join(sorted(gaps))}"
            )
        if customer.exposure + value > customer.credit_limit and "credit_hold" in self.handling:
            order.blocks |= CREDIT
            self.open_case("credit_hold", value, order, wh, f"order:{oid}:customer:{customer.id}")
            self.floor.credit_held.setdefault(customer.id, []).append(order)
        customer.exposure += value
        # ``advance`` for a new order (nothing reserved, no case yet), inlined: the bulk. An
        # order a picker starts at once is not reserved first: its goods leave right away.
        if order.blocks:
            self.outcomes.blocked(order, True)
        elif self.stock.covers(order):
            pickers = self.floor.pickers[wh]
            if pickers.starts_now():
                order.ready = t
                pickers.start_now(order)
            else:
                self.stock.book(order)
                self.floor.ready(order)
        else:
            self.supply.shortage(order)
            self.outcomes.blocked(order, True)

    def advance(self, order: Order) -> None:
        """Move an order as far as its blocks allow: reserve stock, then release to picking."""
        if order.cancelled or order.picked is not None:
            return
        blocks = order.blocks
        if blocks and blocks != STOCK:
            self.outcomes.blocked(order, True)
            return
        if not order.reserved:
            if self.stock.reserve(order):
                order.blocks &= ~STOCK
                self.clear(order.cases.get("stock_shortage"))
            else:
                self.supply.shortage(order)
                self.outcomes.blocked(order, True)
                return
        if order.id in self.outcomes.blocked_ids:
            self.outcomes.blocked(order, False)
        if order.ready is None:
            self.floor.ready(order)

    # -- the desk acted ----------------------------------------------------------------------
    def resolved(self, case: Case, how: str) -> None:
        """The exception desk resolved ``case``: do in the world what resolving it means."""
        ref = getattr(case, "ref", None)
        # The order holds its cases (Order.cases) and the case its order: a cycle that only a
        # full collection would free, so the garbage of a long run grew with the horizon
        # between full collections. The engine resolves a case once; nothing reads ref after.
        case.ref = None
        category = case.category
        if category in (
            "master_data_gap",
            "credit_hold",
            "stock_shortage",
            "carrier_failure",
            "picking_sla",
        ) and isinstance(ref, Order):
            self.floor.resolved_order_case(ref, category, how)
        else:
            self.supply.resolved(case, ref, how)


def _days_to_month_end(ordinal_day: float) -> float:
    d = date.fromordinal(int(math.floor(ordinal_day)))
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt.toordinal() - ordinal_day
