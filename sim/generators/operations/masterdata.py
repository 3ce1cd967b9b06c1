"""Master data: the customers, products, suppliers and carriers of one distributor.

Made with Faker from a seed, so the same seed gives the same company. Each record carries what
the exceptions depend on: a customer's tier, credit limit and payment habits; a product's value,
weight and ABC class (A items are a fifth of the range and most of the lines); a supplier's
lead time and reliability. Some records are created with deliberate gaps (no address, no VAT
number, no route, no weight) at the scenario's rates; such a gap blocks a document later and
is an exception of its own until someone fixes the record.
"""

from __future__ import annotations

import itertools

import numpy as np
from faker import Faker

from sim.generators.distributions import block_drawer
from sim.scenarios.operations import Defects, MasterData
from sim.streams import Streams


class Customer:
    __slots__ = ("id", "name", "city", "tier", "credit_limit", "exposure", "gaps", "site")

    def __init__(self, id, name, city, tier, credit_limit, exposure, gaps, site):
        self.id, self.name, self.city, self.tier = id, name, city, tier
        self.credit_limit, self.exposure, self.gaps, self.site = credit_limit, exposure, gaps, site


class Product:
    __slots__ = ("id", "sku", "name", "value", "weight", "abc", "gaps", "supplier")

    def __init__(self, id, sku, name, value, weight, abc, gaps, supplier):
        self.id, self.sku, self.name, self.value = id, sku, name, value
        self.weight, self.abc, self.gaps, self.supplier = weight, abc, gaps, supplier


class MasterDataSet:
    """All master records, plus samplers for picking a customer or a product line."""

    def __init__(
        self,
        spec: MasterData,
        tiers: list[tuple[str, float]],
        sites: list[str],
        streams: Streams,
        defect_factor: float = 1.0,
    ) -> None:
        gen = streams.generator("masterdata")
        fake = Faker()
        fake.seed_instance(int(gen.integers(2**31)))
        self.spec = spec
        tier_names = [t for t, _ in tiers]
        tier_p = np.array([w for _, w in tiers], dtype=float)
        tier_p /= tier_p.sum()
        n_c, n_p = spec.customers, spec.products
        headroom = block_drawer(spec.credit_headroom, gen)(n_c)
        tier_idx = gen.choice(len(tier_names), size=n_c, p=tier_p)
        self.customers = [
            Customer(
                i,
                fake.company(),
                fake.city(),
                tier_names[tier_idx[i]],
                float(headroom[i]),
                0.0,
                self._gaps(gen, spec.defects, ("missing_address", "missing_vat"), defect_factor),
                sites[i % len(sites)],
            )
            for i in range(n_c)
        ]
        classes = list(spec.abc_shares)
        counts = _split(n_p, [spec.abc_shares[k] for k in classes])
        abc = list(
            itertools.chain.from_iterable([k] * n for k, n in zip(classes, counts, strict=True))
        )
        values = block_drawer(spec.unit_value, gen)(n_p)
        # supplier bases are skewed: a few suppliers carry most of the range (Zipf weights)
        zipf = 1.0 / np.arange(1, spec.suppliers + 1)
        supplier_of = gen.choice(spec.suppliers, size=n_p, p=zipf / zipf.sum())
        self.products = [
            Product(
                i,
                f"SKU-{i:05d}",
                fake.catch_phrase()[:40],
                float(values[i]),
                float(gen.gamma(2.0, 2.0)),
                abc[i],
                self._gaps(gen, spec.defects, ("missing_route", "missing_weight"), defect_factor),
                int(supplier_of[i]),
            )
            for i in range(n_p)
        ]
        # suppliers ranked by how many products they carry: supplier 0 is the biggest
        load = np.bincount([p.supplier for p in self.products], minlength=spec.suppliers)
        rank = {s: r for r, s in enumerate(np.argsort(-load, kind="stable"))}
        for p in self.products:
            p.supplier = int(rank[p.supplier])
        self.supplier_names = [fake.company() for _ in range(spec.suppliers)]
        self.any_product_gaps = any(p.gaps for p in self.products)  # a fast path when clean
        # demand weight of each product: its class's share of lines spread over the class
        weights = np.array(
            [spec.abc_demand[p.abc] / counts[classes.index(p.abc)] for p in self.products]
        )
        self.product_p = weights / weights.sum()
        self.by_class = {k: [p.id for p in self.products if p.abc == k] for k in classes}

    @staticmethod
    def _gaps(gen, defects: Defects, kinds: tuple[str, ...], factor: float) -> set[str]:
        return {k for k in kinds if gen.random() < min(1.0, getattr(defects, k) * factor)}


def _split(n: int, shares: list[float]) -> list[int]:
    total = sum(shares)
    counts = [int(round(n * s / total)) for s in shares]
    counts[-1] = max(0, n - sum(counts[:-1]))
    return counts
