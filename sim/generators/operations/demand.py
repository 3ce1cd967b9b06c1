"""Demand drawn in blocks: the content and the fate of many orders at once.

Order ids are handed out in arrival order, which no policy touches, so everything random about
order ``i`` is keyed by ``i`` (``keyed.py``) and drawn for :data:`~keyed.BLOCK` consecutive
orders at a time as numpy arrays: what it contains (lines, products, quantities, whether a
line is a promotion item), who orders it and from which warehouse, and its *fate* on the floor
(pick minutes; whether a unit goes missing when picked; carrier; whether the first label
request fails; customs, invoice and proof-of-delivery checks; transit per carrier; payment
terms). The world reads these when it gets there; an order's fate is the same under every
policy, only when (and whether) the order reaches each step can differ.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

from sim.generators.operations.keyed import BLOCK, Substreams, drawer

if TYPE_CHECKING:
    from sim.generators.operations.world import OperationsWorld

# positions in an order's fate tuple (``Final``: compiled, each is a constant, not a lookup)
PICK: Final = 0
SHRINK: Final = 1
SHRINK_LINE: Final = 2
CARRIER_CHOICE: Final = 3
LABEL: Final = 4
CUSTOMS: Final = 5
INVOICE: Final = 6
POD: Final = 7
PAYMENT: Final = 8
TRANSIT: Final = 9  # the first of one per carrier
_CHECKS: Final = 7  # uniforms SHRINK..POD


def product_cdf(p: np.ndarray) -> np.ndarray:
    """The cdf ``Generator.choice(n, size, p=p)`` computes on every call (numpy's own steps: the
    cumulative sum, divided by its last value), made once: a uniform placed on it with
    ``searchsorted(side="right")`` is the product ``choice`` would draw (a test)."""
    cdf = p.cumsum()
    cdf /= cdf[-1]
    return cdf


class OrderBlock:
    """Keyed draws for orders ``j * BLOCK`` to ``(j + 1) * BLOCK - 1``.

    Order ``base + i`` has customer ``customer[i]`` (an index of the master data), warehouse
    ``wh[i]`` (one of the customer's site) and floor fate ``fates[i]``. Outside promotions
    its order lines (one per product, drawn lines of the same product added up) are
    ``pairs[bounds[i]:bounds[i + 1]]`` (sliced when the order is confirmed) and its value
    ``value[i]``. During a promotion its drawn lines are
    ``starts[i]:starts[i + 1]`` of ``products``/``qty``/``promo_u``/``pool_u``
    (:meth:`drawn_lines`, made on first use: the last draws of the block's content stream).
    """

    __slots__ = (
        "base",
        "customer",
        "wh",
        "fates",
        "pairs",
        "bounds",
        "value",
        "_content",
        "_lines",
        "_drawn",
    )

    def __init__(
        self,
        base: int,
        customer: list[int],
        wh: list[int],
        fates: list[tuple[float, ...]],
        pairs: list[tuple[int, float]],
        bounds: list[int],
        value: list[float],
        content: np.random.Generator,
        lines: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> None:
        self.base = base
        self.customer = customer
        self.wh = wh
        self.fates = fates
        self.pairs = pairs
        self.bounds = bounds
        self.value = value
        self._content = content
        self._lines = lines  # (lines per order, products, quantities) as drawn
        self._drawn: tuple[list[int], list[int], list[float], list[float], list[float]] | None = (
            None
        )

    def columns(
        self,
    ) -> tuple[
        list[tuple[int, float]],
        list[int],
        list[float],
        list[int],
        list[int],
        list[tuple[float, ...]],
    ]:
        """(pairs, bounds, value, customer, wh, fates): what the arrival loop reads per order,
        taken into locals once per block."""
        return self.pairs, self.bounds, self.value, self.customer, self.wh, self.fates

    def drawn_lines(self) -> tuple[list[int], list[int], list[float], list[float], list[float]]:
        """(starts, products, qty, promo_u, pool_u) of the block's drawn lines."""
        if self._drawn is None:
            n, products, qty = self._lines
            total = len(products)
            self._drawn = (
                np.concatenate(([0], np.cumsum(n))).tolist(),
                products.tolist(),
                qty.tolist(),
                self._content.random(total).tolist(),
                self._content.random(total).tolist(),
            )
        return self._drawn


class OrderDraws:
    def __init__(self, world: OperationsWorld) -> None:
        ops = world.ops
        self.substream = Substreams(world.sim.streams)
        self.lines = drawer(ops.demand.lines)
        self.qty = drawer(ops.demand.quantity)
        self.pick = drawer(ops.warehouse.pick_min)
        self.payment = drawer(ops.finance.payment_days)
        self.transit = [(c.name, drawer(c.transit_days)) for c in ops.carriers]
        self.n_products = len(world.md.products)
        self.product_cdf = product_cdf(world.md.product_p)
        self.unit_value = np.array([p.value for p in world.md.products])
        self.n_customers = len(world.md.customers)
        # each customer's site, and per site its warehouses with their cumulative weights
        sites = list(world._site_wh)
        self.customer_site = np.array([sites.index(c.site) for c in world.md.customers])
        self.site_wh = [
            (np.array(idx), np.array(cum)) for idx, cum in (world._site_wh[s] for s in sites)
        ]

    def block(self, j: int) -> OrderBlock:
        def gen(purpose: str) -> np.random.Generator:
            return self.substream(f"orders/{purpose}", j)

        content = gen("content")
        n = np.maximum(1, np.rint(self.lines(content, BLOCK))).astype(np.int64)
        total = int(n.sum())
        products = self.product_cdf.searchsorted(content.random(total), side="right")
        qty = np.maximum(1.0, np.rint(self.qty(content, total)))
        # order lines: one per (order, product), sorted by product within the order
        raw = np.repeat(np.arange(BLOCK), n) * self.n_products + products
        key, inverse = np.unique(raw, return_inverse=True)
        summed = np.bincount(inverse, weights=qty)
        owner, product = np.divmod(key, self.n_products)
        value = np.bincount(owner, self.unit_value[product] * summed, BLOCK).tolist()
        bounds = np.searchsorted(owner, np.arange(BLOCK + 1)).tolist()
        pairs = list(zip(product.tolist(), summed.tolist(), strict=True))
        who = gen("customer").random((2, BLOCK))
        customer = (who[0] * self.n_customers).astype(np.int64)
        # the warehouse: by weight among the customer's site's (``bisect`` on the weights)
        wh = np.empty(BLOCK, dtype=np.int64)
        site = self.customer_site[customer]
        for k, (idx, cum) in enumerate(self.site_wh):
            here = site == k
            if len(idx) == 1:
                wh[here] = idx[0]
            else:
                wh[here] = idx[np.searchsorted(cum, who[1][here] * cum[-1], side="right")]
        checks = gen("checks").random((_CHECKS, BLOCK))
        columns = [
            self.pick(gen("pick"), BLOCK),
            *checks,
            self.payment(gen("payment"), BLOCK),
            *(draw(gen(f"transit/{name}"), BLOCK) for name, draw in self.transit),
        ]
        fates = list(zip(*(c.tolist() for c in columns), strict=True))
        return OrderBlock(
            j * BLOCK,
            customer.tolist(),
            wh.tolist(),
            fates,
            pairs,
            bounds,
            value,
            content,
            (n, products, qty),
        )
