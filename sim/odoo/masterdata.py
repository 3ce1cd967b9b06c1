"""The scenario's master data at load-test scale: customers, products, suppliers, carriers,
warehouses -- generated, then written in batches.

A distributor's exceptions happen *to* master data: a credit hold needs customers with tiers
and limits, a shortage needs products with and without stock, a master-data gap needs the
odd customer without an address and the odd product without a weight or route. ``plan``
generates that world from the scenario and a seed (Faker for names and addresses, one
``random.Random`` for the rest, so the same seed gives the same records):

- customers, each of a tier drawn from the scenario's ``tier_mix``, with a credit limit by
  tier (strategic 250k, key 50k, standard 10k, spread lognormally) and a full address --
  except a deliberate share (``gap_share``) left without street and city;
- products in ABC classes (A 20 % of items, B 30 %, C 50 %): A items light and dear, C
  items heavy and cheap; stocked ones get stock on hand in the main warehouse (a tenth get
  none: shortages waiting to happen), class A ones the "Buy" route when the database has
  it; a deliberate share has no weight and no route;
- suppliers and carriers (carriers are partners: Community has no carrier integration);
- the scenario's warehouses: the first is the database's main warehouse, each further one is
  created (name and a short code).

``ensure`` writes what is missing, ``BATCH`` records per call, each record tagged with an
external id ``exsim.seed_<kind>_<n>`` (and partners with ``ref`` = ``exsim/seed/...``), so
a second run creates nothing and ``cleanup`` finds everything. Fields this Odoo version
lacks are left out rather than sent (``fields_get``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim.odoo.capabilities import detect
from sim.odoo.transport import Transport
from sim.scenarios.schema import TIERS, Scenario

MODULE = "exsim"
BATCH = 500
ABC = (("A", 0.2), ("B", 0.3), ("C", 0.5))
CREDIT_LIMIT = {"strategic": 250_000.0, "key": 50_000.0, "standard": 10_000.0}
WEIGHT_KG = {"A": 1.5, "B": 6.0, "C": 20.0}  # median item weight per class
PRICE = {"A": 450.0, "B": 120.0, "C": 30.0}  # median list price per class
ON_HAND = {"A": 400.0, "B": 150.0, "C": 60.0}
COUNTRIES = ("BE", "FR", "DE", "NL", "US")


@dataclass(frozen=True)
class SeedSize:
    """How much master data to make (``exsim odoo seed --customers N ...``)."""

    customers: int = 200
    products: int = 300
    suppliers: int = 20
    carriers: int = 5
    gap_share: float = 0.05  # share of customers/products left with a master-data gap
    no_stock_share: float = 0.1  # share of products with nothing on hand
    seed: int = 0

    def total(self) -> int:
        return self.customers + self.products + self.suppliers + self.carriers


@dataclass
class Planned:
    """One record to have: its external-id name, model and values."""

    name: str
    model: str
    vals: dict[str, Any]
    on_hand: float = 0.0  # products: stock to put in the main warehouse
    tier: str = ""  # customers
    abc: str = ""  # products
    gap: bool = False


@dataclass
class Seeded:
    """Ids of the seeded master data, grouped as inject and load tests need them."""

    customers: dict[str, list[int]] = field(default_factory=dict)  # tier -> partner ids
    products: dict[str, list[int]] = field(default_factory=dict)  # ABC class -> product ids
    suppliers: list[int] = field(default_factory=list)
    carriers: list[int] = field(default_factory=list)
    warehouses: dict[str, int] = field(default_factory=dict)  # scenario name -> warehouse id
    gaps: dict[str, int] = field(default_factory=dict)  # "customers"/"products" -> count
    created: int = 0


def _lognormal(rng: random.Random, median: float, sigma: float = 0.35) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def _pick(rng: random.Random, weights: list[tuple[str, float]]) -> str:
    total = sum(w for _, w in weights)
    x, acc = rng.random() * total, 0.0
    for name, w in weights:
        acc += w
        if x < acc:
            return name
    return weights[-1][0]


def plan(scenario: Scenario, size: SeedSize) -> list[Planned]:
    """The master data for ``scenario`` (deterministic in ``size.seed``)."""
    from faker import Faker

    fake = Faker(["en_US"])
    fake.seed_instance(size.seed)
    rng = random.Random(f"exsim-masterdata-{size.seed}")
    out: list[Planned] = []
    tiers = [(t, w) for t, w in scenario.tiers() if w > 0] or [("standard", 1.0)]
    for i in range(1, size.customers + 1):
        tier = _pick(rng, tiers)
        gap = rng.random() < size.gap_share
        vals = {
            "name": fake.unique.company(),
            "is_company": True,
            "customer_rank": 1,
            "ref": f"exsim/seed/{tier}/{i:05d}",
            "credit_limit": round(_lognormal(rng, CREDIT_LIMIT[tier]), -2),
            "use_partner_credit_limit": True,
            "email": fake.company_email(),
            "phone": fake.phone_number(),
            "vat": f"BE0{rng.randrange(10**8, 10**9)}",
            "country_code": rng.choice(COUNTRIES),
        }
        if not gap:
            vals.update(street=fake.street_address(), city=fake.city(), zip=fake.postcode())
        out.append(Planned(f"seed_customer_{i:05d}", "res.partner", vals, tier=tier, gap=gap))
    for i in range(1, size.suppliers + 1):
        vals = {
            "name": f"{fake.unique.company()} Supply",
            "is_company": True,
            "supplier_rank": 1,
            "ref": f"exsim/seed/supplier/{i:05d}",
            "street": fake.street_address(),
            "city": fake.city(),
            "zip": fake.postcode(),
            "country_code": rng.choice(COUNTRIES),
        }
        out.append(Planned(f"seed_supplier_{i:05d}", "res.partner", vals))
    for i in range(1, size.carriers + 1):
        vals = {
            "name": f"{fake.unique.last_name()} Freight",
            "is_company": True,
            "ref": f"exsim/seed/carrier/{i:05d}",
            "street": fake.street_address(),
            "city": fake.city(),
            "country_code": rng.choice(COUNTRIES),
        }
        out.append(Planned(f"seed_carrier_{i:05d}", "res.partner", vals))
    for i in range(1, size.products + 1):
        abc = _pick(rng, list(ABC))
        gap = rng.random() < size.gap_share
        price = round(_lognormal(rng, PRICE[abc], 0.5), 2)
        vals = {
            "name": f"{fake.word().title()} {fake.word()} {abc}{i:05d}",
            "default_code": f"EXSIM-{abc}-{i:05d}",
            "list_price": price,
            "standard_price": round(price * 0.6, 2),
            "weight": 0.0 if gap else round(_lognormal(rng, WEIGHT_KG[abc]), 3),
            "volume": 0.0 if gap else round(_lognormal(rng, WEIGHT_KG[abc] / 200), 4),
            "sale_ok": True,
            "purchase_ok": True,
            "buy_route": abc == "A" and not gap,
        }
        on_hand = 0.0 if rng.random() < size.no_stock_share else round(ON_HAND[abc])
        out.append(
            Planned(
                f"seed_product_{i:05d}",
                "product.product",
                vals,
                on_hand=on_hand,
                abc=abc,
                gap=gap,
            )
        )
    return out


def _code(name: str, taken: set[str]) -> str:
    """A warehouse short name (Odoo: at most 5 characters, unique)."""
    base = "".join(c for c in name.upper() if c.isalnum())[:5] or "WH"
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base[:4]}{n}"
    taken.add(code)
    return code


class MasterDataWriter:
    """Writes planned master data that is missing, in batches, tagging every record."""

    def __init__(self, transport: Transport, progress: Callable[[int], None] | None = None):
        self.t = transport
        self.progress = progress or (lambda n: None)
        self._fields: dict[str, set[str]] = {}

    def fields(self, model: str) -> set[str]:
        if model not in self._fields:
            self._fields[model] = set(self.t.call(model, "fields_get", attributes=["type"]))
        return self._fields[model]

    def existing(self, model: str, prefix: str) -> dict[str, int]:
        rows = self.t.call(
            "ir.model.data",
            "search_read",
            [["module", "=", MODULE], ["model", "=", model], ["name", "=like", f"{prefix}%"]],
            fields=["name", "res_id"],
        )
        return {r["name"]: r["res_id"] for r in rows}

    def create(self, model: str, todo: list[tuple[str, dict]]) -> dict[str, int]:
        """Create ``todo`` (name, vals) in batches, tagging each batch in one more call."""
        made: dict[str, int] = {}
        for start in range(0, len(todo), BATCH):
            chunk = todo[start : start + BATCH]
            ids = self.t.call(model, "create", [vals for _, vals in chunk])
            ids = ids if isinstance(ids, list) else [ids]
            self.t.call(
                "ir.model.data",
                "create",
                [
                    {"module": MODULE, "name": n, "model": model, "res_id": i, "noupdate": True}
                    for (n, _), i in zip(chunk, ids, strict=True)
                ],
            )
            made.update(zip((n for n, _ in chunk), ids, strict=True))
            self.progress(len(chunk))
        return made


def ensure(
    transport: Transport,
    scenario: Scenario,
    size: SeedSize,
    stock_location: int,
    progress: Callable[[int], None] | None = None,
) -> Seeded:
    """Write the planned master data that is missing; return the ids of all of it."""
    w = MasterDataWriter(transport, progress)
    out = Seeded()
    planned = plan(scenario, size)
    countries = {
        r["code"]: r["id"]
        for r in transport.call(
            "res.country", "search_read", [["code", "in", list(COUNTRIES)]], fields=["code"]
        )
    }
    buy = transport.call(
        "ir.model.data",
        "search_read",
        [["module", "=", "purchase_stock"], ["name", "=", "route_warehouse0_buy"]],
        fields=["res_id"],
    )
    product_fields = w.fields("product.product")
    partner_fields = w.fields("res.partner")
    storable = detect(transport).storable_product()

    def partner_vals(vals: dict) -> dict:
        vals = dict(vals)
        code = vals.pop("country_code", None)
        if code in countries:
            vals["country_id"] = countries[code]
        return {k: v for k, v in vals.items() if k in partner_fields}

    def product_vals(vals: dict) -> dict:
        vals = dict(vals)
        if vals.pop("buy_route") and buy and "route_ids" in product_fields:
            vals["route_ids"] = [(6, 0, [buy[0]["res_id"]])]
        vals.update(storable)
        return {k: v for k, v in vals.items() if k in product_fields}

    ids: dict[str, int] = {}
    for model, prefix, convert in (
        ("res.partner", "seed_", partner_vals),
        ("product.product", "seed_product_", product_vals),
    ):
        have = w.existing(model, prefix)
        todo = [(p.name, convert(p.vals)) for p in planned if p.model == model]
        missing = [(n, v) for n, v in todo if n not in have]
        w.progress(len(todo) - len(missing))
        have.update(w.create(model, missing))
        out.created += len(missing)
        ids.update(have)
    for p in planned:
        rid = ids[p.name]
        if p.name.startswith("seed_customer_"):
            out.customers.setdefault(p.tier, []).append(rid)
        elif p.name.startswith("seed_supplier_"):
            out.suppliers.append(rid)
        elif p.name.startswith("seed_carrier_"):
            out.carriers.append(rid)
        else:
            out.products.setdefault(p.abc, []).append(rid)
    out.gaps = {
        "customers": sum(p.gap for p in planned if p.name.startswith("seed_customer_")),
        "products": sum(p.gap for p in planned if p.model == "product.product"),
    }
    _stock(transport, [(ids[p.name], p.on_hand) for p in planned if p.on_hand > 0], stock_location)
    out.warehouses, made = _warehouses(transport, w, scenario)
    out.created += made
    return out


def _stock(transport: Transport, wanted: list[tuple[int, float]], location: int) -> None:
    """Put stock on hand for products that have no quant in ``location`` yet (batched)."""
    for start in range(0, len(wanted), BATCH):
        chunk = dict(wanted[start : start + BATCH])
        quants = transport.call(
            "stock.quant",
            "search_read",
            [["product_id", "in", list(chunk)], ["location_id", "=", location]],
            fields=["product_id"],
        )
        have = {q["product_id"][0] for q in quants}
        todo = [(pid, qty) for pid, qty in chunk.items() if pid not in have]
        if not todo:
            continue
        created = transport.call(
            "stock.quant",
            "create",
            [
                {"product_id": pid, "location_id": location, "inventory_quantity": qty}
                for pid, qty in todo
            ],
            context={"inventory_mode": True},
        )
        transport.call("stock.quant", "action_apply_inventory", created)


def _warehouses(
    transport: Transport, w: MasterDataWriter, scenario: Scenario
) -> tuple[dict[str, int], int]:
    """Scenario warehouse -> Odoo warehouse (the first is the main one, the others made), and
    how many were made now. A warehouse exsim made earlier is found by its name ("exsim
    <name>", archived by cleanup) and taken back rather than made twice (Odoo wants warehouse
    names unique per company)."""
    rows = transport.call(
        "stock.warehouse",
        "search_read",
        [],
        fields=["code", "name", "active"],
        order="id",
        context=ALL,
    )
    main = next(r for r in rows if r["active"])
    out = {scenario.warehouses[0].name: main["id"]}
    extra = scenario.warehouses[1:]
    if not extra:
        return out, 0
    have = w.existing("stock.warehouse", "seed_warehouse_")
    by_name = {r["name"]: r for r in rows}
    taken = {r["code"] for r in rows}
    todo, adopted = [], {}
    for wh in extra:
        key, name = f"seed_warehouse_{wh.site}", f"exsim {wh.name}"
        if key in have:
            continue
        if name in by_name:
            adopted[key] = by_name[name]["id"]
        else:
            todo.append((key, {"name": name, "code": _code(wh.name, taken)}))
    if adopted:
        archived = [
            i for i in adopted.values() if not next(r for r in rows if r["id"] == i)["active"]
        ]
        if archived:
            transport.call("stock.warehouse", "write", archived, {"active": True})
        transport.call(
            "ir.model.data",
            "create",
            [
                {"module": MODULE, "name": k, "model": "stock.warehouse", "res_id": i}
                for k, i in adopted.items()
            ],
        )
        have.update(adopted)
    have.update(w.create("stock.warehouse", todo))
    out.update({wh.name: have[f"seed_warehouse_{wh.site}"] for wh in extra})
    return out, len(todo)


ALL = {"active_test": False}
__all__ = ["TIERS", "SeedSize", "Seeded", "ensure", "plan"]
