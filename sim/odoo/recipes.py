"""How one batch of cases becomes Odoo records: one recipe per kind of record.

A recipe takes a batch of planned cases of one category and makes their records in a handful
of calls whatever the batch size (one ``search_read`` for what already exists, one ``create``
with a list, one state change for all, one ``create`` of tags). Each recipe is *idempotent by
key*: it first looks up the records already carrying the cases' keys and only creates and
advances what is missing. Re-running a recipe after a lost reply, a timeout or a killed
process therefore finishes the job without duplicates; that is what makes ``--resume`` and the
retry of ``create`` safe. Every recipe returns ``{tag name: (model, id)}`` to tag.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.odoo.capabilities import detect
from sim.odoo.mapping import case_key, pattern_for
from sim.odoo.plan import PlannedCase

if TYPE_CHECKING:
    from sim.odoo.inject import Injector

Tags = dict[str, tuple[str, int]]
RECIPES: dict[str, Callable[[Injector, list[PlannedCase]], Tags]] = {}


def recipe(name: str):
    def add(fn):
        RECIPES[name] = fn
        return fn

    return add


def key(c: PlannedCase) -> str:
    return case_key(c.category, c.rep, c.case_id)


def existing(inj: Injector, model: str, field: str, keys: list[str], fields: list[str]) -> dict:
    rows = inj.read(model, "search_read", [[field, "in", keys]], fields=[field, *fields])
    return {r[field]: r for r in rows}


def suffix(model: str) -> str:
    return model.replace(".", "_")


def _pickings(inj: Injector, cases: list[PlannedCase], incoming: bool) -> Tags:
    md = inj.master
    keys = [key(c) for c in cases]
    have = existing(inj, "stock.picking", "origin", keys, ["state"])
    todo = [c for c in cases if key(c) not in have]
    if todo:
        src, dest = (
            (inj.locations["supplier"], md.stock_location)
            if incoming
            else (
                md.stock_location,
                inj.locations["customer"],
            )
        )
        vals = []
        for c in todo:
            move = {
                "name": key(c),
                "product_id": md.stocked,
                "product_uom_qty": 1.0,
                detect(inj.transport).move_uom: inj.uom,
                "location_id": src,
                "location_dest_id": dest,
            }
            vals.append(
                {
                    "picking_type_id": md.in_type if incoming else md.out_type,
                    "location_id": src,
                    "location_dest_id": dest,
                    "partner_id": md.supplier if incoming else inj.partner(c),
                    "origin": key(c),
                    "scheduled_date": inj.time.odoo(c.trigger),
                    "move_ids": [(0, 0, move)],
                }
            )
        inj.create("stock.picking", vals)
        have = existing(inj, "stock.picking", "origin", keys, ["state"])
    drafts = [r["id"] for r in have.values() if r["state"] == "draft"]
    if drafts:
        inj.write_call("stock.picking", "action_confirm", drafts)
    have = existing(inj, "stock.picking", "origin", keys, ["state"])
    waiting = [r["id"] for r in have.values() if r["state"] in ("confirmed", "waiting")]
    if waiting:
        inj.write_call("stock.picking", "action_assign", waiting)
    return {f"{c.tag}_stock_picking": ("stock.picking", have[key(c)]["id"]) for c in cases}


@recipe("picking_out")
def picking_out(inj: Injector, cases: list[PlannedCase]) -> Tags:
    return _pickings(inj, cases, incoming=False)


@recipe("picking_in")
def picking_in(inj: Injector, cases: list[PlannedCase]) -> Tags:
    return _pickings(inj, cases, incoming=True)


def _sales(inj: Injector, cases: list[PlannedCase], product: int, partner=None) -> dict:
    keys = [key(c) for c in cases]
    have = existing(inj, "sale.order", "name", keys, ["state"])
    todo = [c for c in cases if key(c) not in have]
    if todo:
        inj.create(
            "sale.order",
            [
                {
                    "name": key(c),
                    "partner_id": partner or inj.partner(c),
                    "commitment_date": inj.time.odoo(c.trigger),
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": product,
                                "product_uom_qty": 1.0,
                                "price_unit": round(c.value, 2),
                            },
                        )
                    ],
                }
                for c in todo
            ],
        )
        have = existing(inj, "sale.order", "name", keys, ["state"])
    drafts = [r["id"] for r in have.values() if r["state"] in ("draft", "sent")]
    drafts = _under_review(inj, "sale.order", drafts)
    if drafts:
        inj.write_call("sale.order", "action_confirm", drafts)
    return have


def _under_review(inj: Injector, model: str, drafts: list[int]) -> list[int]:
    """The drafts that may be confirmed now; the others need a tier review first.

    With OCA tier validation (``sale_tier_validation``/``purchase_tier_validation``) and a
    tier definition matching a draft (exsim's approval matrix, see ``deploy``), confirming it
    is refused until its reviews are approved: Odoo raises "This action needs to be
    validated". Those drafts get their review requested (``request_validation``, the button a
    salesperson presses) and stay drafts; an order under review is left alone until its
    reviews are all approved (then this recipe, run again, confirms it)."""
    if not drafts or model not in detect(inj.transport).tier_models:
        return drafts
    rows = inj.read(model, "read", drafts, ["need_validation", "review_ids", "validated"])
    need = [r["id"] for r in rows if r["need_validation"]]
    if need:
        inj.write_call(model, "request_validation", need)
    waiting = {
        r["id"] for r in rows if r["need_validation"] or (r["review_ids"] and not r["validated"])
    }
    return [d for d in drafts if d not in waiting]


@recipe("sale_confirmed")
def sale_confirmed(inj: Injector, cases: list[PlannedCase]) -> Tags:
    have = _sales(inj, cases, inj.master.stocked)
    return {f"{c.tag}_sale_order": ("sale.order", have[key(c)]["id"]) for c in cases}


@recipe("sale_credit")
def sale_credit(inj: Injector, cases: list[PlannedCase]) -> Tags:
    have = _sales(inj, cases, inj.master.stocked, inj.master.partners["credit_hold"])
    return {f"{c.tag}_sale_order": ("sale.order", have[key(c)]["id"]) for c in cases}


@recipe("sale_short")
def sale_short(inj: Injector, cases: list[PlannedCase]) -> Tags:
    """An order for a product with no stock: its delivery waits (the matching record)."""
    orders = _sales(inj, cases, inj.master.unstocked)
    keys = [key(c) for c in cases]
    pickings = existing(inj, "stock.picking", "origin", keys, ["state"])
    tags: Tags = {f"{c.tag}_sale_order": ("sale.order", orders[key(c)]["id"]) for c in cases}
    for c in cases:
        if key(c) in pickings:
            tags[f"{c.tag}_stock_picking"] = ("stock.picking", pickings[key(c)]["id"])
    return tags


def _purchases(inj: Injector, cases: list[PlannedCase], confirm: bool) -> Tags:
    keys = [key(c) for c in cases]
    have = existing(inj, "purchase.order", "name", keys, ["state"])
    todo = [c for c in cases if key(c) not in have]
    if todo:
        inj.create(
            "purchase.order",
            [
                {
                    "name": key(c),
                    "partner_id": inj.master.supplier,
                    "date_planned": inj.time.odoo(c.trigger),
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": inj.master.stocked,
                                "product_qty": 1.0,
                                "price_unit": round(c.value, 2),
                                "date_planned": inj.time.odoo(c.trigger),
                            },
                        )
                    ],
                }
                for c in todo
            ],
        )
        have = existing(inj, "purchase.order", "name", keys, ["state"])
    drafts = [r["id"] for r in have.values() if r["state"] in ("draft", "sent")]
    if confirm:
        drafts = _under_review(inj, "purchase.order", drafts)
    elif drafts and "purchase.order" in detect(inj.transport).tier_models:
        _under_review(inj, "purchase.order", drafts)  # an RFQ over a threshold: reviewed
    if confirm and drafts:
        inj.write_call("purchase.order", "button_confirm", drafts)
    return {f"{c.tag}_purchase_order": ("purchase.order", have[key(c)]["id"]) for c in cases}


@recipe("purchase_late")
def purchase_late(inj: Injector, cases: list[PlannedCase]) -> Tags:
    return _purchases(inj, cases, confirm=True)


@recipe("rfq")
def rfq(inj: Injector, cases: list[PlannedCase]) -> Tags:
    return _purchases(inj, cases, confirm=False)


@recipe("partner_gap")
def partner_gap(inj: Injector, cases: list[PlannedCase]) -> Tags:
    """A new customer keyed in without street and city (blocks delivery documents)."""
    keys = [key(c) for c in cases]
    have = existing(inj, "res.partner", "ref", keys, [])
    todo = [c for c in cases if key(c) not in have]
    if todo:
        inj.create(
            "res.partner",
            [
                {"name": f"exsim customer {c.case_id}", "ref": key(c), "is_company": True}
                for c in todo
            ],
        )
        have = existing(inj, "res.partner", "ref", keys, [])
    return {f"{c.tag}_res_partner": ("res.partner", have[key(c)]["id"]) for c in cases}


@recipe("quant_count")
def quant_count(inj: Injector, cases: list[PlannedCase]) -> Tags:
    """A count that differs from the books: one product per case (a quant is unique per
    product and location), counted at 7 where the system has none."""
    keys = [key(c) for c in cases]
    products = existing(inj, "product.product", "default_code", keys, [])
    todo = [c for c in cases if key(c) not in products]
    if todo:
        inj.create(
            "product.product",
            [
                {
                    "name": f"exsim counted item {c.case_id}",
                    "default_code": key(c),
                    **detect(inj.transport).storable_product(),
                    "weight": 1.0,
                }
                for c in todo
            ],
        )
        products = existing(inj, "product.product", "default_code", keys, [])
    ids = [r["id"] for r in products.values()]
    quants = inj.read(
        "stock.quant",
        "search_read",
        [["product_id", "in", ids], ["location_id", "=", inj.master.stock_location]],
        fields=["product_id", "inventory_quantity_set"],
    )
    counted = {q["product_id"][0]: q for q in quants}
    missing = [i for i in ids if i not in counted or not counted[i]["inventory_quantity_set"]]
    if missing:
        inj.create(
            "stock.quant",
            [
                {
                    "product_id": i,
                    "location_id": inj.master.stock_location,
                    "inventory_quantity": 7.0,
                }
                for i in missing
            ],
            context={"inventory_mode": True},
        )
        quants = inj.read(
            "stock.quant",
            "search_read",
            [["product_id", "in", ids], ["location_id", "=", inj.master.stock_location]],
            fields=["product_id"],
        )
        counted = {q["product_id"][0]: q for q in quants}
    tags: Tags = {}
    for c in cases:
        pid = products[key(c)]["id"]
        tags[f"{c.tag}_product_product"] = ("product.product", pid)
        tags[f"{c.tag}_stock_quant"] = ("stock.quant", counted[pid]["id"])
    return tags


def recipe_for(category: str) -> Callable[[Injector, list[PlannedCase]], Tags]:
    return RECIPES[pattern_for(category).recipe]
