"""Removing everything exsim created, and only that.

What exsim created is exactly what carries an external id of the module ``exsim`` (seed,
inject and deploy tag every record they make), so cleanup reads ``ir.model.data`` and
nothing else decides. Records go in dependency order: automations and scheduled actions
first (so nothing fires during the cleanup), then documents (cancelled first, as Odoo only
deletes cancelled orders and transfers), then master data. What Odoo will not delete (a
product with done stock moves) is archived instead, and its tag removed. Activities die with
their records. The ``exsim.inject.run`` parameter goes; ``exsim.test_database`` stays.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sim.odoo.inject import RUN_PARAM
from sim.odoo.seed import MODULE
from sim.odoo.transport import OdooError, Transport

ORDER = (
    "base.automation",
    "ir.cron",
    "ir.actions.server",
    "mail.activity",
    "stock.quant",
    "stock.picking",
    "sale.order",
    "purchase.order",
    "res.partner",
    "product.product",
)
CANCEL = {
    "stock.picking": "action_cancel",
    "sale.order": "action_cancel",
    "purchase.order": "button_cancel",
}
ARCHIVABLE = {"res.partner", "product.product"}


@dataclass
class CleanupReport:
    deleted: dict[str, int] = field(default_factory=dict)
    archived: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


def _ids(transport: Transport, model: str, ids: list[int]) -> list[int]:
    return transport.call(model, "exists", ids) if ids else []


def cleanup(transport: Transport) -> CleanupReport:
    report = CleanupReport()
    tags = transport.call(
        "ir.model.data", "search_read", [["module", "=", MODULE]], fields=["model", "res_id"]
    )
    by_model: dict[str, list[int]] = defaultdict(list)
    for t in tags:
        by_model[t["model"]].append(t["res_id"])
    crons = _ids(transport, "ir.cron", by_model.get("ir.cron", []))
    if crons:
        actions = [
            r["ir_actions_server_id"][0]
            for r in transport.call("ir.cron", "read", crons, ["ir_actions_server_id"])
        ]
        by_model["ir.actions.server"] += actions
    for model in [*ORDER, *sorted(set(by_model) - set(ORDER))]:
        ids = _ids(transport, model, sorted(set(by_model.get(model, []))))
        if not ids:
            continue
        try:
            if model in CANCEL:
                live = transport.call(
                    model, "search", [["id", "in", ids], ["state", "not in", ["cancel", "done"]]]
                )
                if live:
                    transport.call(
                        model, CANCEL[model], live, context={"disable_cancel_warning": True}
                    )
            if model == "stock.quant":
                transport.call(
                    model, "write", ids, {"inventory_quantity": 0, "inventory_quantity_set": False}
                )
                report.deleted[model] = len(ids)  # quants stay; the count is withdrawn
                continue
            transport.call(model, "unlink", ids)
            report.deleted[model] = len(ids)
        except OdooError as exc:
            if model in ARCHIVABLE:
                transport.call(model, "write", ids, {"active": False})
                report.archived[model] = len(ids)
            else:
                report.failed.append(f"{model}: {exc}")
    left = transport.call("ir.model.data", "search", [["module", "=", MODULE]])
    if left:
        transport.call("ir.model.data", "unlink", left)
    transport.call("ir.config_parameter", "set_param", RUN_PARAM, False)
    return report
