"""Master data: the customers, products, suppliers and carriers of one distributor.

Made from a seed, so the same seed gives the same company. Each record carries what the
exceptions depend on: a customer's tier, credit limit and payment habits; a product's value,
weight and ABC class (A items are a fifth of the range and most of the lines); a supplier's
lead time and reliability. Some records are created with deliberate gaps (no address, no VAT
number, no route, no weight) at the scenario's rates; such a gap blocks a document later and
is an exception of its own until someone fixes the record.

Names (company, city, product description) come from Faker, but only when read: the simulation
never needs them, so each is made on first access from Faker seeded by the record, the same
name for the same seed whenever it is read.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from sim.generators.distributions import block_drawer
from sim.scenarios.operations import Defects, MasterData
from sim.streams import Streams


class Names:
    """Faker names of one master-data set, made on first read and kept."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.made: dict[tuple[str, int], str] = {}
        self._fake: Any = None  # a Faker, made at the first name read

    def get(self, kind: str, i: int) -> str:
        name = self.made.get((kind, i))
        if name is None:
            if self._fake is None:
                from faker import Faker  # imported when a name is first read

                self._fake = Faker()
            fake = self._fake
            fake.seed_instance(f"{self.seed}:{kind}:{i}")
            name = {
                "company": fake.company,
                "city": fake.city,
                "product": lambda: fake.catch_phrase()[:40],
                "supplier": fake.company,
            }[kind]()
            self.made[(kind, i)] = name
        return name


class SupplierNames(Sequence):
    def __init__(self, names: Names, n: int) -> None:
        self.names, self.n = names, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self.n))]
        if not -self.n <= i < self.n:
            raise IndexError(i)
        return self.names.get("supplier", i % self.n)


class Customer:
    __slots__ = ("id", "names", "tier", "credit_limit", "exposure", "gaps", "site")

    def __init__(
        self,
        id: int,
        names: Names,
        tier: str,
        credit_limit: float,
        exposure: float,
        gaps: set[str],
        site: str,
    ) -> None:
        self.id = id
        self.names = names
        self.tier = tier
        self.credit_limit = credit_limit
        self.exposure = exposure  # open receivables: confirmed orders not yet paid
        self.gaps = gaps
        self.site = site

    @property
    def name(self) -> str:
        return self.names.get("company", self.id)

    @property
    def city(self) -> str:
        return self.names.get("city", self.id)


class Product:
    __slots__ = ("id", "names", "value", "weight", "abc", "gaps", "supplier")

    def __init__(
        self,
        id: int,
        names: Names,
        value: float,
        weight: float,
        abc: str,
        gaps: set[str],
        supplier: int,
    ) -> None:
        self.id = id
        self.names = names
        self.value = value
        self.weight = weight
        self.abc = abc
        self.gaps = gaps
        self.supplier = supplier

    @property
    def sku(self) -> str:
        return f"SKU-{self.id:05d}"

    @property
    def name(self) -> str:
        return self.names.get("product", self.id)


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
        names = Names(int(gen.integers(2**31)))
        self.spec = spec
        tier_names = [t for t, _ in tiers]
        tier_p = np.array([w for _, w in tiers], dtype=float)
        tier_p /= tier_p.sum()
        n_c, n_p = spec.customers, spec.products
        headroom = block_drawer(spec.credit_headroom, gen)(n_c).tolist()
        tier_idx = gen.choice(len(tier_names), size=n_c, p=tier_p).tolist()
        gaps = _gaps(gen, n_c, spec.defects, ("missing_address", "missing_vat"), defect_factor)
        self.customers = [
            Customer(
                i, names, tier_names[tier_idx[i]], headroom[i], 0.0, gaps[i], sites[i % len(sites)]
            )
            for i in range(n_c)
        ]
        classes = list(spec.abc_shares)
        counts = _split(n_p, [spec.abc_shares[k] for k in classes])
        abc = list(
            itertools.chain.from_iterable([k] * n for k, n in zip(classes, counts, strict=True))
        )
        values = block_drawer(spec.unit_value, gen)(n_p).tolist()
        # supplier bases are skewed: a few suppliers carry most of the range (Zipf weights)
        zipf = 1.0 / np.arange(1, spec.suppliers + 1)
        supplier_of = gen.choice(spec.suppliers, size=n_p, p=zipf / zipf.sum())
        weight = gen.gamma(2.0, 2.0, n_p).tolist()
        gaps = _gaps(gen, n_p, spec.defects, ("missing_route", "missing_weight"), defect_factor)
        # suppliers ranked by how many products they carry: supplier 0 is the biggest
        load = np.bincount(supplier_of, minlength=spec.suppliers)
        rank = np.empty(spec.suppliers, dtype=np.int64)
        rank[np.argsort(-load, kind="stable")] = np.arange(spec.suppliers)
        supplier = rank[supplier_of].tolist()
        self.products = [
            Product(i, names, values[i], weight[i], abc[i], gaps[i], supplier[i])
            for i in range(n_p)
        ]
        self.supplier_names = SupplierNames(names, spec.suppliers)
        self.any_product_gaps = any(p.gaps for p in self.products)  # a fast path when clean
        # demand weight of each product: its class's share of lines spread over the class
        weights = np.array(
            [spec.abc_demand[p.abc] / counts[classes.index(p.abc)] for p in self.products]
        )
        self.product_p = weights / weights.sum()
        self.by_class = {k: [p.id for p in self.products if p.abc == k] for k in classes}


def _gaps(
    gen: np.random.Generator, n: int, defects: Defects, kinds: tuple[str, ...], factor: float
) -> list[set[str]]:
    """Each of ``n`` records' gaps: each kind independently at its (scaled) rate."""
    u = gen.random((len(kinds), n))
    out: list[set[str]] = [set() for _ in range(n)]
    for row, kind in zip(u, kinds, strict=True):
        for i in np.flatnonzero(row < min(1.0, getattr(defects, kind) * factor)).tolist():
            out[i].add(kind)
    return out


def _split(n: int, shares: list[float]) -> list[int]:
    total = sum(shares)
    counts = [int(round(n * s / total)) for s in shares]
    counts[-1] = max(0, n - sum(counts[:-1]))
    return counts
