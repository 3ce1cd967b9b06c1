"""The OCA exception and tier-validation modules through JSON-RPC, as exsim talks to Odoo.

Each test runs on the test server with the modules (``OdooTestServer(oca=True)``) and, with
``EXSIM_ODOO_*`` set, on a real Odoo 17 that has them (``tools/real-odoo17-oca``; ``-n 0``):
the assertions are what the real modules do.  Every record a test makes is tagged with a
unique reference and removed afterwards (rules and definitions first, so nothing blocks the
other tests).  The demo user (``demo``/``demo``) is the reviewer: a review the confirming user
may do himself is approved on the way (see ``test_own_review_is_approved_on_confirmation``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import odoorpc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.odoo_server import OdooTestServer
from tests.odoo_server.oca import MODULES

pytestmark = pytest.mark.odoo_live


def rpc_error(client: odoorpc.ODOO, *args: object, **kwargs: object) -> tuple[str, str]:
    """(exception name, message) of a call that must fail."""
    with pytest.raises(odoorpc.error.RPCError) as info:
        client.execute_kw(*args, **kwargs)
    data = info.value.info["data"]
    return data["name"], data["message"]


class Desk:
    """A connection plus the records one test made, removed in dependency order."""

    def __init__(self, settings) -> None:
        self.admin = settings.connect()
        demo = type(settings)(**{**settings.__dict__, "user": "demo", "password": "demo"})
        self.demo = demo.connect()
        self.ref = f"exsim-oca-{uuid.uuid4().hex[:8]}"
        self.made: dict[str, list[int]] = {}
        self.partner = self.create("res.partner", {"name": f"{self.ref} partner", "zip": "1000"})
        stocked = {"type": "product"}  # up to 17; from 18 a storable consumable
        if "is_storable" in self.x("product.product", "fields_get", attributes=["type"]):
            stocked = {"type": "consu", "is_storable": True}
        self.product = self.create(
            "product.product", {"name": f"{self.ref} product", "list_price": 10.0, **stocked}
        )

    def x(self, model: str, method: str, *args: object, **kwargs: object) -> object:
        return self.admin.execute_kw(model, method, list(args), kwargs)

    def create(self, model: str, vals: dict) -> int:
        new = self.x(model, "create", vals)
        self.made.setdefault(model, []).append(new)
        return new

    def read1(self, model: str, rid: int, fields: list[str]) -> dict:
        return self.x(model, "read", [rid], fields=fields)[0]

    def rule(self, model: str, **vals: object) -> int:
        return self.create(
            "exception.rule",
            {
                "name": f"{self.ref} {model}",
                "description": "exsim test rule",
                "model": model,
                **vals,
            },
        )

    def tier(self, model: str, **vals: object) -> int:
        model_id = self.x("ir.model", "search", [("model", "=", model)])[0]
        field = "client_order_ref" if model == "sale.order" else "partner_ref"
        return self.create(
            "tier.definition",
            {
                "name": f"{self.ref} tier",
                "model_id": model_id,
                "review_type": "individual",
                "reviewer_id": self.demo.env.uid,
                "definition_domain": repr([(field, "=", self.ref)]),
                **vals,
            },
        )

    def sale(self, qty: float = 1.0, tagged: bool = True) -> int:
        vals = {
            "partner_id": self.partner,
            "order_line": [(0, 0, {"product_id": self.product, "product_uom_qty": qty})],
        }
        return self.create("sale.order", {**vals, "client_order_ref": self.ref if tagged else ""})

    def purchase(self) -> int:
        line = {"product_id": self.product, "product_qty": 2.0, "price_unit": 5.0}
        return self.create(
            "purchase.order",
            {"partner_id": self.partner, "partner_ref": self.ref, "order_line": [(0, 0, line)]},
        )

    def cleanup(self) -> None:
        """Rules first (nothing blocks any more), then the documents (cancelling drops their
        reviews, which would block writes even without their definition); a done transfer and
        its purchase stay (Odoo keeps them), so the partner and product are archived."""
        if self.made.get("exception.rule"):
            self.x("exception.rule", "unlink", self.made["exception.rule"])
        mine = [("partner_id", "=", self.partner)]
        orders = {m: self.x(m, "search", mine) for m in ("sale.order", "purchase.order")}
        for model, cancel in (("sale.order", "action_cancel"), ("purchase.order", "button_cancel")):
            for order in list(orders[model]):  # cancelling also deletes their reviews
                try:
                    self.x(model, cancel, [order], context={"disable_cancel_warning": True})
                except odoorpc.error.RPCError:  # a purchase already received: Odoo keeps it
                    orders[model].remove(order)
        if self.made.get("tier.definition"):
            self.x("tier.definition", "unlink", self.made["tier.definition"])
        pickings = self.x("stock.picking", "search", [*mine, ("state", "!=", "done")])
        if pickings:
            self.x("stock.picking", "action_cancel", pickings)
            self.x("stock.picking", "unlink", pickings)
        for model, ids in orders.items():
            if ids:
                self.x(model, "unlink", ids)
        self.x("product.product", "write", [self.product], {"active": False})
        self.x("res.partner", "write", [self.partner], {"active": False})


@pytest.fixture
def desk(oca_settings) -> Iterator[Desk]:
    d = Desk(oca_settings)
    try:
        yield d
    finally:
        d.cleanup()


# ---------------------------------------------------------------- modules
def test_the_modules_are_installed_and_ship_no_active_rule(desk: Desk) -> None:
    installed = desk.x(
        "ir.module.module", "search_read", [("name", "in", list(MODULES))], fields=["state"]
    )
    assert sorted(m["state"] for m in installed) == ["installed"] * len(MODULES)
    assert desk.x("exception.rule", "search", [("name", "not like", "exsim")]) == []
    assert desk.x("tier.definition", "search", [("name", "not like", "exsim")]) == []


def test_without_the_modules_there_is_no_exception_rule() -> None:
    with OdooTestServer(oca=False) as server:
        client = odoorpc.ODOO("127.0.0.1", port=server.port, protocol="jsonrpc")
        client.login(server.db_name, "admin", "admin")
        mods = client.execute_kw("ir.module.module", "search", [[("name", "in", list(MODULES))]])
        assert mods == []
        name, _ = rpc_error(client, "exception.rule", "search", [[]])
        assert name == "odoo.exceptions.UserError"
        # and a confirmation is not gated: no exception, no review
        assert "exception_ids" not in client.execute_kw("sale.order", "fields_get", [])


# ---------------------------------------------------------------- exception rules
def test_a_sale_rule_blocks_confirmation_until_ignored(desk: Desk) -> None:
    rule = desk.rule(
        "sale.order", exception_type="by_domain", domain=repr([("client_order_ref", "=", desk.ref)])
    )
    other = desk.sale(tagged=False)  # the rule's domain does not match it
    assert desk.x("sale.order", "action_confirm", [other]) is True
    order = desk.sale()
    popup = desk.x("sale.order", "action_confirm", [order])
    assert popup["type"] == "ir.actions.act_window"
    assert popup["res_model"] == "sale.exception.confirm"
    assert popup["context"]["active_ids"] == [order]
    seen = desk.read1("sale.order", order, ["state", "exception_ids", "main_exception_id"])
    assert seen["state"] == "draft"  # blocked, but what was detected is kept
    assert seen["exception_ids"] == [rule] and seen["main_exception_id"][0] == rule
    assert desk.read1("exception.rule", rule, ["sale_ids"])["sale_ids"] == [order]
    desk.x("sale.order", "write", [order], {"ignore_exception": True})  # the waiver
    assert desk.x("sale.order", "action_confirm", [order]) is True
    seen = desk.read1("sale.order", order, ["state", "exception_ids", "main_exception_id"])
    assert seen == {"id": order, "state": "sale", "exception_ids": [], "main_exception_id": False}
    # un-waiving a confirmed order re-checks it, and the rule still fails
    name, message = rpc_error(
        desk.admin, "sale.order", "write", [[order], {"ignore_exception": False}]
    )
    assert name == "odoo.exceptions.ValidationError"
    assert message == f"{desk.ref} sale.order: exsim test rule"


def test_the_draft_order_job_detects_on_every_draft(desk: Desk) -> None:
    rule = desk.rule("purchase.order", code=f"failed = self.partner_ref == {desk.ref!r}")
    order = desk.purchase()
    assert desk.read1("purchase.order", order, ["exception_ids"])["exception_ids"] == []
    assert desk.x("purchase.order", "test_all_draft_orders") is True
    assert desk.read1("purchase.order", order, ["exception_ids"])["exception_ids"] == [rule]


def test_a_blocking_rule_cannot_be_ignored_and_a_reset_order_is_checked_again(
    desk: Desk,
) -> None:
    scope = repr([("client_order_ref", "=", desk.ref)])
    blocking = desk.rule("sale.order", exception_type="by_domain", domain=scope, is_blocking=True)
    order = desk.sale()
    desk.x("sale.order", "action_confirm", [order])
    name, message = rpc_error(desk.admin, "sale.order", "action_ignore_exceptions", [[order]])
    assert (name, message) == (
        "odoo.exceptions.UserError",
        "The exceptions can not be ignored, because some of them are blocking.",
    )
    desk.x("exception.rule", "write", [blocking], {"is_blocking": False})
    assert desk.x("sale.order", "action_ignore_exceptions", [order]) is True
    assert desk.x("sale.order", "action_confirm", [order]) is True
    desk.x("sale.order", "action_cancel", [order], context={"disable_cancel_warning": True})
    desk.x("sale.order", "action_draft", [order])  # back to a quotation: the waiver is gone
    seen = desk.read1("sale.order", order, ["state", "ignore_exception"])
    assert seen == {"id": order, "state": "draft", "ignore_exception": False}
    assert desk.x("sale.order", "action_confirm", [order])["res_model"] == "sale.exception.confirm"


def test_a_purchase_rule_in_python_blocks_its_confirmation(desk: Desk) -> None:
    desk.rule("purchase.order", code=f"failed = self.partner_ref == {desk.ref!r}")
    order = desk.purchase()
    popup = desk.x("purchase.order", "button_confirm", [order])
    assert popup["res_model"] == "purchase.exception.confirm"
    assert desk.read1("purchase.order", order, ["state"])["state"] == "draft"
    desk.x("purchase.order", "write", [order], {"ignore_exception": True})
    assert desk.x("purchase.order", "button_confirm", [order]) is True
    assert desk.read1("purchase.order", order, ["state"])["state"] == "purchase"


def test_a_line_rule_is_reported_on_the_order_and_clears_when_fixed(desk: Desk) -> None:
    rule = desk.rule(
        "sale.order.line",
        exception_type="by_domain",
        domain=repr([("product_uom_qty", ">", 5), ("order_id.client_order_ref", "=", desk.ref)]),
    )
    order = desk.sale(qty=10)
    assert desk.x("sale.order", "detect_exceptions", [order]) == [rule]
    line = desk.read1("sale.order", order, ["order_line"])["order_line"][0]
    assert desk.read1("sale.order.line", line, ["exception_ids"])["exception_ids"] == [rule]
    assert desk.read1("sale.order", order, ["exception_ids"])["exception_ids"] == [rule]
    desk.x("sale.order.line", "write", [line], {"product_uom_qty": 2})
    assert desk.x("sale.order", "action_confirm", [order]) is True
    assert desk.read1("sale.order", order, ["exception_ids"])["exception_ids"] == []


def test_a_rule_on_deliveries_makes_the_sale_confirmation_fail(desk: Desk) -> None:
    desk.rule("stock.picking", code=f"failed = self.partner_id.name == '{desk.ref} partner'")
    order = desk.sale()
    name, message = rpc_error(desk.admin, "sale.order", "action_confirm", [[order]])
    assert (name, message) == (
        "odoo.exceptions.ValidationError",
        f"{desk.ref} stock.picking: exsim test rule",
    )
    seen = desk.read1("sale.order", order, ["state", "picking_ids"])
    assert seen["state"] == "draft" and seen["picking_ids"] == []  # all rolled back


def test_a_transfer_rule_gates_validation(desk: Desk) -> None:
    order = desk.purchase()
    desk.x("purchase.order", "button_confirm", [order])
    (receipt,) = desk.read1("purchase.order", order, ["picking_ids"])["picking_ids"]
    # a rule added afterwards: checked when the receipt is validated
    desk.rule("stock.picking", code=f"failed = self.id == {receipt}")
    popup = desk.x("stock.picking", "button_validate", [receipt])
    assert popup["res_model"] == "stock.exception.confirm"
    seen = desk.read1("stock.picking", receipt, ["state", "exception_ids"])
    assert seen["state"] == "assigned" and len(seen["exception_ids"]) == 1
    desk.x("stock.picking", "write", [receipt], {"ignore_exception": True})
    assert desk.x("stock.picking", "button_validate", [receipt]) is True
    assert desk.read1("stock.picking", receipt, ["state"])["state"] == "done"


def test_rule_configuration_and_evaluation_errors(desk: Desk) -> None:
    name, message = rpc_error(
        desk.admin,
        "exception.rule",
        "create",
        [{"name": f"{desk.ref} bad", "model": "sale.order", "exception_type": "by_domain"}],
    )
    assert name == "odoo.exceptions.ValidationError"
    assert message.startswith("There is a problem of configuration, python code, domain")
    desk.rule("sale.order", code="failed = self.no_such_field")
    order = desk.sale()
    name, message = rpc_error(desk.admin, "sale.order", "action_confirm", [[order]])
    assert name == "odoo.exceptions.UserError"
    assert message.startswith(f"Error when evaluating the exception.rule rule:\n {desk.ref}")
    assert "'sale.order' object has no attribute 'no_such_field'" in message


def test_only_exception_managers_write_rules(desk: Desk) -> None:
    name, message = rpc_error(
        desk.demo,
        "exception.rule",
        "create",
        [{"name": f"{desk.ref} demo", "model": "sale.order", "code": "failed = False"}],
    )
    assert name == "odoo.exceptions.AccessError"
    assert "Exception manager" in message


# ---------------------------------------------------------------- tier validation
def test_a_purchase_needing_validation_is_refused_until_reviewed(desk: Desk) -> None:
    desk.tier("purchase.order")
    order = desk.purchase()
    seen = desk.read1("purchase.order", order, ["need_validation", "validation_status"])
    assert seen["need_validation"] is True and seen["validation_status"] == "no"
    name, message = rpc_error(desk.admin, "purchase.order", "button_confirm", [[order]])
    assert name == "odoo.exceptions.ValidationError"
    assert message == (
        "This action needs to be validated for at least one record. Reviews pending:\n"
        f" - {desk.ref} tier \nPlease request a validation."
    )
    assert desk.read1("purchase.order", order, ["review_ids"])["review_ids"] == []  # rolled back
    made = desk.x("purchase.order", "request_validation", [order])
    assert re.fullmatch(r"tier\.review\(\d+,\)", made)
    seen = desk.read1(
        "purchase.order", order, ["review_ids", "validation_status", "reviewer_ids", "next_review"]
    )
    assert seen["validation_status"] == "pending"
    assert seen["reviewer_ids"] == [desk.demo.env.uid]
    assert seen["next_review"] == f"Next: {desk.ref} tier"
    (review,) = seen["review_ids"]
    fields = ["status", "sequence", "requested_by", "done_by", "model", "res_id", "create_date"]
    got = desk.read1("tier.review", review, fields)
    assert got["status"] == "pending" and got["sequence"] == 1
    assert got["requested_by"][0] == desk.admin.env.uid and got["done_by"] is False
    assert (got["model"], got["res_id"]) == ("purchase.order", order) and got["create_date"]
    name, message = rpc_error(desk.admin, "purchase.order", "write", [[order], {"notes": "x"}])
    assert message.startswith("You are not allowed to write those fields under validation.")
    name, message = rpc_error(desk.admin, "purchase.order", "button_confirm", [[order]])
    assert message == "A validation process is still open for at least one record."
    assert desk.demo.execute_kw("purchase.order", "validate_tier", [[order]]) is None
    got = desk.read1("tier.review", review, ["status", "done_by", "reviewed_date"])
    assert got["status"] == "approved" and got["done_by"][0] == desk.demo.env.uid
    assert got["reviewed_date"]
    assert desk.read1("purchase.order", order, ["validated"])["validated"] is True
    assert desk.x("purchase.order", "button_confirm", [order]) is True
    assert desk.read1("purchase.order", order, ["state"])["state"] == "purchase"


def test_a_rejected_sale_stays_blocked_until_restarted(desk: Desk) -> None:
    # the admin reviews: the demo user of a real demo database has no access to sales orders
    desk.tier("sale.order", reviewer_id=desk.admin.env.uid)
    order = desk.sale()
    desk.x("sale.order", "request_validation", [order])
    desk.x("sale.order", "reject_tier", [order])
    seen = desk.read1("sale.order", order, ["validation_status", "rejected", "review_ids"])
    assert seen["validation_status"] == "rejected" and seen["rejected"] is True
    name, message = rpc_error(desk.admin, "sale.order", "action_confirm", [[order]])
    assert message == "A validation process is still open for at least one record."
    desk.x("sale.order", "restart_validation", [order])
    seen = desk.read1("sale.order", order, ["validation_status", "review_ids", "need_validation"])
    assert seen == {
        "id": order,
        "validation_status": "no",
        "review_ids": [],
        "need_validation": True,
    }


def test_reviews_in_sequence_come_one_after_the_other(desk: Desk) -> None:
    first = desk.tier("purchase.order", sequence=30, approve_sequence=True)
    second = desk.tier("purchase.order", sequence=20, approve_sequence=True, name=f"{desk.ref} 2")
    order = desk.purchase()
    desk.x("purchase.order", "request_validation", [order])
    reviews = desk.x(
        "tier.review",
        "search_read",
        [("res_id", "=", order), ("model", "=", "purchase.order")],
        fields=["definition_id", "sequence", "status"],
        order="sequence",
    )
    # the highest definition sequence is reviewed first
    assert [(r["definition_id"][0], r["sequence"], r["status"]) for r in reviews] == [
        (first, 1, "pending"),
        (second, 2, "waiting"),
    ]
    desk.demo.execute_kw("purchase.order", "validate_tier", [[order]])
    statuses = [desk.read1("tier.review", r["id"], ["status"])["status"] for r in reviews]
    assert statuses == ["approved", "pending"]
    assert desk.read1("purchase.order", order, ["validation_status"])["validation_status"] == (
        "pending"
    )
    desk.demo.execute_kw("purchase.order", "validate_tier", [[order]])
    assert desk.read1("purchase.order", order, ["validated"])["validated"] is True


def test_own_review_is_approved_on_confirmation(desk: Desk) -> None:
    desk.tier("purchase.order", reviewer_id=desk.admin.env.uid)
    order = desk.purchase()
    assert desk.x("purchase.order", "button_confirm", [order]) is True
    seen = desk.read1("purchase.order", order, ["state", "validation_status", "review_ids"])
    assert seen["state"] == "purchase" and seen["validation_status"] == "validated"
    review = desk.read1("tier.review", seen["review_ids"][0], ["status", "done_by"])
    assert review["status"] == "approved" and review["done_by"][0] == desk.admin.env.uid


def test_a_group_of_reviewers(desk: Desk) -> None:
    (group,) = desk.x("res.groups", "search", [("name", "=", "Settings")])
    desk.tier("purchase.order", review_type="group", reviewer_id=False, reviewer_group_id=group)
    order = desk.purchase()
    desk.x("purchase.order", "request_validation", [order])
    (review,) = desk.read1("purchase.order", order, ["review_ids"])["review_ids"]
    got = desk.read1("tier.review", review, ["reviewer_ids", "todo_by"])
    assert desk.admin.env.uid in got["reviewer_ids"]
    assert desk.demo.env.uid not in got["reviewer_ids"]
    assert got["todo_by"] == "Group Settings"
    assert desk.read1("purchase.order", order, ["can_review"])["can_review"] is True


def test_an_exception_on_an_order_under_validation_cannot_be_recorded(desk: Desk) -> None:
    desk.tier("sale.order")
    desk.rule(
        "sale.order", exception_type="by_domain", domain=repr([("client_order_ref", "=", desk.ref)])
    )
    order = desk.sale()
    desk.x("sale.order", "request_validation", [order])
    name, message = rpc_error(desk.admin, "sale.order", "action_confirm", [[order]])
    assert name == "odoo.exceptions.ValidationError"
    assert message == (
        "You are not allowed to write those fields under validation.\n- Exceptions\n\n"
        "Only those fields can be modified:\n- Followers\n- Security Token"
    )


# ---------------------------------------------------------------- invariant (test server)
_SERVER: list[OdooTestServer] = []


@settings(max_examples=30, deadline=None)
@given(
    rules=st.lists(
        st.tuples(st.integers(0, 3), st.booleans(), st.integers(1, 99)), min_size=0, max_size=4
    ),
    refs=st.lists(st.integers(0, 3), min_size=1, max_size=4),
    ignored=st.booleans(),
)
def test_detection_links_exactly_the_failing_active_rules(rules, refs, ignored) -> None:
    """Whatever was linked before, ``detect_exceptions`` leaves each order linked to exactly
    the active rules its reference fails (none when waived), archived rules' links untouched
    (Odoo only looks at active rules); confirming is refused exactly when one fails."""
    if not _SERVER:
        _SERVER.append(OdooTestServer(oca=True))
    env = _SERVER[0].env(2)
    tag = uuid.uuid4().hex[:6]
    partner = env["res.partner"].create({"name": tag})
    sales = env["sale.order"]
    orders = [sales.create({"partner_id": partner, "client_order_ref": f"{tag}{r}"}) for r in refs]
    made = [
        (
            env["exception.rule"].create(
                {
                    "name": f"{tag} {i}",
                    "model": "sale.order",
                    "exception_type": "by_domain",
                    "domain": repr([("client_order_ref", "=", f"{tag}{ref}")]),
                    "active": active,
                    "sequence": seq,
                }
            ),
            ref,
            active,
        )
        for i, (ref, active, seq) in enumerate(rules)
    ]
    stale = [rid for rid, _, _ in made]
    sales.store(orders[0], {"exception_ids": stale})  # links left from an earlier check
    if ignored:
        sales.write(orders, {"ignore_exception": True})
    try:
        for order, ref in zip(orders, refs, strict=True):
            failing = sorted(rid for rid, r, on in made if on and r == ref and not ignored)
            kept = [rid for rid, _, on in made if not on and order == orders[0]]
            assert sorted(sales.detect_exceptions([order])) == failing
            assert sorted(sales.table[order]["exception_ids"]) == sorted(failing + kept)
            assert (sales.action_confirm([order]) is not True) == bool(failing)
    finally:
        env["exception.rule"].write(stale, {"active": False})
