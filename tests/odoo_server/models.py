"""Base and master-data models: partners, users, products, locations, metadata, parameters.

Only the behaviour a client can observe through the external API is reproduced: display
names (``"Parent, Child"`` for contacts, ``"WH/Stock"`` for locations, ``"[CODE] Name"`` for
products), the product template/variant pair (``_inherits``: a variant reads and writes its
template's fields), on-hand quantities computed from quants, ``ir.config_parameter`` helpers,
external ids and ``check_object_reference`` with the formatting bug odoorpc's ``env.ref`` hits.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from .clock import parse_datetime
from .errors import AccessError
from .orm import Model, api_model, api_records, register

USER_TZ = "Europe/Brussels"  # the admin's tz on a demo database; Date.context_today uses it


def context_today(model: Model) -> str:
    """Today in the user's timezone, as ``fields.Date.context_today`` computes it."""
    now = parse_datetime(model.env.now()).replace(tzinfo=ZoneInfo("UTC"))
    return now.astimezone(ZoneInfo(USER_TZ)).strftime("%Y-%m-%d")


@register("res.partner")
class Partner(Model):
    _order = "complete_name ASC, id DESC"
    _parent_name = "parent_id"
    _inverse = {"child_ids": "parent_id"}
    _defaults = {"type": "contact", "is_company": False, "lang": "en_US"}
    _mail_thread = True

    def _compute_complete_name(self, row: dict) -> str:
        parent = self.table.get(row.get("parent_id"))
        if parent and not row.get("is_company"):
            return f"{self._compute_complete_name(parent)}, {row.get('name') or ''}"
        return row.get("name") or ""

    def display_name(self, row: dict) -> str:
        return self._compute_complete_name(row)

    def _compute_commercial_partner_id(self, row: dict) -> int:
        while row.get("parent_id") and not row.get("is_company"):
            row = self.table[row["parent_id"]]
        return row["id"]


@register("res.users")
class Users(Model):
    _order = "name, login"
    _defaults = {"lang": "en_US", "share": False}

    def _prepare_create(self, row: dict, vals: dict) -> None:
        if not row.get("partner_id"):
            row["partner_id"] = self.env["res.partner"].create_many(
                [{"name": vals.get("name") or vals.get("login"), "email": vals.get("email")}]
            )[0]
        row["company_id"] = row.get("company_id") or 1
        row["company_ids"] = row.get("company_ids") or [row["company_id"]]

    def _compute_name(self, row: dict) -> str:
        return self.env.row("res.partner", row["partner_id"])["name"]

    def _compute_password(self, row: dict) -> str:
        return ""  # never readable, as on Odoo

    @api_model
    def context_get(self) -> dict:
        return {"lang": "en_US", "tz": USER_TZ, "uid": self.env.uid}


@register("res.company")
class Company(Model):
    _order = "name"


@register("product.template")
class ProductTemplate(Model):
    _order = "name"
    _inverse = {"product_variant_ids": "product_tmpl_id"}
    _defaults = {
        "detailed_type": "consu",
        "type": "consu",
        "tracking": "none",
        "uom_id": 1,
        "uom_po_id": 1,
        "categ_id": 1,
        "sale_ok": True,
        "purchase_ok": True,
        "invoice_policy": "order",
        "company_id": False,
    }
    _mail_thread = True

    def _prepare_create(self, row: dict, vals: dict) -> None:
        if "detailed_type" not in self.fields:  # 18+: type is the only kind field
            return
        if "type" in vals and "detailed_type" not in vals:
            row["detailed_type"] = vals["type"]
        row["type"] = row["detailed_type"]

    def _post_create(self, ids: list[int]) -> None:
        variants = self.env["product.product"]
        for tmpl_id in ids:
            if not self.get(self.table[tmpl_id], "product_variant_ids"):
                variants.env.db.insert("product.product", variants.variant_row(tmpl_id))

    def _post_write(self, ids: list[int], vals: dict) -> None:
        if ("detailed_type" in vals or "type" in vals) and "detailed_type" in self.fields:
            for i in ids:
                kind = vals.get("detailed_type", vals.get("type"))
                self.store(i, {"type": kind, "detailed_type": kind})

    def display_name(self, row: dict) -> str:
        code = row.get("default_code")
        return f"[{code}] {row.get('name')}" if code else row.get("name") or ""

    def _qty(self, row: dict, name: str) -> float:
        products = self.env["product.product"]
        return sum(
            products.get(products.table[i], name) for i in self.get(row, "product_variant_ids")
        )

    def _compute_qty_available(self, row: dict) -> float:
        return self._qty(row, "qty_available")

    def _compute_virtual_available(self, row: dict) -> float:
        return self._qty(row, "virtual_available")


@register("product.product")
class Product(Model):
    """A variant: template fields are read from and written to its template (``_inherits``)."""

    _order = "default_code, name, id"
    _mail_thread = True
    OWN = {
        "id",
        "product_tmpl_id",
        "create_date",
        "create_uid",
        "write_date",
        "write_uid",
        "display_name",
        "qty_available",
        "virtual_available",
        "free_qty",
        "incoming_qty",
        "outgoing_qty",
        "lst_price",
        "active",
        "barcode",
        "default_code",
    }

    def variant_row(self, tmpl_id: int) -> dict:
        now = self.env.now()
        return {
            "product_tmpl_id": tmpl_id,
            "active": True,
            "default_code": False,
            "barcode": False,
            "create_date": now,
            "write_date": now,
            "create_uid": self.env.uid,
            "write_uid": self.env.uid,
        }

    def _split(self, vals: dict) -> tuple[dict, dict]:
        own = {k: v for k, v in vals.items() if k in self.OWN}
        return own, {k: v for k, v in vals.items() if k not in self.OWN}

    def _create_one(self, vals: dict) -> int:
        self._check_names(vals)
        own, tmpl_vals = self._split(vals)
        if not own.get("product_tmpl_id"):
            tmpl_vals.setdefault("name", vals.get("name"))
            tmpl = self.env["product.template"]
            own["product_tmpl_id"] = tmpl._create_one(tmpl_vals)
        elif tmpl_vals:
            self.env["product.template"].write([own["product_tmpl_id"]], tmpl_vals)
        row = {**self.variant_row(own["product_tmpl_id"]), **own}
        return self.env.db.insert(self._name, row)

    def _write(self, ids: list[int], vals: dict) -> None:
        own, tmpl_vals = self._split(vals)
        if tmpl_vals:
            tmpl_ids = list({self.table[i]["product_tmpl_id"] for i in ids})
            self.env["product.template"].write(tmpl_ids, tmpl_vals)
        if own:
            super()._write(ids, own)

    def get(self, row: dict, name: str) -> Any:
        if name in self.OWN and name not in ("display_name", "lst_price"):
            return super().get(row, name)
        tmpl = self.env["product.template"]
        tmpl_row = tmpl.table[row["product_tmpl_id"]]
        if name == "lst_price":
            return tmpl.get(tmpl_row, "list_price")
        if name == "display_name":
            return self.display_name(row)
        return tmpl.get(tmpl_row, name) if name in tmpl.fields else super().get(row, name)

    def display_name(self, row: dict) -> str:
        code = row.get("default_code")
        name = self.get(row, "name")
        return f"[{code}] {name}" if code else name or ""

    def _quants(self, row: dict) -> list[dict]:
        internal = {
            i
            for i, loc in self.env.db.tables["stock.location"].items()
            if loc.get("usage") == "internal"
        }
        return [
            q
            for q in self.env.db.tables["stock.quant"].values()
            if q["product_id"] == row["id"] and q["location_id"] in internal
        ]

    def _moves(self, row: dict, code: str) -> float:
        return sum(
            m["product_uom_qty"]
            for m in self.env.db.tables["stock.move"].values()
            if m["product_id"] == row["id"]
            and m["state"] not in ("draft", "done", "cancel")
            and self.env["stock.move"].get(m, "picking_code") == code
        )

    def _compute_qty_available(self, row: dict) -> float:
        return sum(q["quantity"] for q in self._quants(row))

    def _compute_free_qty(self, row: dict) -> float:
        return sum(q["quantity"] - q["reserved_quantity"] for q in self._quants(row))

    def _compute_incoming_qty(self, row: dict) -> float:
        return self._moves(row, "incoming")

    def _compute_outgoing_qty(self, row: dict) -> float:
        return self._moves(row, "outgoing")

    def _compute_virtual_available(self, row: dict) -> float:
        return (
            self._compute_qty_available(row)
            + self._moves(row, "incoming")
            - self._moves(row, "outgoing")
        )


@register("stock.location")
class Location(Model):
    _order = "complete_name, id"
    _parent_name = "location_id"
    _inverse = {"child_ids": "location_id", "quant_ids": "location_id"}
    _rec_name = "complete_name"

    def _compute_complete_name(self, row: dict) -> str:
        parent = self.table.get(row.get("location_id"))
        if parent and row.get("usage") != "view":
            return f"{self._compute_complete_name(parent)}/{row['name']}"
        return row["name"]


@register("stock.warehouse")
class Warehouse(Model):
    """A new warehouse gets, as in Odoo, its view location (named by its code), a Stock
    location under it, and its Receipts and Delivery Orders operation types."""

    _order = "sequence,id"
    _defaults = {
        "company_id": 1,
        "reception_steps": "one_step",
        "delivery_steps": "ship_only",
        "sequence": 10,
    }

    def _prepare_create(self, row: dict, vals: dict) -> None:
        locations = self.env["stock.location"]
        if not row.get("view_location_id"):
            row["view_location_id"] = locations.create_many(
                [{"name": row["code"], "usage": "view", "location_id": 1}]
            )[0]
        if not row.get("lot_stock_id"):
            row["lot_stock_id"] = locations.create_many(
                [{"name": "Stock", "usage": "internal", "location_id": row["view_location_id"]}]
            )[0]

    def _post_create(self, ids: list[int]) -> None:
        types = self.env["stock.picking.type"]
        for wid in ids:
            row = self.table[wid]
            self.env["stock.location"].write(
                [row["view_location_id"], row["lot_stock_id"]], {"warehouse_id": wid}
            )
            in_type, out_type = types.create_many(
                [
                    {
                        "name": "Receipts",
                        "code": "incoming",
                        "sequence_code": "IN",
                        "company_id": row["company_id"],
                        "warehouse_id": wid,
                        "default_location_src_id": 4,  # Vendors
                        "default_location_dest_id": row["lot_stock_id"],
                    },
                    {
                        "name": "Delivery Orders",
                        "code": "outgoing",
                        "sequence_code": "OUT",
                        "company_id": row["company_id"],
                        "warehouse_id": wid,
                        "default_location_src_id": row["lot_stock_id"],
                        "default_location_dest_id": 5,  # Customers
                    },
                ]
            )
            self.store(wid, {"in_type_id": in_type, "out_type_id": out_type})


@register("stock.picking.type")
class PickingType(Model):
    _order = "sequence, id"
    _defaults = {"create_backorder": "ask", "reservation_method": "at_confirm", "sequence": 1}

    def display_name(self, row: dict) -> str:
        wh = self.env.row("stock.warehouse", row.get("warehouse_id"))
        return f"{wh['name']}: {row['name']}" if wh else row["name"]


@register("ir.model")
class IrModel(Model):
    _order = "is_mail_thread DESC, name ASC"
    _inverse = {"field_id": "model_id"}


@register("ir.model.fields")
class IrModelFields(Model):
    _order = "name"

    def display_name(self, row: dict) -> str:
        return row.get("field_description") or row["name"]

    def _compute_complete_name(self, row: dict) -> str:
        return f"{row['model']}.{row['name']}"


@register("ir.model.data")
class IrModelData(Model):
    _order = "module, model, name"

    def _compute_complete_name(self, row: dict) -> str:
        return f"{row['module']}.{row['name']}"

    def _compute_reference(self, row: dict) -> str:
        return f"{row['model']},{row['res_id']}"

    def display_name(self, row: dict) -> str:
        return self._compute_complete_name(row)

    @api_model
    def check_object_reference(
        self, module: str, xml_id: str, raise_on_access_error: bool = False
    ) -> list:
        """(model, res_id) if the record is visible (a ``search`` finds it).

        When it is not (archived, or no access) Odoo raises an AccessError -- but in 17 its
        message is built with a bad ``%`` format, so the client gets ``builtins.TypeError``
        "not all arguments converted during string formatting" (what odoorpc 0.10's
        ``env.ref`` shows for an archived record); 18 sends the AccessError itself.
        """
        ids = self._search([("module", "=", module), ("name", "=", xml_id)])
        if not ids:
            raise ValueError(f"External ID not found in the system: {module}.{xml_id}")
        row = self.table[ids[0]]
        if self.env[row["model"]]._search([("id", "=", row["res_id"])]):
            return [row["model"], row["res_id"]]
        if raise_on_access_error:
            if self.env.server.version >= 18:  # 18 fixed the message's formatting
                raise AccessError(
                    f'Not enough access rights on the external ID "{module}.{xml_id}"'
                )
            raise TypeError("not all arguments converted during string formatting")
        return [row["model"], False]


@register("ir.config_parameter")
class ConfigParameter(Model):
    _order = "key"
    _rec_name = "key"

    @api_model
    def get_param(self, key: str, default: Any = False) -> Any:
        ids = self._search([("key", "=", key)])
        return self.table[ids[0]]["value"] if ids else default

    @api_model
    def set_param(self, key: str, value: Any) -> Any:
        ids = self._search([("key", "=", key)])
        old = self.table[ids[0]]["value"] if ids else False
        if ids and value in (False, None):
            self.unlink(ids)
        elif ids:
            self.write(ids, {"value": str(value)})
        elif value not in (False, None):
            self.create({"key": key, "value": str(value)})
        return old


@register("ir.module.module")
class Module(Model):
    _order = "name"

    @api_records
    def write(self, ids: Any, vals: dict) -> bool:
        raise AccessError("Modules cannot be changed on the exsim test server.")


@register("mail.activity.type")
class ActivityType(Model):
    _order = "sequence, id"
    _defaults = {
        "category": "default",
        "delay_unit": "days",
        "delay_from": "previous_activity",
        "chaining_type": "suggest",
        "sequence": 10,
    }


@register("mail.activity")
class Activity(Model):
    _order = "date_deadline ASC, id ASC"
    _defaults = {"date_deadline": context_today, "automated": False}

    def _prepare_create(self, row: dict, vals: dict) -> None:
        ir_model = self.env["ir.model"]
        if row.get("res_model_id"):
            row["res_model"] = ir_model.table[row["res_model_id"]]["model"]
        row["user_id"] = row.get("user_id") or self.env.uid
        if not row.get("activity_type_id"):
            todo = self.env["mail.activity.type"]._search([("name", "=", "To-Do")], limit=1)
            row["activity_type_id"] = todo[0] if todo else False
        if not row.get("summary") and row.get("activity_type_id"):
            row["summary"] = self.env.row("mail.activity.type", row["activity_type_id"])["summary"]

    def _compute_res_name(self, row: dict) -> str | bool:
        if not row.get("res_model") or row["res_model"] not in self.env.db.tables:
            return False
        return self.env.display_name(row["res_model"], row.get("res_id"))

    def _compute_state(self, row: dict) -> str:
        today = context_today(self)
        deadline = row.get("date_deadline") or today
        return "today" if deadline == today else "overdue" if deadline < today else "planned"

    def display_name(self, row: dict) -> str:
        return row.get("summary") or (
            self.env.display_name("mail.activity.type", row["activity_type_id"])
            if row.get("activity_type_id")
            else ""
        )

    @api_records
    def action_feedback(self, ids: Any, feedback: str = "", **_: Any) -> bool:
        """Mark done: Odoo 17 posts a message and deletes the activity."""
        ids = [i for i in ids if i in self.table]
        for row_id in ids:
            row = self.table[row_id]
            self.env["mail.message"].create_many(
                [
                    {
                        "model": row["res_model"],
                        "res_id": row["res_id"],
                        "message_type": "notification",
                        # Odoo 17's mail.message_activity_done: "<type> done: <summary>"
                        "body": "<p>{} done{}</p>{}".format(
                            self.env.display_name("mail.activity.type", row["activity_type_id"])
                            if row.get("activity_type_id")
                            else "Activity",
                            f": {row['summary']}" if row.get("summary") else "",
                            f"<p>{feedback}</p>" if feedback else "",
                        ),
                        "mail_activity_type_id": row["activity_type_id"],
                        "subtype_id": 3,
                        "date": self.env.now(),
                    }
                ]
            )
        self.unlink(ids)
        return True

    @api_records
    def action_done(self, ids: Any) -> bool:
        return self.action_feedback(ids)


@register("mail.message")
class Message(Model):
    _order = "id desc"
    _rec_name = "record_name"
    _inverse = {"tracking_value_ids": "mail_message_id"}
    _defaults = {"message_type": "comment", "is_internal": False}

    def _prepare_create(self, row: dict, vals: dict) -> None:
        row["date"] = row.get("date") or self.env.now()
        user = self.env.row("res.users", self.env.uid)
        row["author_id"] = row.get("author_id") or (user["partner_id"] if user else False)
        if row.get("model") and row["model"] in self.env.db.tables and row.get("res_id"):
            row["record_name"] = row.get("record_name") or self.env.display_name(
                row["model"], row["res_id"]
            )


@register("mail.tracking.value")
class TrackingValue(Model):
    _order = "id DESC"
