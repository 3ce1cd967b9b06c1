"""The Odoo test server, driven through the real odoorpc client, in its 17/18/19 modes.

Tests marked ``odoo_live`` also run against a real Odoo 17 or 18 (set EXSIM_ODOO_*); each creates
uniquely named records and removes the automation rules it made, so reruns stay clean. Where
versions differ (the private-method message, ``env.ref`` on an archived record, how a stocked
product is declared) the tests expect what each version does, read from the server's version.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import odoorpc
import pytest

from tests.odoo_server.clock import format_datetime, parse_datetime
from tests.odoo_server.plugin import OdooSettings

live = pytest.mark.odoo_live
ERROR_KEYS = {"name", "debug", "message", "arguments", "context"}


@pytest.fixture
def tag() -> str:
    return f"exsim-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def cleanup(odoo: odoorpc.ODOO):
    """Unlink what a test registers, last first (rules before the records they watch)."""
    todo: list[tuple[str, list[int]]] = []
    yield lambda model, ids: todo.append((model, ids if isinstance(ids, list) else [ids]))
    for model, ids in reversed(todo):
        with contextlib.suppress(odoorpc.error.RPCError):
            odoo.execute_kw(model, "unlink", [ids])


def rpc_error(odoo: odoorpc.ODOO, *args: object, password: str | None = None) -> dict:
    """Call execute_kw through raw JSON-RPC and return the error object."""
    params = {
        "service": "object",
        "method": "execute_kw",
        "args": [odoo.env.db, odoo.env.uid, password or odoo._password, *args],
    }
    with pytest.raises(odoorpc.error.RPCError) as err:
        odoo.json("/jsonrpc", params)
    info = err.value.info
    assert info["code"] == 200 and info["message"] == "Odoo Server Error"
    assert set(info["data"]) == ERROR_KEYS
    assert info["data"]["arguments"] == [info["data"]["message"]]
    return info["data"]


def ref(odoo: odoorpc.ODOO, module: str, name: str) -> int:
    rows = odoo.env["ir.model.data"].search_read(
        [("module", "=", module), ("name", "=", name)], ["res_id"]
    )
    return rows[0]["res_id"]


def field_id(odoo: odoorpc.ODOO, model: str, name: str) -> int:
    return odoo.env["ir.model.fields"].search([("model", "=", model), ("name", "=", name)])[0]


def model_id(odoo: odoorpc.ODOO, model: str) -> int:
    return odoo.env["ir.model"].search([("model", "=", model)])[0]


def storable(odoo: odoorpc.ODOO, tag: str, qty: float = 0.0) -> int:
    fields = odoo.env["product.product"].fields_get(["is_storable"], attributes=["type"])
    kind = {"is_storable": True} if fields else {"detailed_type": "product"}  # 18+ / 16-17
    product = odoo.env["product.product"].create(
        {"name": f"{tag} widget", "list_price": 10.0, **kind}
    )
    if qty:
        stock = odoo.env["stock.warehouse"].search_read([("code", "=", "WH")], ["lot_stock_id"])[0][
            "lot_stock_id"
        ][0]
        quants = odoo.env["stock.quant"].with_context(inventory_mode=True)
        quant = quants.create(
            {"product_id": product, "location_id": stock, "inventory_quantity": qty}
        )
        odoo.execute_kw("stock.quant", "action_apply_inventory", [[quant]])
    return product


def picking(odoo: odoorpc.ODOO, tag: str, scheduled: str, **vals: object) -> int:
    out_type = ref(odoo, "stock", "picking_type_out")
    return odoo.env["stock.picking"].create(
        {"picking_type_id": out_type, "origin": tag, "scheduled_date": scheduled, **vals}
    )


def rule(
    odoo: odoorpc.ODOO, cleanup, name: str, model: str, trigger: str, action: dict, **vals: object
) -> int:
    mid = model_id(odoo, model)
    rid = odoo.env["base.automation"].create(
        {
            "name": name,
            "model_id": mid,
            "trigger": trigger,
            "action_server_ids": [(0, 0, {"name": name, "model_id": mid, **action})],
            **vals,
        }
    )
    cleanup("base.automation", rid)
    return rid


def server_now(odoo: odoorpc.ODOO, tag: str) -> str:
    """The server's "now": the write_date of a record touched right now."""
    partner = odoo.env["res.partner"].create({"name": f"{tag} clock"})
    now = odoo.env["res.partner"].read([partner], ["write_date"])[0]["write_date"]
    odoo.env["res.partner"].unlink([partner])
    return now


def shift(stamp: str, seconds: float) -> str:
    return format_datetime(parse_datetime(stamp) + timedelta(seconds=seconds))


# --------------------------------------------------------------------------- protocol
@live
def test_version_and_login(odoo_settings: OdooSettings, odoo: odoorpc.ODOO, odoo_major) -> None:
    assert odoo_major in (17, 18, 19)
    if odoo_settings.is_fake:
        assert odoo_major == odoo_settings.server.version
    assert odoo.version.startswith(f"{odoo_major}.0")  # a build may add a date: 18.0-20250702
    version = odoo.json("/jsonrpc", {"service": "common", "method": "version", "args": []})
    assert version["result"]["server_version_info"][:2] == [odoo_major, 0]
    assert odoo.env.uid == 2 and odoo.env.context["lang"] == "en_US"
    wrong = odoo.json(
        "/jsonrpc",
        {
            "service": "common",
            "method": "login",
            "args": [odoo_settings.db, odoo_settings.user, "nope"],
        },
    )
    assert wrong["result"] is False
    assert odoo_settings.db in odoo.db.list()
    modules = odoo.env["ir.module.module"].search_read(
        [
            ("name", "in", ["sale_management", "stock", "purchase", "account", "base_automation"]),
            ("state", "=", "installed"),
        ],
        ["name"],
    )
    assert len(modules) == 5


@live
def test_error_objects_match_odoo(odoo: odoorpc.ODOO, tag: str, cleanup, odoo_major) -> None:
    data = rpc_error(odoo, "no.such.model", "search", [[]])
    assert (data["name"], data["message"]) == (
        "odoo.exceptions.UserError",
        "Object no.such.model doesn't exist",
    )
    data = rpc_error(odoo, "stock.picking", "search", [[["no_field", "=", 1]]])
    assert data["name"] == "builtins.ValueError"
    assert data["message"] == "Invalid field stock.picking.no_field in leaf ('no_field', '=', 1)"
    data = rpc_error(odoo, "sale.order", "create", [{}])
    assert data["name"] == "odoo.exceptions.ValidationError"
    assert data["message"].endswith(
        "Model: Sales Order (sale.order)\nField: Customer (partner_id)\n"
    )
    pid = picking(odoo, tag, "2030-01-01 00:00:00")
    cleanup("stock.picking", pid)
    data = rpc_error(odoo, "stock.picking", "write", [[pid], {"priority": "7"}])
    assert (data["name"], data["message"]) == (
        "builtins.ValueError",
        "Wrong value for stock.picking.priority: '7'",
    )
    data = rpc_error(odoo, "sale.order", "_action_confirm", [[1]])
    assert data["name"] == "odoo.exceptions.AccessError"
    private = "_action_confirm" if odoo_major < 18 else "'sale.order._action_confirm'"
    assert data["message"] == f"Private methods (such as {private}) cannot be called remotely."
    data = rpc_error(odoo, "sale.order", "search", [[]], password="wrong")
    assert (data["name"], data["message"]) == ("odoo.exceptions.AccessDenied", "Access Denied")
    data = rpc_error(odoo, "res.partner", "unlink", [[1]])
    assert data["name"] == "odoo.exceptions.ValidationError"
    assert "Constraint: res_company_partner_id_fkey" in data["message"]
    data = rpc_error(odoo, "res.partner", "no_such_method", [[1]])
    assert data["name"] == "builtins.AttributeError"
    data = rpc_error(odoo, "res.partner", "write", [[10**8], {"name": "x"}])
    assert data["name"] == "odoo.exceptions.MissingError"


# --------------------------------------------------------------------------- ORM
@live
def test_create_list_read_and_domains(odoo: odoorpc.ODOO, tag: str, cleanup) -> None:
    partners = odoo.env["res.partner"]
    parent = partners.create({"name": f"{tag} parent", "is_company": True, "city": "Gent"})
    ids = partners.create(
        [
            {"name": f"{tag} a", "parent_id": parent, "credit_limit": 5.0},
            {"name": f"{tag} b", "city": "Lyon", "email": "b@example.com"},
        ]
    )
    cleanup("res.partner", [*ids, parent])
    assert isinstance(ids, list) and len(ids) == 2
    row = partners.read([ids[0]], ["parent_id", "display_name", "child_ids"])[0]
    assert row["parent_id"] == [parent, f"{tag} parent"]
    assert row["display_name"] == f"{tag} parent, {tag} a"
    assert partners.read([parent], ["child_ids"])[0]["child_ids"] == [ids[0]]
    found = partners.search(
        [
            "|",
            ("parent_id.name", "=", f"{tag} parent"),
            ("city", "=ilike", "LYON"),
            ("name", "like", tag),
        ]
    )
    assert sorted(found) == sorted(ids)
    assert sorted(partners.search([("id", "child_of", parent)])) == sorted([parent, ids[0]])
    assert partners.search_count([("name", "ilike", tag), "!", ("email", "=", False)]) == 1
    assert partners.search([("name", "ilike", tag)], limit=1, order="name desc") == [parent]
    assert partners.read([ids[0]], ["parent_id"], load="_classic_write")[0]["parent_id"] == parent
    groups = partners.read_group([("name", "ilike", tag)], ["credit_limit"], ["is_company"])
    by_flag = {g["is_company"]: g for g in groups}
    assert by_flag[False]["is_company_count"] == 2 and by_flag[True]["is_company_count"] == 1
    assert "__domain" in by_flag[False]
    fields = partners.fields_get(["credit_limit", "country_id"], attributes=["type", "relation"])
    assert fields["country_id"] == {"type": "many2one", "relation": "res.country"}


@live
def test_external_ids_and_env_ref(odoo: odoorpc.ODOO, tag: str, cleanup, odoo_major) -> None:
    partners, data = odoo.env["res.partner"], odoo.env["ir.model.data"]
    pid = partners.create({"name": f"{tag} tagged"})
    cleanup("res.partner", pid)
    name = tag.replace("-", "_")
    data.create({"module": "exsim", "name": name, "model": "res.partner", "res_id": pid})
    rows = data.search_read(
        [("module", "=", "exsim"), ("name", "=", name)], ["model", "res_id", "complete_name"]
    )
    assert rows == [
        {
            "id": rows[0]["id"],
            "model": "res.partner",
            "res_id": pid,
            "complete_name": f"exsim.{name}",
        }
    ]
    assert odoo.env.ref(f"exsim.{name}").id == pid
    partners.write([pid], {"active": False})
    with pytest.raises(odoorpc.error.RPCError) as err:  # odoorpc 0.10's env.ref, archived
        odoo.env.ref(f"exsim.{name}")
    if odoo_major < 18:  # 17 builds its AccessError message with a bad % format
        assert err.value.info["data"]["name"] == "builtins.TypeError"
        assert (
            err.value.info["data"]["message"]
            == "not all arguments converted during string formatting"
        )
    else:
        assert err.value.info["data"]["name"] == "odoo.exceptions.AccessError"
        assert err.value.info["data"]["message"] == (
            f'Not enough access rights on the external ID "exsim.{name}"'
        )
    with pytest.raises(odoorpc.error.RPCError, match="External ID not found"):
        odoo.env.ref(f"exsim.{name}_missing")
    partners.unlink([pid])  # deleting the record deletes its external id
    assert data.search([("module", "=", "exsim"), ("name", "=", name)]) == []


# --------------------------------------------------------------------------- workflows
@live
def test_sale_confirm_reserves_when_stock_covers_demand(odoo: odoorpc.ODOO, tag: str) -> None:
    stocked, empty = storable(odoo, tag, qty=10), storable(odoo, tag + "-empty")
    customer = odoo.env["res.partner"].create({"name": f"{tag} customer"})
    orders = odoo.env["sale.order"]
    ready, waiting = orders.create(
        [
            {
                "partner_id": customer,
                "order_line": [(0, 0, {"product_id": stocked, "product_uom_qty": 4})],
            },
            {
                "partner_id": customer,
                "order_line": [(0, 0, {"product_id": empty, "product_uom_qty": 1})],
            },
        ]
    )
    odoo.execute_kw("sale.order", "action_confirm", [[ready, waiting]])
    rows = orders.read([ready, waiting], ["state", "picking_ids", "delivery_status"])
    assert [r["state"] for r in rows] == ["sale", "sale"]
    pickings = odoo.env["stock.picking"]
    (p_ready,), (p_waiting,) = rows[0]["picking_ids"], rows[1]["picking_ids"]
    got = {
        p["id"]: p
        for p in pickings.read([p_ready, p_waiting], ["state", "picking_type_code", "origin"])
    }
    assert got[p_ready]["state"] == "assigned" and got[p_waiting]["state"] == "confirmed"
    assert got[p_ready]["picking_type_code"] == "outgoing"
    assert pickings.search(
        [
            ("id", "in", [p_ready, p_waiting]),
            ("picking_type_id.code", "=", "outgoing"),
            ("state", "=", "assigned"),
        ]
    ) == [p_ready]
    assert odoo.execute_kw("stock.picking", "button_validate", [[p_ready]]) is True
    done = pickings.read([p_ready], ["state", "date_done"])[0]
    assert done["state"] == "done" and done["date_done"]
    product = odoo.env["product.product"].read([stocked], ["qty_available"])[0]
    assert product["qty_available"] == 6
    assert orders.read([ready], ["delivery_status"])[0]["delivery_status"] == "full"
    odoo.execute_kw("stock.picking", "action_assign", [[p_waiting]])
    assert pickings.read([p_waiting], ["state"])[0]["state"] == "confirmed"


@live
def test_purchase_confirm_creates_receipt(odoo: odoorpc.ODOO, tag: str) -> None:
    product = storable(odoo, tag)
    vendor = odoo.env["res.partner"].create({"name": f"{tag} vendor"})
    planned = "2031-03-04 10:00:00"
    po = odoo.env["purchase.order"].create(
        {
            "partner_id": vendor,
            "date_planned": planned,
            "order_line": [
                (
                    0,
                    0,
                    {
                        "product_id": product,
                        "product_qty": 5,
                        "price_unit": 2.0,
                        "date_planned": planned,
                    },
                )
            ],
        }
    )
    odoo.execute_kw("purchase.order", "button_confirm", [[po]])
    order = odoo.env["purchase.order"].read(
        [po], ["state", "picking_ids", "receipt_status", "date_approve"]
    )[0]
    assert order["state"] == "purchase" and order["date_approve"]
    assert order["receipt_status"] == "pending"
    receipt = odoo.env["stock.picking"].read(
        order["picking_ids"], ["state", "scheduled_date", "picking_type_code"]
    )[0]
    assert receipt["picking_type_code"] == "incoming" and receipt["state"] == "assigned"
    assert receipt["scheduled_date"] == planned
    odoo.execute_kw("stock.picking", "button_validate", [order["picking_ids"]])
    assert odoo.env["purchase.order"].read([po], ["receipt_status"])[0]["receipt_status"] == "full"
    assert odoo.env["product.product"].read([product], ["qty_available"])[0]["qty_available"] == 5


@live
def test_state_changes_leave_tracking_messages(odoo: odoorpc.ODOO, tag: str) -> None:
    customer = odoo.env["res.partner"].create({"name": f"{tag} customer"})
    so = odoo.env["sale.order"].create({"partner_id": customer})
    odoo.execute_kw("sale.order", "action_confirm", [[so]])
    messages = odoo.env["mail.message"].search_read(
        [("model", "=", "sale.order"), ("res_id", "=", so), ("tracking_value_ids", "!=", False)],
        ["date", "tracking_value_ids"],
    )
    values = odoo.env["mail.tracking.value"].read(
        [v for m in messages for v in m["tracking_value_ids"]],
        ["field_id", "old_value_char", "new_value_char"],
    )
    state = [
        v
        for v in values
        if v["field_id"] and v["field_id"][0] == field_id(odoo, "sale.order", "state")
    ]
    assert [(v["old_value_char"], v["new_value_char"]) for v in state] == [
        ("Quotation", "Sales Order")
    ]
    assert all(m["date"] for m in messages)


# --------------------------------------------------------------------------- automation
def _activities(odoo: odoorpc.ODOO, model: str, res_id: int) -> int:
    return odoo.env["mail.activity"].search_count(
        [("res_model", "=", model), ("res_id", "=", res_id)]
    )


@live
def test_event_rule_fires_on_transition_only(odoo: odoorpc.ODOO, tag: str, cleanup) -> None:
    todo = ref(odoo, "mail", "mail_activity_data_todo")
    activity = {
        "state": "next_activity",
        "activity_type_id": todo,
        "activity_summary": f"{tag} urgent",
        "activity_user_type": "specific",
        "activity_user_id": odoo.env.uid,
    }
    rule(
        odoo,
        cleanup,
        f"{tag} transition",
        "stock.picking",
        "on_write",
        activity,
        filter_pre_domain=f"[('origin', '=', '{tag}'), ('priority', '=', '0')]",
        filter_domain=f"[('origin', '=', '{tag}'), ('priority', '=', '1')]",
    )
    pid = picking(odoo, tag, "2030-01-01 00:00:00")
    cleanup("stock.picking", pid)
    pickings = odoo.env["stock.picking"]
    pickings.write([pid], {"priority": "1"})
    assert _activities(odoo, "stock.picking", pid) == 1
    pickings.write([pid], {"note": "still urgent"})  # already in the domain: no new firing
    assert _activities(odoo, "stock.picking", pid) == 1
    pickings.write([pid], {"priority": "0"})
    pickings.write([pid], {"priority": "1"})
    assert _activities(odoo, "stock.picking", pid) == 2
    row = odoo.env["mail.activity"].search_read(
        [("res_id", "=", pid), ("res_model", "=", "stock.picking")],
        ["summary", "user_id", "date_deadline"],
    )[0]
    assert row["summary"] == f"{tag} urgent" and row["user_id"][0] == odoo.env.uid


@live
def test_failing_action_rolls_back_the_write(odoo: odoorpc.ODOO, tag: str, cleanup) -> None:
    rule(
        odoo,
        cleanup,
        f"{tag} blocker",
        "stock.picking",
        "on_write",
        {"state": "code", "code": "raise UserError('exsim: blocked')"},
        filter_domain=f"[('origin', '=', '{tag}'), ('priority', '=', '1')]",
    )
    pid = picking(odoo, tag, "2030-01-01 00:00:00")
    cleanup("stock.picking", pid)
    with pytest.raises(odoorpc.error.RPCError) as err:
        odoo.env["stock.picking"].write([pid], {"priority": "1", "note": "lost"})
    assert err.value.info["data"]["name"] == "odoo.exceptions.UserError"
    assert err.value.info["data"]["message"] == "exsim: blocked"
    row = odoo.env["stock.picking"].read([pid], ["priority", "note"])[0]
    assert row["priority"] == "0" and not row["note"]


@live
def test_time_rule_cron_interval(odoo: odoorpc.ODOO, tag: str, cleanup) -> None:
    cron_id = ref(odoo, "base_automation", "ir_cron_data_base_automation_check")
    crons = odoo.env["ir.cron"].with_context(active_test=False)

    def cron() -> tuple[bool, int, str]:
        row = crons.read([cron_id], ["active", "interval_number", "interval_type"])[0]
        return row["active"], row["interval_number"], row["interval_type"]

    # On a shared real database other time rules may exist: the job follows the shortest delay
    # of all of them, so the expectation includes theirs.
    minutes = {"minutes": 1, "hour": 60, "day": 1440, "month": 43200}
    others = [
        r["trg_date_range"] * minutes[r["trg_date_range_type"]]
        for r in odoo.env["base.automation"].search_read(
            [("trigger", "=", "on_time")],
            ["trg_date_range", "trg_date_range_type"],
        )
    ]

    def expected(*delays: int) -> tuple[bool, int, str]:
        return True, min(max(1, min([*delays, *others]) // 10), 240), "minutes"

    write = {"state": "object_write", "update_path": "priority", "value": "1"}
    date = field_id(odoo, "stock.picking", "scheduled_date")
    time_rule = {"trg_date_id": date, "filter_domain": f"[('origin', '=', '{tag}')]"}
    slow = rule(
        odoo,
        cleanup,
        f"{tag} 3 days",
        "stock.picking",
        "on_time",
        write,
        trg_date_range=3,
        trg_date_range_type="day",
        **time_rule,
    )
    assert cron() == expected(4320)  # alone: 432 min, clamped to 4 h
    rule(
        odoo,
        cleanup,
        f"{tag} 30 min",
        "stock.picking",
        "on_time",
        write,
        trg_date_range=30,
        trg_date_range_type="minutes",
        **time_rule,
    )
    assert cron() == expected(4320, 30)  # alone: 3 minutes
    odoo.env["base.automation"].write(
        [slow], {"trg_date_range": 5, "trg_date_range_type": "minutes"}
    )
    assert cron() == expected(5, 30) == (True, 1, "minutes")  # 0.5 min, clamped to 1
    odoo.env["base.automation"].unlink(odoo.env["base.automation"].search([("name", "like", tag)]))
    assert cron()[0] is bool(others)  # off once no time rule is left


@live
def test_time_rule_blind_spot(odoo: odoorpc.ODOO, tag: str, cleanup, advance_time) -> None:
    """A record due before the rule's last run is never caught; one due after it is."""
    cron_id = ref(odoo, "base_automation", "ir_cron_data_base_automation_check")
    rid = rule(
        odoo,
        cleanup,
        f"{tag} late",
        "stock.picking",
        "on_time",
        {"state": "object_write", "update_path": "priority", "value": "1"},
        trg_date_id=field_id(odoo, "stock.picking", "scheduled_date"),
        trg_date_range=0,
        trg_date_range_type="minutes",
        filter_domain=f"[('origin', '=', '{tag}')]",
    )
    odoo.execute_kw("ir.cron", "method_direct_trigger", [[cron_id]])
    last_run = odoo.env["base.automation"].read([rid], ["last_run"])[0]["last_run"]
    assert last_run
    missed = picking(odoo, tag, shift(last_run, -3600))
    caught = picking(odoo, tag, shift(last_run, 1))
    cleanup("stock.picking", [missed, caught])
    advance_time(2.5)
    odoo.execute_kw("ir.cron", "method_direct_trigger", [[cron_id]])
    rows = {
        r["id"]: r["priority"]
        for r in odoo.env["stock.picking"].read([missed, caught], ["priority"])
    }
    assert rows == {missed: "0", caught: "1"}


@live
def test_new_time_rule_acts_on_every_due_record(odoo: odoorpc.ODOO, tag: str, cleanup) -> None:
    now = server_now(odoo, tag)
    old = [picking(odoo, tag, shift(now, -2 * 86400)), picking(odoo, tag, shift(now, -3600))]
    future = picking(odoo, tag, shift(now, 86400))
    cleanup("stock.picking", [*old, future])
    cron_id = ref(odoo, "base_automation", "ir_cron_data_base_automation_check")
    rule(
        odoo,
        cleanup,
        f"{tag} go-live",
        "stock.picking",
        "on_time",
        {"state": "object_write", "update_path": "priority", "value": "1"},
        trg_date_id=field_id(odoo, "stock.picking", "scheduled_date"),
        trg_date_range=0,
        trg_date_range_type="minutes",
        filter_domain=f"[('origin', '=', '{tag}')]",
    )
    odoo.execute_kw("ir.cron", "method_direct_trigger", [[cron_id]])
    rows = {
        r["id"]: r["priority"] for r in odoo.env["stock.picking"].read([*old, future], ["priority"])
    }
    assert rows == {old[0]: "1", old[1]: "1", future: "0"}


class _Receiver:
    """A local webhook endpoint; ``delay`` makes it slower than Odoo's 1 s timeout."""

    def __init__(self, delay: float = 0.0) -> None:
        self.bodies: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                receiver.bodies.append(
                    json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                )
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@live
def test_webhook_posts_json_once_with_one_second_timeout(
    odoo: odoorpc.ODOO, tag: str, cleanup
) -> None:
    fast, slow = _Receiver(), _Receiver(delay=2.0)
    try:
        fields = [field_id(odoo, "stock.picking", n) for n in ("priority", "origin")]
        for name, receiver, before, after in (("fast", fast, "0", "1"), ("slow", slow, "1", "0")):
            # a pre-domain: Odoo 17 also runs "on update" rules when a new record's stored
            # computed fields are first computed (on stock.picking: several times)
            rule(
                odoo,
                cleanup,
                f"{tag} {name}",
                "stock.picking",
                "on_write",
                {
                    "state": "webhook",
                    "webhook_url": receiver.url,
                    "webhook_field_ids": [(6, 0, fields)],
                },
                filter_pre_domain=f"[('priority', '=', '{before}')]",
                filter_domain=f"[('origin', '=', '{tag}'), ('priority', '=', '{after}')]",
            )
        pid = picking(odoo, tag, "2030-01-01 00:00:00")
        cleanup("stock.picking", pid)
        odoo.env["stock.picking"].write([pid], {"priority": "1"})
        assert len(fast.bodies) == 1
        body = fast.bodies[0]
        assert (body["_model"], body["_id"], body["priority"], body["origin"]) == (
            "stock.picking",
            pid,
            "1",
            tag,
        )
        action = odoo.env["ir.actions.server"].search(
            [("base_automation_id.name", "=", f"{tag} fast")]
        )
        assert body["_action"] == f"Send Webhook Notification(#{action[0]})"
        started = time.monotonic()
        odoo.env["stock.picking"].write([pid], {"priority": "0"})  # slow receiver: times out
        elapsed = time.monotonic() - started
        assert 0.9 < elapsed < 1.9
        time.sleep(1.5)
        assert len(slow.bodies) == 1  # not retried
    finally:
        fast.close()
        slow.close()


# --------------------------------------------------------------------------- fake only
def test_clock_drives_timestamps_and_crons(
    fake_odoo, odoo: odoorpc.ODOO, tag: str, cleanup
) -> None:
    fake_odoo.clock.set("2031-05-01 08:00:00")
    pid = odoo.env["res.partner"].create({"name": tag})
    assert (
        odoo.env["res.partner"].read([pid], ["create_date"])[0]["create_date"]
        == "2031-05-01 08:00:00"
    )
    rid = rule(
        odoo,
        cleanup,
        f"{tag} 30 min",
        "stock.picking",
        "on_time",
        {"state": "object_write", "update_path": "priority", "value": "1"},
        trg_date_id=field_id(odoo, "stock.picking", "scheduled_date"),
        trg_date_range=30,
        trg_date_range_type="minutes",
        filter_domain=f"[('origin', '=', '{tag}')]",
    )
    late = picking(odoo, tag, "2031-05-01 07:00:00")
    cleanup("stock.picking", late)
    cron = ref(odoo, "base_automation", "ir_cron_data_base_automation_check")
    odoo.env["ir.cron"].write([cron], {"nextcall": "2031-05-01 08:03:00"})
    assert fake_odoo.run_due_crons() == []
    reply = odoo.json("/exsim_test/clock", {"advance_s": 180})["result"]
    assert reply["now"] == "2031-05-01 08:03:00"
    ran = odoo.json("/exsim_test/run_crons", {})["result"]
    assert ran["ran"] == [cron]
    assert odoo.env["stock.picking"].read([late], ["priority"])[0]["priority"] == "1"
    assert (
        odoo.env["base.automation"].read([rid], ["last_run"])[0]["last_run"]
        == "2031-05-01 08:03:00"
    )
    assert odoo.env["ir.cron"].read([cron], ["nextcall"])[0]["nextcall"] == "2031-05-01 08:06:00"


def test_webhook_failures_are_logged_not_raised(
    fake_odoo, odoo: odoorpc.ODOO, tag: str, cleanup
) -> None:
    rule(
        odoo,
        cleanup,
        f"{tag} dead hook",
        "stock.picking",
        "on_create",
        {"state": "webhook", "webhook_url": "http://127.0.0.1:9/unreachable"},
        filter_domain=f"[('origin', '=', '{tag}')]",
    )
    before = len(fake_odoo.webhook_log)
    pid = picking(odoo, tag, "2030-01-01 00:00:00")
    cleanup("stock.picking", pid)
    log = fake_odoo.webhook_log[before:]
    assert len(log) == 1 and "error" in log[0] and log[0]["body"]["_id"] == pid


def test_non_admin_cannot_change_settings(odoo_settings: OdooSettings, fake_odoo) -> None:
    demo = OdooSettings(odoo_settings.url, odoo_settings.db, "demo", "demo", True).connect()
    with pytest.raises(odoorpc.error.RPCError) as err:
        demo.env["ir.config_parameter"].set_param("exsim.x", "1")
    assert err.value.info["data"]["name"] == "odoo.exceptions.AccessError"


@live
def test_code_actions_run_under_safe_eval(odoo: odoorpc.ODOO, tag: str, cleanup) -> None:
    """Code server actions run as Odoo's safe_eval runs them: the eval context's names and
    wrapped modules work, a JSON literal or an import fails (wrapped in a ValueError)."""
    mid = model_id(odoo, "res.partner")
    pid = odoo.env["res.partner"].create({"name": f"{tag} target"})
    cleanup("res.partner", pid)

    def run(code: str) -> None:
        action = odoo.env["ir.actions.server"].create(
            {"name": f"{tag} code", "model_id": mid, "state": "code", "code": code}
        )
        cleanup("ir.actions.server", action)
        ctx = {"active_model": "res.partner", "active_id": pid, "active_ids": [pid]}
        odoo.env["ir.actions.server"].with_context(**ctx).run([action])

    run(
        "cutoff = datetime.datetime.now() - datetime.timedelta(minutes=5)\n"
        f"found = env['res.partner'].search([('name', '=', {tag + ' target'!r}), "
        "('street', '=', False)])\n"
        "for r in found:\n"
        "    r.write({'street': 'checked %d' % len(found.mapped('id'))})\n"
        "record.write({'city': record.street + ' city' if record.street else 'none'})\n"
    )
    row = odoo.env["res.partner"].read([pid], ["street", "city"])[0]
    assert (row["street"], row["city"]) == ("checked 1", "checked 1 city")
    for code, needle in (
        ("params = {'domain': [['street', '=', false]]}", "NameError"),
        ("open('/etc/passwd')", "NameError"),
    ):
        with pytest.raises(odoorpc.error.RPCError) as err:
            run(code)
        data = err.value.info["data"]
        assert data["name"] == "builtins.ValueError" and needle in data["message"], data
        assert "while evaluating" in data["message"]
    with pytest.raises(odoorpc.error.RPCError) as err:  # refused when the action is saved
        run("import os")
    assert err.value.info["data"]["name"] == "odoo.exceptions.ValidationError"
    assert "forbidden opcode" in err.value.info["data"]["message"]
