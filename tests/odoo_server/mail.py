"""mail.thread's chatter: creation messages and field tracking.

On a real Odoo, a record of a model inheriting ``mail.thread`` gets a "<Document> created"
note when created, and every change of a *tracked* field (``tracking=True``: the state of a
sales order, transfer or purchase order...) is logged as one ``mail.message`` per record and
write, dated with the server clock, holding one ``mail.tracking.value`` per changed field.
Selections are tracked by their label, many2one by id and display name.  These rows are the
event history exsim replays from a live database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .orm import Env, Model

CREATION_LABELS = {
    "sale.order": "Sales Order",
    "purchase.order": "RFQ",
    "stock.picking": "Transfer",
    "res.partner": "Contact",
    "product.template": "Product",
    "product.product": "Product",
    "account.move": "Journal Entry",
}
NOTE_SUBTYPE = 2


class MailThread:
    def log_creation(self, env: Env, model: str, ids: list[int]) -> None:
        label = CREATION_LABELS.get(model, "Document")
        env["mail.message"].create_many(
            [
                {
                    "model": model,
                    "res_id": i,
                    "message_type": "notification",
                    "subtype_id": NOTE_SUBTYPE,
                    "body": f"<p>{label} created</p>",
                }
                for i in ids
            ]
        )

    def snapshot(self, model: Model, ids: list[int]) -> dict[int, dict[str, Any]]:
        return {i: {f: model.get(model.table[i], f) for f in model._tracked} for i in ids}

    def track(self, model: Model, before: dict[int, dict[str, Any]]) -> None:
        env = model.env
        field_ids = self._field_ids(env, model._name)
        for row_id, old in before.items():
            row = model.table.get(row_id)
            if row is None:
                continue
            values = []
            for name, old_value in old.items():
                new_value = model.get(row, name)
                if new_value != old_value:
                    values.append(
                        (
                            0,
                            0,
                            {
                                "field_id": field_ids.get(name),
                                **self._tracking_values(model, name, old_value, new_value),
                            },
                        )
                    )
            if values:
                env["mail.message"].create_many(
                    [
                        {
                            "model": model._name,
                            "res_id": row_id,
                            "message_type": "notification",
                            "subtype_id": NOTE_SUBTYPE,
                            "body": "",
                            "tracking_value_ids": values,
                        }
                    ]
                )

    @staticmethod
    def _field_ids(env: Env, model: str) -> dict[str, int]:
        table = env.db.tables["ir.model.fields"]
        return {r["name"]: i for i, r in table.items() if r["model"] == model}

    @staticmethod
    def _tracking_values(model: Model, name: str, old: Any, new: Any) -> dict:
        """Which ``old_value_*``/``new_value_*`` columns Odoo 17 fills for a field type."""
        field = model.fields[name]
        if field.type == "selection":
            labels = dict(field.describe()["selection"])
            return {
                "old_value_char": labels.get(old, old or ""),
                "new_value_char": labels.get(new, new or ""),
            }
        if field.type == "many2one":
            env = model.env
            return {
                "old_value_integer": old or 0,
                "new_value_integer": new or 0,
                "old_value_char": env.display_name(field.relation, old) if old else "",
                "new_value_char": env.display_name(field.relation, new) if new else "",
            }
        if field.type in ("date", "datetime"):
            return {"old_value_datetime": old, "new_value_datetime": new}
        if field.type in ("float", "monetary"):
            return {"old_value_float": old or 0.0, "new_value_float": new or 0.0}
        if field.type in ("integer", "boolean"):
            return {"old_value_integer": int(old or 0), "new_value_integer": int(new or 0)}
        if field.type in ("text", "html"):
            return {"old_value_text": old or "", "new_value_text": new or ""}
        return {"old_value_char": old or "", "new_value_char": new or ""}
