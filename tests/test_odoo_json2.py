"""The JSON-2 transport (Odoo 19) against the test server's ``/json/2`` endpoints, and the
choice of transport by the server's version."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from sim.odoo import capabilities, seed
from sim.odoo.settings import Settings
from sim.odoo.transport import (
    Json2Transport,
    JsonRpcTransport,
    OdooError,
    TransientError,
    connect,
    named_arguments,
)
from tests.odoo_server import OdooTestServer


@pytest.fixture(scope="module")
def odoo19():
    server = OdooTestServer(version=19).start()
    yield server
    server.stop()


def _settings(server: OdooTestServer, **kw) -> Settings:
    return Settings(
        server.url, server.db_name, "admin", "admin", timeout_s=5, api_key=server.api_key, **kw
    )


def _raw(server: OdooTestServer, path: str, body: dict, key: str | None = None):
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"bearer {key or server.api_key}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw or b"null")
        except json.JSONDecodeError:
            return exc.code, raw.decode()


def test_auto_picks_json2_on_19_and_jsonrpc_before(odoo19):
    t = connect(_settings(odoo19))
    assert isinstance(t, Json2Transport) and t.uid == 2
    with OdooTestServer(version=18) as old:
        t18 = connect(Settings(old.url, old.db_name, "admin", "admin", timeout_s=5))
        assert isinstance(t18, JsonRpcTransport)
        assert _raw(old, "/json/2/res.partner/search", {"domain": []})[0] == 404  # no JSON-2
    forced = connect(_settings(odoo19), protocol="jsonrpc")  # /jsonrpc still served on 19
    assert isinstance(forced, JsonRpcTransport)


def test_orm_round_trip_over_json2(odoo19):
    t = connect(_settings(odoo19))
    ids = t.call("res.partner", "create", [{"name": "j2 a", "city": "Gent"}, {"name": "j2 b"}])
    assert isinstance(ids, list) and len(ids) == 2
    t.call("res.partner", "write", ids[1:], {"city": "Lyon"})
    rows = t.call("res.partner", "search_read", [["name", "=like", "j2 %"]], fields=["city"])
    assert sorted(r["city"] for r in rows) == ["Gent", "Lyon"]
    assert t.call("res.partner", "read", ids[:1], ["name"])[0]["name"] == "j2 a"
    assert t.call("res.partner", "search_count", [["name", "=like", "j2 %"]]) == 2
    assert t.call(
        "res.partner", "search", [["name", "=like", "j2 %"]], limit=1, order="name desc"
    ) == [ids[1]]
    assert t.call("res.partner", "exists", [*ids, 10**8]) == ids
    t.call("ir.config_parameter", "set_param", "exsim.j2", "yes")
    assert t.call("ir.config_parameter", "get_param", "exsim.j2") == "yes"
    assert t.call("res.partner", "unlink", ids) is True
    assert [c.method for c in t.calls[-2:]] == ["get_param", "unlink"]
    assert all(c.ok for c in t.calls)


def test_positional_arguments_are_named_as_odoo_names_them():
    assert named_arguments("write", ([1, 2], {"x": 1}), {}) == {"ids": [1, 2], "vals": {"x": 1}}
    assert named_arguments("search_read", ([["a", "=", 1]],), {"fields": ["a"]}) == {
        "domain": [["a", "=", 1]],
        "fields": ["a"],
    }
    assert named_arguments("create", ([{"name": "x"}],), {"context": {"k": 1}}) == {
        "vals_list": [{"name": "x"}],
        "context": {"k": 1},
    }
    assert named_arguments("action_confirm", ([7],), {}) == {"ids": [7]}
    with pytest.raises(TypeError, match="by name"):
        named_arguments("action_confirm", ([7], "extra"), {})
    with pytest.raises(TypeError, match="both"):
        named_arguments("write", ([1], {"x": 1}), {"vals": {}})


def test_json2_errors_are_odoos(odoo19):
    t = connect(_settings(odoo19))
    with pytest.raises(OdooError) as err:
        t.call("sale.order", "create", [{}])  # a required field missing
    assert err.value.kind == "ValidationError" and "partner_id" in err.value.message
    with pytest.raises(OdooError) as err:
        t.call("sale.order", "_action_confirm", [1])
    assert err.value.kind == "AccessError" and "'sale.order._action_confirm'" in err.value.message
    with pytest.raises(OdooError) as err:
        t.call("no.such.model", "search", [])
    assert err.value.kind == "NotFound" and "does not exist" in err.value.message
    with pytest.raises(OdooError) as err:
        t.call("res.partner", "search", [], bogus=1)
    assert err.value.kind == "UnprocessableEntity"
    # the raw wire: status codes and Odoo's serialized exception body
    status, body = _raw(odoo19, "/json/2/res.partner/create", {"ids": [1], "vals_list": [{}]})
    assert status == 422 and body["message"] == "cannot call res.partner.create with ids"
    status, body = _raw(odoo19, "/json/2/sale.order/create", {"vals_list": [{}]})
    assert status == 422 and body["name"] == "odoo.exceptions.ValidationError"
    assert set(body) == {"name", "message", "arguments", "context", "debug"}
    status, body = _raw(odoo19, "/json/2/res.partner/search", {"domain": []}, key="nope")
    assert status == 401 and body["name"] == "werkzeug.exceptions.Unauthorized"


def test_refused_key_and_unknown_database_are_clear(odoo19):
    with pytest.raises(OdooError, match="API key was refused") as err:
        connect(Settings(odoo19.url, odoo19.db_name, "admin", "admin", api_key="wrong-key"))
    assert "wrong-key" not in str(err.value)
    with pytest.raises(OdooError, match="database 'nosuchdb' does not exist") as err:
        connect(Settings(odoo19.url, "nosuchdb", "admin", "admin", api_key=odoo19.api_key))
    assert err.value.kind == "NoDatabase"


def test_lost_connections_are_transient_over_json2(odoo19):
    t = connect(_settings(odoo19))
    for kind in ("http500", "reset"):
        odoo19.faults.append({"kind": kind, "method": "search_count"})
        with pytest.raises(TransientError):
            t.call("res.partner", "search_count", [])
        assert t.call("res.partner", "search_count", []) > 0  # the next call reconnects


def test_seed_and_capabilities_over_json2(odoo19):
    t = connect(_settings(odoo19))
    caps = capabilities.detect(t)
    assert (caps.major, caps.json2, caps.move_uom) == (19, True, "uom_id")
    assert caps.storable_product() == {"type": "consu", "is_storable": True}
    assert caps.cron_values() == {}
    data = seed.seed(t)
    stocked = t.call("product.product", "read", [data.stocked], ["is_storable", "qty_available"])
    assert stocked[0]["is_storable"] is True and stocked[0]["qty_available"] > 0


def test_version_is_read_from_web_version_when_jsonrpc_is_gone(odoo19, monkeypatch):
    """Odoo schedules /jsonrpc's removal: the version probe then uses /web/version."""

    def gone(self):
        raise OdooError("HTTPError", "HTTP 404")

    monkeypatch.setattr(JsonRpcTransport, "version", gone)
    t = connect(_settings(odoo19))
    assert isinstance(t, Json2Transport) and t.version()["server_version_info"][0] == 19
