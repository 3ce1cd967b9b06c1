"""Master data for a scenario: the customers, suppliers, carriers and products cases refer to.

Everything is created under external ids of the module ``exsim`` (``exsim.partner_key``,
``exsim.product_stocked``...), looked up through ``ir.model.data`` (odoorpc's ``env.ref``
fails on real Odoo 17 servers for some records), so seeding is idempotent: a second run finds
every id and creates nothing. One customer per tier with a generous credit limit, one
customer with a tiny limit (credit holds), a supplier, a carrier (as a partner), a stocked
product with plenty on hand in the main warehouse and a product with none (shortages).
``inject`` maps scenario warehouses onto the database's first warehouse. ``exsim odoo seed``
adds the scenario's master data at scale (customers by tier, ABC products, suppliers,
carriers, warehouses; ``masterdata.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sim.odoo.capabilities import detect
from sim.odoo.masterdata import Seeded, SeedSize, ensure
from sim.odoo.transport import Transport
from sim.scenarios.schema import Scenario

MODULE = "exsim"
STOCK_ON_HAND = 100000.0


@dataclass
class SeededRecords:
    """Ids of the seeded records (what inject needs)."""

    partners: dict[str, int] = field(default_factory=dict)  # tier / 'credit_hold' -> id
    supplier: int = 0
    carrier: int = 0
    stocked: int = 0  # product.product
    unstocked: int = 0
    warehouse: int = 0
    stock_location: int = 0
    out_type: int = 0
    in_type: int = 0
    created: list[str] = field(default_factory=list)
    bulk: Seeded | None = None  # the scenario's master data at scale (``masterdata``)


def xmlids(transport: Transport, names: list[str], module: str = MODULE) -> dict[str, int]:
    """``{name: res_id}`` for the external ids of ``module`` that exist."""
    rows = transport.call(
        "ir.model.data",
        "search_read",
        [["module", "=", module], ["name", "in", names]],
        fields=["name", "res_id"],
    )
    return {r["name"]: r["res_id"] for r in rows}


def tag(transport: Transport, model: str, named: dict[str, int]) -> None:
    """Give records external ids ``exsim.<name>`` (one call for all)."""
    if named:
        transport.call(
            "ir.model.data",
            "create",
            [
                {"module": MODULE, "name": n, "model": model, "res_id": i, "noupdate": True}
                for n, i in named.items()
            ],
        )


PARTNERS = {
    "partner_strategic": {"name": "exsim Strategic Customer", "credit_limit": 10_000_000.0},
    "partner_key": {"name": "exsim Key Customer", "credit_limit": 10_000_000.0},
    "partner_standard": {"name": "exsim Standard Customer", "credit_limit": 10_000_000.0},
    "partner_credit_hold": {"name": "exsim Customer On Credit Hold", "credit_limit": 1.0},
    "supplier": {"name": "exsim Supplier"},
    "carrier": {"name": "exsim Carrier"},
}
ADDRESS = {"street": "1 Exception Street", "city": "Simtown", "is_company": True}


def seed(
    transport: Transport,
    scenario: Scenario | None = None,
    size: SeedSize | None = None,
    progress: Callable[[int], None] | None = None,
) -> SeededRecords:
    """Create what is missing (idempotent) and return the ids of everything.

    The core records above are what ``inject`` needs; with a ``size`` (``exsim odoo seed``)
    the scenario's master data at that scale is made too (``masterdata``)."""
    data = SeededRecords()
    have = xmlids(transport, [*PARTNERS, "product_stocked", "product_unstocked"])
    missing = [n for n in PARTNERS if n not in have]
    if missing:
        ids = transport.call("res.partner", "create", [{**ADDRESS, **PARTNERS[n]} for n in missing])
        tag(transport, "res.partner", dict(zip(missing, ids, strict=True)))
        have.update(zip(missing, ids, strict=True))
        data.created += missing
    data.partners = {
        t: have[f"partner_{t}"] for t in ("strategic", "key", "standard", "credit_hold")
    }
    data.supplier, data.carrier = have["supplier"], have["carrier"]
    wh = transport.call(
        "stock.warehouse",
        "search_read",
        [],
        fields=["lot_stock_id", "out_type_id", "in_type_id"],
        limit=1,
        order="id",
    )[0]
    data.warehouse = wh["id"]
    data.stock_location, data.out_type, data.in_type = (
        wh[f][0] for f in ("lot_stock_id", "out_type_id", "in_type_id")
    )
    products = {
        "product_stocked": {"name": "exsim Stocked Item", "default_code": "EXSIM-STOCKED"},
        "product_unstocked": {"name": "exsim Out-of-stock Item", "default_code": "EXSIM-NONE"},
    }
    missing = [n for n in products if n not in have]
    if missing:
        storable = detect(transport).storable_product()
        ids = transport.call(
            "product.product",
            "create",
            [{**products[n], **storable, "weight": 1.0, "list_price": 100.0} for n in missing],
        )
        tag(transport, "product.product", dict(zip(missing, ids, strict=True)))
        have.update(zip(missing, ids, strict=True))
        data.created += missing
        if "product_stocked" in missing:
            quant = transport.call(
                "stock.quant",
                "create",
                [
                    {
                        "product_id": have["product_stocked"],
                        "location_id": data.stock_location,
                        "inventory_quantity": STOCK_ON_HAND,
                    }
                ],
                context={"inventory_mode": True},
            )
            transport.call("stock.quant", "action_apply_inventory", quant)
    data.stocked, data.unstocked = have["product_stocked"], have["product_unstocked"]
    if size is not None and scenario is not None:
        data.bulk = ensure(transport, scenario, size, data.stock_location, progress)
    return data
