"""Inventory: transfers, moves and quants, following Odoo 17's state machine.

A transfer (``stock.picking``) is ``draft`` until confirmed; confirmed moves of a delivery are
reserved at once (the picking types' ``reservation_method`` is 'at_confirm') against the
quants of the source location and its children: fully reserved moves are ``assigned``, partly
``partially_available``, else ``confirmed``.  With the default shipping policy "as soon as
possible" a transfer is ``assigned`` (Ready) as soon as one move has something reserved, and
``confirmed`` (Waiting) when nothing is.  Moves coming from a vendor location bypass
reservation.  ``button_validate`` moves the reserved quantities (quants decrease at the source,
increase at the destination), sets ``date_done`` and ``done``; with less than the demand
reserved it returns the backorder wizard action instead, and with nothing reserved it raises,
as Odoo does.  Inventory counts: ``inventory_quantity`` on a quant and
``action_apply_inventory``.
"""

from __future__ import annotations

from typing import Any

from .errors import AccessError, UserError
from .orm import Model, api_records, as_ids, register

CUSTOMERS, VENDORS, INVENTORY_LOSS = 5, 4, 14


def _internal(env: Any, location_id: int) -> bool:
    row = env.row("stock.location", location_id)
    return bool(row) and row["usage"] in ("internal", "transit")


@register("stock.picking")
class Picking(Model):
    _order = "priority desc, scheduled_date asc, id desc"
    _inverse = {"move_ids": "picking_id"}
    _tracked = ("state", "scheduled_date", "user_id", "partner_id")
    _mail_thread = True
    _defaults = {
        "state": "draft",
        "move_type": "direct",
        "priority": "0",
        "company_id": 1,
        "is_locked": True,
        "printed": False,
        "scheduled_date": lambda self: self.env.now(),
        "date": lambda self: self.env.now(),
    }

    def _prepare_create(self, row: dict, vals: dict) -> None:
        ptype = self.env.row("stock.picking.type", row.get("picking_type_id"))
        if ptype:
            if not row.get("location_id"):
                row["location_id"] = ptype["default_location_src_id"] or VENDORS
            if not row.get("location_dest_id"):
                row["location_dest_id"] = ptype["default_location_dest_id"] or CUSTOMERS
            if not row.get("name") or row["name"] == "/":
                row["name"] = self.env.server.sequence(
                    f"picking.{ptype['id']}", self._prefix(ptype), 5
                )

    def _prefix(self, ptype: dict) -> str:
        wh = self.env.row("stock.warehouse", ptype.get("warehouse_id"))
        return f"{wh['code']}/{ptype['sequence_code']}/" if wh else f"{ptype['sequence_code']}/"

    def _compute_picking_type_code(self, row: dict) -> str | bool:
        ptype = self.env.row("stock.picking.type", row.get("picking_type_id"))
        return ptype["code"] if ptype else False

    def _compute_products_availability_state(self, row: dict) -> str | bool:
        if row["state"] not in ("confirmed", "waiting", "assigned"):
            return False
        return "available" if row["state"] == "assigned" else "late"

    def moves(self, picking_id: int) -> list[dict]:
        return [
            m
            for m in self.env.db.tables["stock.move"].values()
            if m.get("picking_id") == picking_id
        ]

    def recompute_state(self, ids: list[int]) -> None:
        """Derive the transfer's state from its moves (``stock.picking._compute_state``)."""
        for pid in ids:
            moves = self.moves(pid)
            states = {m["state"] for m in moves}
            if not moves or "draft" in states:
                state = "draft"
            elif states == {"cancel"}:
                state = "cancel"
            elif states <= {"cancel", "done"}:
                state = "done"
            else:
                todo = [m for m in moves if m["state"] not in ("cancel", "done")]
                rank = {"assigned": 4, "waiting": 3, "partially_available": 2, "confirmed": 1}
                todo.sort(key=lambda m: rank.get(m["state"], 0))
                if self.table[pid]["move_type"] == "one":
                    state = (
                        "assigned"
                        if todo[0]["state"] == "assigned"
                        else "waiting"
                        if todo[0]["state"] == "waiting"
                        else "confirmed"
                    )
                else:
                    best = todo[-1]["state"]
                    state = "assigned" if best in ("assigned", "partially_available") else best
            if state != self.table[pid]["state"]:
                self.write([pid], {"state": state})

    @api_records
    def action_confirm(self, ids: Any) -> bool:
        return self.confirm(as_ids(ids))

    def confirm(self, ids: list[int]) -> bool:
        """Confirm and reserve the moves (what an order's confirmation does to its transfer:
        Odoo confirms the moves, not the transfer, so OCA's check on ``action_confirm`` is not
        run there)."""
        move_model = self.env["stock.move"]
        for pid in ids:
            drafts = [m["id"] for m in self.moves(pid) if m["state"] == "draft"]
            move_model.write(drafts, {"state": "confirmed"})
        move_model.reserve([m["id"] for pid in ids for m in self.moves(pid)])
        self.recompute_state(ids)
        return True

    @api_records
    def action_assign(self, ids: Any) -> bool:
        ids = as_ids(ids)
        self.env["stock.move"].reserve([m["id"] for pid in ids for m in self.moves(pid)])
        self.recompute_state(ids)
        return True

    @api_records
    def do_unreserve(self, ids: Any) -> bool:
        ids = as_ids(ids)
        self.env["stock.move"].unreserve([m["id"] for pid in ids for m in self.moves(pid)])
        self.recompute_state(ids)
        return True

    @api_records
    def button_validate(self, ids: Any) -> bool | dict:
        ids = as_ids(ids)
        self._check_exist(ids)
        moves = [m for pid in ids for m in self.moves(pid) if m["state"] not in ("done", "cancel")]
        if self.env.context.get("skip_backorder") is not True:
            if moves and all(m["quantity"] <= 0 for m in moves):
                raise UserError(
                    "You cannot validate a transfer if no quantities are reserved. "
                    "To force the transfer, encode quantities."
                )
            if any(m["quantity"] < m["product_uom_qty"] for m in moves):
                return {
                    "name": "Create Backorder?",
                    "type": "ir.actions.act_window",
                    "view_mode": "form",
                    "res_model": "stock.backorder.confirmation",
                    "views": [[False, "form"]],
                    "target": "new",
                    "context": {
                        "button_validate_picking_ids": ids,
                        "default_pick_ids": [[4, i] for i in ids],
                    },
                }
        self.env["stock.move"].done([m["id"] for m in moves])
        now = self.env.now()
        self.write(ids, {"date_done": now})
        self.recompute_state(ids)
        self.refresh_origins(ids)
        return True

    def refresh_origins(self, ids: list[int]) -> None:
        """Update the sales/purchase orders the transfers came from (delivered/received)."""
        rows = [self.table[i] for i in ids]
        sales = {r["sale_id"] for r in rows if r.get("sale_id")}
        purchases = {r["purchase_id"] for r in rows if r.get("purchase_id")}
        if sales:
            self.env["sale.order"].refresh_delivery(sorted(sales))
        if purchases:
            self.env["purchase.order"].refresh_receipt(sorted(purchases))

    @api_records
    def unlink(self, ids: Any) -> bool:
        """Odoo 17: a transfer cancels and deletes its moves first (done ones refuse)."""
        ids = as_ids(ids)
        moves = [m["id"] for pid in ids if pid in self.table for m in self.moves(pid)]
        live = [
            m for m in moves if self.env.row("stock.move", m)["state"] not in ("done", "cancel")
        ]
        self.env["stock.move"].unreserve(live)
        self.env["stock.move"].write(live, {"state": "cancel"})
        self.env["stock.move"].unlink(moves)
        return super().unlink(ids)

    @api_records
    def action_cancel(self, ids: Any) -> bool:
        ids = as_ids(ids)
        moves = [m["id"] for pid in ids for m in self.moves(pid) if m["state"] != "done"]
        self.env["stock.move"].unreserve(moves)
        self.env["stock.move"].write(moves, {"state": "cancel"})
        self.recompute_state(ids)
        self.refresh_origins(ids)
        return True


@register("stock.move")
class Move(Model):
    _order = "sequence, id"

    def _check_unlink(self, ids: list[int]) -> None:
        if any(self.table[i]["state"] not in ("draft", "cancel") for i in ids):
            raise UserError("You can only delete draft or cancelled moves.")

    _defaults = {
        "state": "draft",
        "procure_method": "make_to_stock",
        "company_id": 1,
        "priority": "0",
        "sequence": 10,
        "product_uom": 1,
        "uom_id": 1,
        "picked": False,
        "date": lambda self: self.env.now(),
    }

    def _prepare_create(self, row: dict, vals: dict) -> None:
        picking = self.env.row("stock.picking", row.get("picking_id"))
        if picking:
            for name in ("location_id", "location_dest_id", "picking_type_id", "partner_id"):
                row[name] = row.get(name) or picking[name]
            row["date"] = vals.get("date") or picking["scheduled_date"]
            row["origin"] = row.get("origin") or picking.get("origin")
        if not row.get("name") and row.get("product_id"):
            row["name"] = self.env.display_name("product.product", row["product_id"])
        row["product_qty"] = row.get("product_uom_qty", 0.0)

    def _compute_reference(self, row: dict) -> str | bool:
        picking = self.env.row("stock.picking", row.get("picking_id"))
        return picking["name"] if picking else row.get("name")

    def _compute_picking_code(self, row: dict) -> str | bool:
        ptype = self.env.row("stock.picking.type", row.get("picking_type_id"))
        return ptype["code"] if ptype else False

    def _quants(self, row: dict) -> list[dict]:
        family = self.env.hierarchy("stock.location", [row["location_id"]])
        quants = [
            q
            for q in self.env.db.tables["stock.quant"].values()
            if q["product_id"] == row["product_id"] and q["location_id"] in family
        ]
        return sorted(quants, key=lambda q: (q["in_date"] or "", q["id"]))  # FIFO removal

    def reserve(self, ids: list[int]) -> None:
        """``_action_assign``: reserve what the source location has, oldest quants first."""
        quant_model = self.env["stock.quant"]
        for mid in ids:
            row = self.table[mid]
            if row["state"] not in ("confirmed", "partially_available", "waiting"):
                continue
            if not _internal(self.env, row["location_id"]):
                self.write([mid], {"quantity": row["product_uom_qty"], "state": "assigned"})
                continue
            need = row["product_uom_qty"] - row["quantity"]
            for quant in self._quants(row):
                free = quant["quantity"] - quant["reserved_quantity"]
                take = min(free, need)
                if take > 0:
                    quant_model.store(
                        quant["id"], {"reserved_quantity": quant["reserved_quantity"] + take}
                    )
                    need -= take
            reserved = row["product_uom_qty"] - need
            state = (
                "assigned" if need <= 0 else "partially_available" if reserved > 0 else "confirmed"
            )
            self.write([mid], {"quantity": reserved, "state": state})

    def unreserve(self, ids: list[int]) -> None:
        for mid in ids:
            row = self.table[mid]
            if row["state"] in ("done", "cancel") or not _internal(self.env, row["location_id"]):
                continue
            self._release(row, row["quantity"])
            self.write([mid], {"quantity": 0.0, "state": "confirmed"})

    def _release(self, row: dict, qty: float) -> None:
        for quant in reversed(self._quants(row)):
            give = min(qty, quant["reserved_quantity"])
            if give > 0:
                self.env["stock.quant"].store(
                    quant["id"], {"reserved_quantity": quant["reserved_quantity"] - give}
                )
                qty -= give

    def done(self, ids: list[int]) -> None:
        """``_action_done``: move the quantities between locations' quants."""
        quants = self.env["stock.quant"]
        now = self.env.now()
        for mid in ids:
            row = self.table[mid]
            qty = row["quantity"]
            if _internal(self.env, row["location_id"]):
                self._release(row, qty)
                quants.add(row["product_id"], row["location_id"], -qty)
            if _internal(self.env, row["location_dest_id"]):
                quants.add(row["product_id"], row["location_dest_id"], qty)
            self.write([mid], {"state": "done", "date": now, "picked": True})


@register("stock.quant")
class Quant(Model):
    _defaults = {
        "in_date": lambda self: self.env.now(),
        "company_id": 1,
        "quantity": 0.0,
        "reserved_quantity": 0.0,
        "inventory_quantity_set": False,
    }

    def _check_unlink(self, ids: list[int]) -> None:
        # seen on a real Odoo 17: quants are Odoo's stock ledger, not a user's to delete
        raise AccessError("You are not allowed to delete 'Quants' (stock.quant) records.")

    def display_name(self, row: dict) -> str:
        return (
            f"{self.env.display_name('stock.location', row['location_id'])} - "
            f"{self.env.display_name('product.product', row['product_id'])}"
        )

    def _compute_available_quantity(self, row: dict) -> float:
        return row["quantity"] - row["reserved_quantity"]

    def _compute_inventory_diff_quantity(self, row: dict) -> float:
        return row["inventory_quantity"] - row["quantity"] if row["inventory_quantity_set"] else 0.0

    def _compute_product_uom_id(self, row: dict) -> int:
        return 1

    def _compute_warehouse_id(self, row: dict) -> int | bool:
        return self.env.row("stock.location", row["location_id"]).get("warehouse_id") or False

    def create_many(self, vals_list: list[dict]) -> list[int]:
        """In ``inventory_mode`` a count on an existing quant updates it instead (Odoo 17)."""
        if not self.env.context.get("inventory_mode"):
            return super().create_many(vals_list)
        ids = []
        for vals in vals_list:
            if "inventory_quantity" not in vals:
                ids += super().create_many([vals])
                continue
            found = self._search(
                [
                    ("product_id", "=", vals.get("product_id")),
                    ("location_id", "=", vals.get("location_id")),
                ],
                limit=1,
            )
            qid = (
                found[0]
                if found
                else super().create_many(
                    [{k: v for k, v in vals.items() if k != "inventory_quantity"}]
                )[0]
            )
            self.write([qid], {"inventory_quantity": vals["inventory_quantity"]})
            ids.append(qid)
        return ids

    def _post_write(self, ids: list[int], vals: dict) -> None:
        if "inventory_quantity" in vals and "inventory_quantity_set" not in vals:
            for qid in ids:
                self.store(
                    qid,
                    {
                        "inventory_quantity_set": True,
                        "inventory_date": self.env.now()[:10],
                        "user_id": self.env.uid,
                    },
                )

    def add(self, product_id: int, location_id: int, qty: float) -> None:
        found = self._search(
            [("product_id", "=", product_id), ("location_id", "=", location_id)], limit=1
        )
        if found:
            row = self.table[found[0]]
            self.store(found[0], {"quantity": row["quantity"] + qty})
        else:
            self.create_many(
                [{"product_id": product_id, "location_id": location_id, "quantity": qty}]
            )

    @api_records
    def action_apply_inventory(self, ids: Any) -> None:
        """Post the counted quantities: an inventory move per quant, then reset the count."""
        moves = self.env["stock.move"]
        for qid in as_ids(ids):
            row = self.table[qid]
            if not row["inventory_quantity_set"]:
                continue
            diff = row["inventory_quantity"] - row["quantity"]
            src, dest = (
                (INVENTORY_LOSS, row["location_id"])
                if diff > 0
                else (row["location_id"], INVENTORY_LOSS)
            )
            moves.create_many(
                [
                    {
                        "name": "Product Quantity Updated",
                        "product_id": row["product_id"],
                        "product_uom_qty": abs(diff),
                        "quantity": abs(diff),
                        "location_id": src,
                        "location_dest_id": dest,
                        "is_inventory": True,
                        "state": "done",
                        "date": self.env.now(),
                    }
                ]
            )
            self.store(
                qid,
                {
                    "quantity": row["inventory_quantity"],
                    "inventory_quantity": 0.0,
                    "inventory_quantity_set": False,
                    "last_count_date": self.env.now()[:10],
                },
            )
        return None
