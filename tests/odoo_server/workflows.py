"""Sales and purchase orders and the transfers they create, as in Odoo 17 Community.

``sale.order.action_confirm``: state ``sale`` (``date_order`` set to now) and one delivery per
order from the warehouse's stock location to Customers, one move per product line, confirmed
and reserved at once (see ``stock.py``).  ``purchase.order.button_confirm``: state ``purchase``
(``date_approve`` = now) and one receipt from Vendors to stock, scheduled at the order's
``date_planned``, Ready at once; ``receipt_status`` goes pending → partial → full as receipts
are validated.  Credit limits only *warn*: ``partner_credit_warning`` holds the message, the
order is confirmed anyway.  Amounts are untaxed (this server has no taxes).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .clock import format_datetime, parse_datetime
from .errors import UserError
from .orm import Model, api_records, as_ids, register
from .stock import CUSTOMERS, VENDORS

WAREHOUSE = 1


def _money(amount: float) -> str:
    return f"$\N{NO-BREAK SPACE}{amount:,.2f}"


class _Order(Model):
    """What sales and purchase orders share: sequence names, lines and their totals."""

    _inverse = {"order_line": "order_id"}
    _mail_thread = True
    line_model = ""
    prefix = ""

    def _prepare_create(self, row: dict, vals: dict) -> None:
        if not row.get("name") or row["name"] in ("New", "/"):
            row["name"] = self.env.server.sequence(self._name, self.prefix, 5)

    def lines(self, order_id: int) -> list[dict]:
        return [
            r for r in self.env.db.tables[self.line_model].values() if r["order_id"] == order_id
        ]

    def recompute_amounts(self, ids: list[int]) -> None:
        for oid in ids:
            if oid in self.table:
                total = sum(line["price_subtotal"] for line in self.lines(oid))
                self.store(oid, {"amount_untaxed": total, "amount_tax": 0.0, "amount_total": total})

    def _move_uom(self) -> str:
        """The stock move's unit field: ``product_uom`` up to 18, ``uom_id`` in 19."""
        return "uom_id" if "uom_id" in self.env.fields("stock.move") else "product_uom"

    def _create_picking(self, order: dict, vals: dict, lines: list[dict], link: str) -> int:
        pickings = self.env["stock.picking"]
        moves = [
            (
                0,
                0,
                {
                    "product_id": line["product_id"],
                    "name": line["name"],
                    "product_uom_qty": self._qty(line),
                    self._move_uom(): line.get("product_uom_id") or line.get("product_uom") or 1,
                    "date": line.get("date_planned") or vals["scheduled_date"],
                    "origin": order["name"],
                    link: line["id"],
                },
            )
            for line in lines
        ]
        return pickings.create_many(
            [
                {
                    **vals,
                    "origin": order["name"],
                    "company_id": order["company_id"],
                    "move_ids": moves,
                }
            ]
        )[0]

    def _qty(self, line: dict) -> float:
        raise NotImplementedError

    def _check_unlink(self, ids: list[int]) -> None:
        for oid in ids:
            if self.table[oid]["state"] not in ("draft", "cancel"):
                raise UserError(self.unlink_refusal)

    unlink_refusal = ""


class _OrderLine(Model):
    _order = "order_id, sequence, id"
    order_model = ""
    qty_field = ""
    _defaults = {"sequence": 10, "discount": 0.0, "product_uom": 1, "product_uom_id": 1}

    def _prepare_create(self, row: dict, vals: dict) -> None:
        product = self.env.row("product.product", row.get("product_id"))
        if product:
            products = self.env["product.product"]
            if not row.get("name"):
                row["name"] = products.display_name(product)
            if "price_unit" not in vals:
                row["price_unit"] = products.get(product, self.price_source)
        self._amounts(row)

    price_source = "list_price"

    def _amounts(self, row: dict) -> None:
        subtotal = row[self.qty_field] * row["price_unit"] * (1 - (row["discount"] or 0) / 100)
        row.update(price_subtotal=subtotal, price_total=subtotal, price_tax=0.0)

    def _post_create(self, ids: list[int]) -> None:
        self.env[self.order_model].recompute_amounts(
            sorted({self.table[i]["order_id"] for i in ids})
        )

    def _post_write(self, ids: list[int], vals: dict) -> None:
        for i in ids:
            row = dict(self.table[i])
            self._amounts(row)
            self.store(i, {k: row[k] for k in ("price_subtotal", "price_total", "price_tax")})
        self._post_create(ids)

    @api_records
    def unlink(self, ids: Any) -> bool:
        orders = sorted({self.table[i]["order_id"] for i in as_ids(ids) if i in self.table})
        super().unlink(ids)
        self.env[self.order_model].recompute_amounts(orders)
        return True

    def _compute_state(self, row: dict) -> str:
        return self.env.row(self.order_model, row["order_id"])["state"]

    def _compute_currency_id(self, row: dict) -> int:
        return 1


@register("sale.order")
class SaleOrder(_Order):
    _order = "date_order desc, id desc"
    _inverse = {"order_line": "order_id", "picking_ids": "sale_id"}
    _tracked = ("partner_id", "state", "user_id")
    line_model = "sale.order.line"
    prefix = "S"
    unlink_refusal = (
        "You can not delete a sent quotation or a confirmed sales order. You must first cancel it."
    )
    _defaults = {
        "state": "draft",
        "company_id": 1,
        "currency_id": 1,
        "locked": False,
        "warehouse_id": WAREHOUSE,
        "picking_policy": "direct",
        "invoice_status": "no",
        "date_order": lambda self: self.env.now(),
        "user_id": lambda self: self.env.uid,
    }

    def _prepare_create(self, row: dict, vals: dict) -> None:
        super()._prepare_create(row, vals)
        for name in ("partner_invoice_id", "partner_shipping_id"):
            row[name] = row.get(name) or row.get("partner_id")

    def _compute_delivery_count(self, row: dict) -> int:
        return len(self.get(row, "picking_ids"))

    def _compute_expected_date(self, row: dict) -> str:
        return row.get("commitment_date") or row["date_order"]

    def _compute_partner_credit_warning(self, row: dict) -> str:
        """Community's warning text when the order would exceed the customer's credit limit."""
        company = self.env.row("res.company", row["company_id"])
        if row["state"] not in ("draft", "sent") or not company.get("account_use_credit_limit"):
            return ""
        partners = self.env["res.partner"]
        partner = partners.table[
            partners.get(partners.table[row["partner_id"]], "commercial_partner_id")
        ]
        if not partner.get("credit_limit"):
            return ""
        family = self.env.hierarchy("res.partner", [partner["id"]])
        to_invoice = sum(
            o["amount_total"]
            for o in self.table.values()
            if o["partner_id"] in family and o["state"] == "sale"
        )
        total = to_invoice + row["amount_total"]
        if total <= partner["credit_limit"]:
            return ""
        limit = _money(partner["credit_limit"])
        msg = f"{partner['name']} has reached its credit limit of: {limit}"
        if to_invoice > 0:
            return (
                f"{msg}\nTotal amount due (including sales orders and this document): "
                f"{_money(total)}"
            )
        return f"{msg}\nTotal amount due (including this document): {_money(total)}"

    def _qty(self, line: dict) -> float:
        return line["product_uom_qty"]

    @api_records
    def action_confirm(self, ids: Any) -> bool:
        ids = as_ids(ids)
        self._check_exist(ids)
        wrong = [
            self.table[i]["name"] for i in ids if self.table[i]["state"] not in ("draft", "sent")
        ]
        if wrong:
            raise UserError(
                "The following orders are not in a state requiring confirmation: "
                + ", ".join(wrong)
            )
        self.write(ids, {"state": "sale", "date_order": self.env.now()})
        for oid in ids:
            self._launch_delivery(self.table[oid])
        return True

    def _launch_delivery(self, order: dict) -> None:
        products = self.env["product.product"]
        lines = [
            line
            for line in self.lines(order["id"])
            if line.get("product_id")
            and products.get(products.table[line["product_id"]], "type") != "service"
        ]
        if not lines:
            return
        warehouse = self.env.row("stock.warehouse", order["warehouse_id"])
        start = parse_datetime(order.get("commitment_date") or order["date_order"])
        lead = max(line.get("customer_lead") or 0.0 for line in lines)
        scheduled = order.get("commitment_date") or format_datetime(start + timedelta(days=lead))
        picking = self._create_picking(
            order,
            {
                "picking_type_id": warehouse["out_type_id"],
                "location_id": warehouse["lot_stock_id"],
                "location_dest_id": CUSTOMERS,
                "partner_id": order["partner_shipping_id"],
                "scheduled_date": scheduled,
                "move_type": order["picking_policy"],
                "sale_id": order["id"],
                "date_deadline": order.get("commitment_date") or False,
            },
            lines,
            "sale_line_id",
        )
        self.env["stock.picking"].confirm([picking])
        self.refresh_delivery([order["id"]])

    def refresh_delivery(self, ids: list[int]) -> None:
        moves = self.env.db.tables["stock.move"]
        for oid in ids:
            pickings = [
                self.env.row("stock.picking", p) for p in self.get(self.table[oid], "picking_ids")
            ]
            states = {p["state"] for p in pickings} - {"cancel"}
            status = False
            if states:
                status = (
                    "full" if states == {"done"} else "partial" if "done" in states else "pending"
                )
            self.store(
                oid,
                {
                    "delivery_status": status,
                    "effective_date": min(
                        (p["date_done"] for p in pickings if p["date_done"]), default=False
                    ),
                },
            )
            for line in self.lines(oid):
                done = sum(
                    m["quantity"]
                    for m in moves.values()
                    if m.get("sale_line_id") == line["id"] and m["state"] == "done"
                )
                self.env["sale.order.line"].store(line["id"], {"qty_delivered": done})

    @api_records
    def action_cancel(self, ids: Any) -> bool:
        ids = as_ids(ids)
        pickings = [
            p
            for i in ids
            for p in self.get(self.table[i], "picking_ids")
            if self.env.row("stock.picking", p)["state"] != "done"
        ]
        self.env["stock.picking"].action_cancel(pickings)
        self.write(ids, {"state": "cancel"})
        return True

    @api_records
    def action_draft(self, ids: Any) -> bool:
        self.write(as_ids(ids), {"state": "draft"})
        return True

    @api_records
    def action_quotation_sent(self, ids: Any) -> bool:
        self.write([i for i in as_ids(ids) if self.table[i]["state"] == "draft"], {"state": "sent"})
        return True


@register("sale.order.line")
class SaleOrderLine(_OrderLine):
    order_model = "sale.order"
    qty_field = "product_uom_qty"
    _defaults = {**_OrderLine._defaults, "product_uom_qty": 1.0, "customer_lead": 0.0}
    _inverse = {"move_ids": "sale_line_id"}

    def _compute_order_partner_id(self, row: dict) -> int:
        return self.env.row("sale.order", row["order_id"])["partner_id"]


@register("purchase.order")
class PurchaseOrder(_Order):
    _order = "priority desc, id desc"
    _tracked = ("partner_id", "state", "user_id")
    line_model = "purchase.order.line"
    prefix = "P"
    unlink_refusal = "In order to delete a purchase order, you must cancel it first."
    _defaults = {
        "state": "draft",
        "company_id": 1,
        "currency_id": 1,
        "priority": "0",
        "picking_type_id": 1,
        "invoice_status": "no",
        "date_order": lambda self: self.env.now(),
        "user_id": lambda self: self.env.uid,
    }

    def _check_unlink(self, ids: list[int]) -> None:
        for oid in ids:
            if self.table[oid]["state"] != "cancel":
                raise UserError(self.unlink_refusal)

    def _post_create(self, ids: list[int]) -> None:
        for oid in ids:
            self._planned(oid)

    def _post_write(self, ids: list[int], vals: dict) -> None:
        if "date_planned" in vals:  # the form's onchange pushes the date to the lines
            for oid in ids:
                for line in self.lines(oid):
                    self.env["purchase.order.line"].store(
                        line["id"], {"date_planned": self.table[oid]["date_planned"]}
                    )

    def _planned(self, oid: int) -> None:
        order = self.table[oid]
        lines = self.lines(oid)
        if order.get("date_planned"):
            for line in lines:
                if not line.get("date_planned"):
                    self.env["purchase.order.line"].store(
                        line["id"], {"date_planned": order["date_planned"]}
                    )
        elif lines:
            self.store(oid, {"date_planned": min(line["date_planned"] for line in lines)})

    def _compute_picking_ids(self, row: dict) -> list[int]:
        return sorted(
            i
            for i, p in self.env.db.tables["stock.picking"].items()
            if p.get("purchase_id") == row["id"]
        )

    def _compute_incoming_picking_count(self, row: dict) -> int:
        return len(self._compute_picking_ids(row))

    def _compute_is_shipped(self, row: dict) -> bool:
        return row.get("receipt_status") == "full"

    def _qty(self, line: dict) -> float:
        return line["product_qty"]

    @api_records
    def button_confirm(self, ids: Any) -> bool:
        ids = as_ids(ids)
        self._check_exist(ids)
        todo = [i for i in ids if self.table[i]["state"] in ("draft", "sent")]
        self.write(todo, {"state": "purchase", "date_approve": self.env.now()})
        for oid in todo:
            self._create_receipt(self.table[oid])
        return True

    def _create_receipt(self, order: dict) -> None:
        lines = [line for line in self.lines(order["id"]) if line.get("product_id")]
        if not lines:
            return
        ptype = self.env.row("stock.picking.type", order["picking_type_id"])
        picking = self._create_picking(
            order,
            {
                "picking_type_id": ptype["id"],
                "location_id": VENDORS,
                "location_dest_id": ptype["default_location_dest_id"],
                "partner_id": order["partner_id"],
                "purchase_id": order["id"],
                "scheduled_date": order.get("date_planned") or self.env.now(),
                "user_id": False,
            },
            lines,
            "purchase_line_id",
        )
        self.env["stock.picking"].confirm([picking])
        self.refresh_receipt([order["id"]])

    def refresh_receipt(self, ids: list[int]) -> None:
        moves = self.env.db.tables["stock.move"]
        for oid in ids:
            pickings = [
                self.env.row("stock.picking", p) for p in self._compute_picking_ids(self.table[oid])
            ]
            states = {p["state"] for p in pickings} - {"cancel"}
            status = False
            if states:
                status = (
                    "full" if states == {"done"} else "partial" if "done" in states else "pending"
                )
            self.store(
                oid,
                {
                    "receipt_status": status,
                    "effective_date": min(
                        (p["date_done"] for p in pickings if p["date_done"]), default=False
                    ),
                },
            )
            for line in self.lines(oid):
                done = sum(
                    m["quantity"]
                    for m in moves.values()
                    if m.get("purchase_line_id") == line["id"] and m["state"] == "done"
                )
                self.env["purchase.order.line"].store(line["id"], {"qty_received": done})

    @api_records
    def button_cancel(self, ids: Any) -> bool:
        ids = as_ids(ids)
        pickings = [
            p
            for i in ids
            for p in self._compute_picking_ids(self.table[i])
            if self.env.row("stock.picking", p)["state"] != "done"
        ]
        self.env["stock.picking"].action_cancel(pickings)
        self.write(ids, {"state": "cancel"})
        return True


@register("purchase.order.line")
class PurchaseOrderLine(_OrderLine):
    order_model = "purchase.order"
    qty_field = "product_qty"
    price_source = "standard_price"
    _defaults = {**_OrderLine._defaults, "product_qty": 1.0}
    _inverse = {"move_ids": "purchase_line_id"}

    def _prepare_create(self, row: dict, vals: dict) -> None:
        super()._prepare_create(row, vals)
        row["product_uom_qty"] = row["product_qty"]
        order = self.env.row("purchase.order", row["order_id"])
        if not row.get("date_planned") and order:
            row["date_planned"] = order.get("date_planned") or self.env.now()

    def _compute_partner_id(self, row: dict) -> int:
        return self.env.row("purchase.order", row["order_id"])["partner_id"]


@register("account.move")
class AccountMove(Model):
    _order = "date desc, name desc, id desc"
    _mail_thread = True
    _defaults = {
        "state": "draft",
        "move_type": "entry",
        "journal_id": 1,
        "currency_id": 1,
        "company_id": 1,
        "name": "/",
        "payment_state": "not_paid",
        "date": lambda self: self.env.now()[:10],
    }
