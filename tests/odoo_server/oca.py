"""The OCA exception and tier-validation modules on sales, purchases and transfers (17.0).

Served when the server runs with ``oca=True`` (``OdooTestServer(oca=True)`` or
``EXSIM_TEST_ODOO_OCA=1``): ``ir.module.module`` then lists the seven modules installed, the
fields come from ``tests/data/oca17`` (read off a real 17.0 with them) and the classes below
replace the plain sale, purchase and transfer models.  Semantics read in the modules' sources
(OCA/server-tools ``base_exception``, OCA/server-ux ``base_tier_validation``, and the
``sale_``/``purchase_``/``stock_`` glue in sale-workflow, purchase-workflow,
stock-logistics-workflow) and checked against a real server (``tests/test_odoo_oca.py``).
"""

from __future__ import annotations

from typing import Any

from .exceptions import (
    EXCEPTION_MANAGER,
    ExceptionDocument,
    ExceptionLine,
    recordset_repr,
    user_groups,
)
from .models import Users
from .orm import api_model, api_records, as_ids, register
from .stock import Move, Picking
from .tiers import TierValidated
from .workflows import PurchaseOrder, PurchaseOrderLine, SaleOrder, SaleOrderLine

__all__ = ["EXCEPTION_MANAGER", "MODULES"]
MODULES = (
    "base_exception",
    "sale_exception",
    "purchase_exception",
    "stock_exception",
    "base_tier_validation",
    "sale_tier_validation",
    "purchase_tier_validation",
)


class ReviewedOrder(ExceptionDocument, TierValidated):
    """An order under both modules: a write is checked against open reviews first, and the
    order's exceptions are checked again after it."""

    @api_records
    def write(self, ids: Any, vals: dict) -> bool:
        ids = as_ids(ids)
        self._check_exist(ids)
        self._tier_checks(ids, vals)
        super().write(ids, vals)
        self._recheck(ids, vals)
        return True


@register("sale.order", oca=True)
class OcaSaleOrder(ReviewedOrder, SaleOrder):
    line_model = "sale.order.line"
    line_parent = "order_id"
    lines_keep_exceptions = True
    check_states = ("sale",)
    state_from = ("draft", "sent")
    state_to = ("sale",)

    @api_records
    def action_confirm(self, ids: Any) -> bool | dict:
        ids = as_ids(ids)
        if self.detect_exceptions(ids):
            return self._blocked(ids)
        return super().action_confirm(ids)

    @api_model
    def test_all_draft_orders(self) -> bool:
        """What the modules' (archived) "Test Draft Orders" jobs run: detect on every draft."""
        self.detect_exceptions(self._search([("state", "=", "draft")]))
        return True

    @api_records
    def action_draft(self, ids: Any) -> bool:
        ids = as_ids(ids)
        super().action_draft(ids)
        ignored = [i for i in ids if self.table[i]["ignore_exception"]]
        if ignored:
            self.write(ignored, {"ignore_exception": False})
        return True

    def _check_unlink(self, ids: list[int]) -> None:
        super()._check_unlink(ids)
        self._drop_reviews(ids)


@register("purchase.order", oca=True)
class OcaPurchaseOrder(ReviewedOrder, PurchaseOrder):
    line_model = "purchase.order.line"
    line_parent = "order_id"
    check_states = ("purchase",)
    state_from = ("draft", "sent", "to approve")
    state_to = ("purchase", "approved")

    @api_model
    def test_all_draft_orders(self) -> bool:
        self.detect_exceptions(self._search([("state", "=", "draft")]))
        return True

    @api_records
    def button_confirm(self, ids: Any) -> bool | dict:
        ids = as_ids(ids)
        if self.detect_exceptions(ids):
            if len(ids) > 1:  # ``self.ignore_exception`` on several orders
                raise ValueError(f"Expected singleton: {recordset_repr(self._name, ids)}")
            if not self.table[ids[0]]["ignore_exception"]:
                return self._blocked(ids)
        return super().button_confirm(ids)

    def _check_unlink(self, ids: list[int]) -> None:
        super()._check_unlink(ids)
        self._drop_reviews(ids)


@register("stock.picking", oca=True)
class OcaPicking(ExceptionDocument, Picking):
    line_model = "stock.move"
    line_parent = "picking_id"
    check_states = ("waiting", "confirmed", "assigned")
    check_fields = ("ignore_exception", "move_ids", "state")

    def create_many(self, vals_list: list[dict]) -> list[int]:
        ids = super().create_many(vals_list)
        self._recheck(ids, {"state": True})
        return ids

    @api_records
    def write(self, ids: Any, vals: dict) -> bool:
        ids = as_ids(ids)
        super().write(ids, vals)
        self._recheck(ids, vals)
        return True

    @api_model
    def test_all_draft_pickings(self) -> bool:
        self.detect_exceptions(self._search([("state", "=", "draft")]))
        return True

    def _gate(self, ids: list[int]) -> dict | None:
        for pid in ids:
            if self.detect_exceptions([pid]) and not self.table[pid]["ignore_exception"]:
                return self._blocked([pid])
        return None

    @api_records
    def action_confirm(self, ids: Any) -> bool | dict:
        return self._gate(as_ids(ids)) or super().action_confirm(ids)

    @api_records
    def button_validate(self, ids: Any) -> bool | dict:
        return self._gate(as_ids(ids)) or super().button_validate(ids)


@register("sale.order.line", oca=True)
class OcaSaleOrderLine(ExceptionLine, SaleOrderLine):
    parent_field = "order_id"

    def _compute_is_exception_danger(self, row: dict) -> bool:
        return bool(row.get("exception_ids")) and not self._compute_ignore_exception(row)


@register("purchase.order.line", oca=True)
class OcaPurchaseOrderLine(ExceptionLine, PurchaseOrderLine):
    parent_field = "order_id"


@register("stock.move", oca=True)
class OcaMove(ExceptionLine, Move):
    parent_field = "picking_id"


@register("res.users", oca=True)
class OcaUsers(Users):
    """Users with their groups and the tier reviews they may do."""

    def _compute_groups_id(self, row: dict) -> list[int]:
        return sorted(user_groups(self.env, row["id"]))

    def _compute_review_ids(self, row: dict) -> list[int]:
        reviews = self.env["tier.review"]
        return sorted(i for i, r in reviews.table.items() if row["id"] in reviews.reviewers(r))
