"""Removing everything exsim created or caused, and only that.

What exsim made is found three ways, all of them exsim's own marks:

- its tags: every record seed, inject and deploy make carries an external id of module
  ``exsim`` (``ir.model.data``);
- its case keys: every injected document carries ``exsim/<category>/<rep>/<case>`` in a
  field (``origin``, ``name``, ``ref``, ``default_code``), so the records of a run aborted
  between a create and its tag are found too; and its names (rules "exsim <mechanism>
  <category>", the seed's "exsim ..." partners and products) for what lost its tag;
- what Odoo made from them: confirming an injected sales or purchase order makes a delivery
  or receipt (``stock.picking`` with ``sale_id``/``purchase_id`` and the order's name as
  ``origin``) and its stock moves; those are exsim's as well.

Records go in dependency order, so that Odoo never meets a foreign key it would refuse (each
refusal is an error in Odoo's log): automations, scheduled actions and exception rules first
(nothing fires during the cleanup), then documents (cancelled first: Odoo deletes only
cancelled orders and transfers, and a transfer takes its moves with it), then the moves left
over, counts, partners and products, then what deploy-policy made on OCA modules after the
documents (tier definitions and their reviewer groups: cancelling an order drops its reviews
first). Deleting a record deletes its chatter and activities (``mail.thread``).
A partner still used by a document exsim did not make, or a product with stock history (done
moves, which Odoo keeps for good), is not deleted: its stock is counted back to zero and it
is archived, reported as such. The ``exsim.inject.run`` parameter goes;
``exsim.test_database`` stays.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sim.odoo.capabilities import detect
from sim.odoo.inject import RUN_PARAM
from sim.odoo.seed import MODULE
from sim.odoo.transport import OdooError, Transport

# the field of each model that carries exsim's case key (see mapping.case_key)
KEYED = {
    "stock.picking": "origin",
    "sale.order": "name",
    "purchase.order": "name",
    "res.partner": "ref",
    "product.product": "default_code",
}
# exsim's own names: deployed rules and scans ("exsim <mechanism> <category>") and the seed's
# records ("exsim Key Customer"...), which an older cleanup archived and untagged
NAMED = {
    "base.automation": "name",
    "ir.cron": "cron_name",
    "res.partner": "name",
    "product.product": "name",
}
CANCEL = {
    "stock.picking": "action_cancel",
    "sale.order": "action_cancel",
    "purchase.order": "button_cancel",
}
ALL = {"active_test": False}


@dataclass
class CleanupReport:
    deleted: dict[str, int] = field(default_factory=dict)
    archived: dict[str, int] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)  # what Odoo would not let go, and why
    failed: list[str] = field(default_factory=list)


def _search(transport: Transport, model: str, domain: list) -> list[int]:
    return transport.call(model, "search", domain, context=ALL)


def found(transport: Transport) -> dict[str, set[int]]:
    """Every record exsim made or caused, by model (tags, case keys, generated transfers)."""
    by_model: dict[str, set[int]] = defaultdict(set)
    tags = transport.call(
        "ir.model.data", "search_read", [["module", "=", MODULE]], fields=["model", "res_id"]
    )
    for t in tags:
        by_model[t["model"]].add(t["res_id"])
    for model, fname in KEYED.items():
        by_model[model] |= set(_search(transport, model, [[fname, "=like", "exsim/%"]]))
    for model, fname in NAMED.items():  # exsim's names, should a tag have been lost
        by_model[model] |= set(_search(transport, model, [[fname, "=like", "exsim %"]]))
    caps = detect(transport)
    oca_named = {"exception.rule": caps.exception_models, "tier.definition": caps.tier_models}
    for model, installed in oca_named.items():  # deploy-policy's OCA records (deploy_oca)
        if installed:
            by_model[model] |= set(_search(transport, model, [["name", "=like", "exsim %"]]))
    if caps.tier_models:
        by_model["res.groups"] |= set(
            _search(transport, "res.groups", [["name", "=like", "exsim approver %"]])
        )
    sales, purchases = sorted(by_model["sale.order"]), sorted(by_model["purchase.order"])
    pickings = by_model["stock.picking"]
    if sales:
        pickings |= set(_search(transport, "stock.picking", [["sale_id", "in", sales]]))
    if purchases:
        pickings |= set(_search(transport, "stock.picking", [["purchase_id", "in", purchases]]))
    moves = by_model["stock.move"]
    if pickings:
        moves |= set(_search(transport, "stock.move", [["picking_id", "in", sorted(pickings)]]))
    if sales:
        moves |= set(_search(transport, "stock.move", [["sale_line_id.order_id", "in", sales]]))
    if purchases:
        moves |= set(
            _search(transport, "stock.move", [["purchase_line_id.order_id", "in", purchases]])
        )
    crons = _existing(transport, "ir.cron", by_model.get("ir.cron", set()))
    if crons:
        by_model["ir.actions.server"] |= {
            r["ir_actions_server_id"][0]
            for r in transport.call("ir.cron", "read", crons, ["ir_actions_server_id"])
            if r["ir_actions_server_id"]
        }
    return {m: ids for m, ids in by_model.items() if ids}


def _existing(transport: Transport, model: str, ids) -> list[int]:
    return transport.call(model, "exists", sorted(ids)) if ids else []


def cleanup(transport: Transport) -> CleanupReport:
    report = CleanupReport()
    mine = found(transport)

    def ids_of(model: str) -> list[int]:
        return _existing(transport, model, mine.get(model, set()))

    def drop(model: str, ids: list[int]) -> None:
        if not ids:
            return
        try:
            transport.call(model, "unlink", ids)
            report.deleted[model] = report.deleted.get(model, 0) + len(ids)
        except OdooError as exc:
            report.failed.append(f"{model}: {exc}")

    # what fires or blocks first (exception rules block cancelling nothing, but would be
    # checked on every write); tier definitions and their groups go after the documents:
    # cancelling an order drops its reviews, and a review left behind still blocks writes
    for model in ("base.automation", "ir.cron", "ir.actions.server", "exception.rule"):
        drop(model, ids_of(model))
    for model in ("stock.picking", "sale.order", "purchase.order"):
        ids = ids_of(model)
        live = ids and _search(
            transport, model, [["id", "in", ids], ["state", "not in", ["cancel", "done"]]]
        )
        if live:
            try:
                transport.call(model, CANCEL[model], live, context={"disable_cancel_warning": True})
            except OdooError as exc:
                report.failed.append(f"{model} cancel: {exc}")
    pickings = ids_of("stock.picking")
    done = pickings and _search(
        transport, "stock.picking", [["id", "in", pickings], ["state", "=", "done"]]
    )
    if done:
        report.kept.append(f"stock.picking: {len(done)} done (stock history stays)")
    drop("stock.picking", [p for p in pickings if p not in set(done)])
    moves = ids_of("stock.move")
    loose = moves and _search(
        transport, "stock.move", [["id", "in", moves], ["state", "in", ["draft", "cancel"]]]
    )
    drop("stock.move", loose)
    for model in ("sale.order", "purchase.order", "mail.activity"):
        drop(model, ids_of(model))
    _withdraw_counts(transport, ids_of("stock.quant"), report)
    _partners(transport, ids_of("res.partner"), report)
    _products(transport, ids_of("product.product"), report)
    _archive(transport, "stock.warehouse", ids_of("stock.warehouse"), report)
    handled = {
        "exception.rule",
        "base.automation",
        "ir.cron",
        "ir.actions.server",
        "stock.picking",
        "stock.move",
        "sale.order",
        "purchase.order",
        "mail.activity",
        "stock.quant",
        "res.partner",
        "product.product",
        "stock.warehouse",
    }
    for model in sorted(set(mine) - handled):
        drop(model, ids_of(model))
    left = transport.call("ir.model.data", "search", [["module", "=", MODULE]])
    if left:
        transport.call("ir.model.data", "unlink", left)
    transport.call("ir.config_parameter", "set_param", RUN_PARAM, False)
    return report


def _archive(transport: Transport, model: str, ids: list[int], report: CleanupReport) -> None:
    """Archive what Odoo keeps references to (a warehouse's rules, routes and operation types
    hold it: deleting would be refused by a foreign key)."""
    if not ids:
        return
    try:
        transport.call(model, "write", ids, {"active": False})
        report.archived[model] = len(ids)
    except OdooError as exc:
        report.failed.append(f"{model}: {exc}")


def _withdraw_counts(transport: Transport, quants: list[int], report: CleanupReport) -> None:
    """A count exsim set is withdrawn (the quant itself is Odoo's stock ledger)."""
    counted = quants and _search(
        transport, "stock.quant", [["id", "in", quants], ["inventory_quantity_set", "=", True]]
    )
    if counted:
        transport.call(
            "stock.quant",
            "write",
            counted,
            {"inventory_quantity": 0, "inventory_quantity_set": False},
        )
        report.deleted["stock.quant (counts)"] = len(counted)


def _partners(transport: Transport, ids: list[int], report: CleanupReport) -> None:
    """Delete exsim's partners; one still on another document is archived instead."""
    used: set[int] = set()
    for model in ("sale.order", "purchase.order", "stock.picking"):
        if ids:
            rows = transport.call(
                model,
                "search_read",
                [["partner_id", "in", ids]],
                fields=["partner_id"],
                context=ALL,
            )
            used |= {r["partner_id"][0] for r in rows if r["partner_id"]}
    free = [i for i in ids if i not in used]
    if free:
        transport.call("res.partner", "unlink", free)
        report.deleted["res.partner"] = len(free)
    if used:
        transport.call("res.partner", "write", sorted(used), {"active": False})
        report.archived["res.partner"] = len(used)


def _products(transport: Transport, ids: list[int], report: CleanupReport) -> None:
    """Delete exsim's products; one with stock history is counted to zero and archived.

    Odoo keeps done stock moves and quants for good and refuses (a foreign key) to delete
    their product, so exsim never tries: it empties the product's stock with an inventory
    adjustment (no archived copy holds stock) and archives product and template."""
    if not ids:
        return
    moved = {
        r["product_id"][0]
        for r in transport.call(
            "stock.move", "search_read", [["product_id", "in", ids]], fields=["product_id"]
        )
    }
    quants = transport.call(
        "stock.quant",
        "search_read",
        [["product_id", "in", ids]],
        fields=["product_id", "quantity", "location_id"],
    )
    # a quant (even empty) holds its product: Odoo refuses to delete quants through the API
    # (AccessError) and removes empty ones itself later
    moved |= {q["product_id"][0] for q in quants}
    internal = set(
        _search(
            transport,
            "stock.location",
            [
                ["id", "in", sorted({q["location_id"][0] for q in quants})],
                ["usage", "=", "internal"],
            ],
        )
        if quants
        else []
    )
    stocked = [q["id"] for q in quants if q["quantity"] and q["location_id"][0] in internal]
    if stocked:
        transport.call(
            "stock.quant",
            "write",
            stocked,
            {"inventory_quantity": 0},
            context={"inventory_mode": True},
        )
        transport.call("stock.quant", "action_apply_inventory", stocked)
    free = [i for i in ids if i not in moved]
    if free:
        transport.call("product.product", "unlink", free)
        report.deleted["product.product"] = len(free)
    rows = transport.call("product.product", "read", sorted(moved), ["product_tmpl_id", "active"])
    keep = [r["id"] for r in rows if r["active"]]  # archived by an earlier cleanup: done
    if keep:
        templates = sorted({r["product_tmpl_id"][0] for r in rows if r["active"]})
        transport.call("product.product", "write", keep, {"active": False})
        transport.call("product.template", "write", templates, {"active": False})
        report.archived["product.product"] = len(keep)
        report.kept.append(f"product.product: {len(keep)} with stock history, stock set to 0")
