"""How exsim talks to Odoo: one small interface, one class per wire protocol.

Everything above this module calls ``transport.call(model, method, *args, **kwargs)`` and
nothing else, so the wire protocol can change without touching seed, inject or observe:

- ``JsonRpcTransport``: odoorpc over JSON-RPC (HTTP or HTTPS), for Odoo 14 to 18;
- ``Json2Transport``: Odoo 19's JSON-2 API (``POST /json/2/<model>/<method>`` with an API key
  in the ``Authorization`` header, arguments by name).

``connect`` reads the server's version first and picks JSON-2 from 19 on (Odoo deprecates
``/jsonrpc`` there and schedules its removal), JSON-RPC before.

Faults are sorted here, once. Timeouts, connection resets, refused connections and HTTP 5xx
are ``TransientError`` (the server may or may not have done the work); Odoo's own refusals
(AccessError, UserError, ValidationError, MissingError...) are ``OdooError`` and must stop the
caller with a clear message. ``call_retrying`` retries transient faults with exponential
backoff and jitter, but only for calls the caller declares idempotent: a lost ``create``
reply is re-checked by tag (see ``inject``), never blindly re-sent. Every call's latency is
recorded in ``calls`` for the load test.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sim.odoo.settings import Settings

JSON2_FROM = 19  # the first major serving /json/2 (and deprecating /jsonrpc)


class TransientError(Exception):
    """The call may not have reached Odoo or its reply was lost; safe to retry if idempotent."""


class OdooError(Exception):
    """Odoo refused the call (``kind`` is e.g. 'AccessError', 'UserError', 'ValidationError')."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


@dataclass
class CallStat:
    t: float  # time.monotonic() at the start of the call
    latency_s: float
    method: str
    ok: bool
    n: int = 1  # records the call handled (a batched create counts its records)


class Transport(Protocol):
    calls: list[CallStat]

    def login(self) -> int: ...

    def version(self) -> dict: ...

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any: ...


def one_line(message: str, limit: int = 400) -> str:
    """Odoo's message on one line (its multi-line messages name the field at the end)."""
    text = " ".join(message.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def classify(exc: BaseException) -> Exception:
    """Map a client-side exception to TransientError / OdooError (others pass through)."""
    import odoorpc.error

    if isinstance(exc, odoorpc.error.RPCError):
        data = (exc.info or {}).get("data", {}) if isinstance(exc.info, dict) else {}
        name = str(data.get("name") or "")
        kind = name.rsplit(".", 1)[-1] or "RPCError"
        message = str(data.get("message") or exc.args[0] if exc.args else exc)
        return OdooError(kind, one_line(message) or kind)
    if isinstance(exc, urllib.error.HTTPError):
        if exc.code >= 500:
            return TransientError(f"HTTP {exc.code} from Odoo")
        return OdooError("HTTPError", f"HTTP {exc.code}")
    if isinstance(exc, json.JSONDecodeError):  # an HTML page, a proxy's error: not Odoo
        return OdooError("NotOdoo", "the server did not answer in JSON; is the URL an Odoo server?")
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return TransientError("timed out waiting for Odoo")
    if isinstance(exc, (ConnectionError, http.client.HTTPException, urllib.error.URLError)):
        return TransientError(f"connection to Odoo failed: {exc}")
    return exc if isinstance(exc, Exception) else RuntimeError(str(exc))


class JsonRpcTransport:
    """odoorpc over ``/jsonrpc`` and ``/web/dataset/call_kw`` (Odoo 14-18)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.calls: list[CallStat] = []
        self._client = None

    def _connect(self):
        import odoorpc

        protocol = "jsonrpc+ssl" if self.settings.ssl else "jsonrpc"
        return odoorpc.ODOO(
            self.settings.host,
            protocol=protocol,
            port=self.settings.port,
            timeout=self.settings.timeout_s,
        )

    @property
    def client(self):
        """The logged-in odoorpc client (for read-only consumers such as replay's history pull)."""
        if self._client is None:
            raise RuntimeError("not logged in: call login() first")
        return self._client

    def login(self) -> int:
        s = self.settings
        try:
            self._client = self._connect()
            self._client.login(s.db, s.user, s.password)
        except Exception as exc:  # noqa: BLE001 - sorted by classify
            err = classify(exc)
            if isinstance(err, OdooError) and err.kind != "NotOdoo":
                raise OdooError(
                    "AccessDenied", f"login to {s.url} db {s.db} as {s.user} failed"
                ) from None
            raise err from None
        return self._client.env.uid

    def version(self) -> dict:
        try:
            client = self._client or self._connect()
            return (
                client.version
                if isinstance(client.version, dict)
                else {"server_version": client.version}
            )
        except Exception as exc:  # noqa: BLE001
            raise classify(exc) from None

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if self._client is None:
            self.login()
        t0 = time.monotonic()
        n = len(args[0]) if method == "create" and args and isinstance(args[0], list) else 1
        try:
            result = self._client.execute_kw(model, method, list(args), kwargs)
        except Exception as exc:  # noqa: BLE001 - sorted by classify
            self.calls.append(CallStat(t0, time.monotonic() - t0, method, False, n))
            raise classify(exc) from None
        self.calls.append(CallStat(t0, time.monotonic() - t0, method, True, n))
        return result


# JSON-2 passes arguments by name. Callers above speak positionally (as execute_kw does), so
# the transport names them with Odoo's own parameter names for the methods exsim calls.
MODEL_METHODS = {  # @api.model methods: no ids
    "create",
    "search",
    "search_read",
    "search_count",
    "fields_get",
    "read_group",
    "name_search",
    "name_create",
    "default_get",
    "get_param",
    "set_param",
    "context_get",
    "check_object_reference",
}
PARAMS = {
    "create": ("vals_list",),
    "search": ("domain", "offset", "limit", "order"),
    "search_read": ("domain", "fields", "offset", "limit", "order"),
    "search_count": ("domain", "limit"),
    "fields_get": ("allfields", "attributes"),
    "read_group": ("domain", "fields", "groupby", "offset", "limit", "orderby", "lazy"),
    "name_search": ("name", "domain", "operator", "limit"),
    "name_create": ("name",),
    "default_get": ("fields",),
    "get_param": ("key", "default"),
    "set_param": ("key", "value"),
    "check_object_reference": ("module", "xml_id", "raise_on_access_error"),
    "read": ("fields", "load"),
    "write": ("vals",),
    "copy": ("default",),
    "action_feedback": ("feedback",),
}


def named_arguments(method: str, args: tuple, kwargs: dict) -> dict:
    """The JSON-2 body for ``method(*args, **kwargs)``: ``ids`` first for record methods,
    then each positional argument under its parameter name."""
    args = list(args)
    body: dict[str, Any] = {}
    if method not in MODEL_METHODS:
        body["ids"] = list(_as_ids(args.pop(0))) if args else []
    names = PARAMS.get(method, ())
    if len(args) > len(names):
        raise TypeError(
            f"JSON-2 needs named arguments: give {method}'s extra positional arguments "
            f"{args[len(names) :]!r} by name"
        )
    body.update(zip(names, args, strict=False))
    clash = set(body) & set(kwargs)
    if clash:
        raise TypeError(f"{method}: {sorted(clash)} given both by position and by name")
    body.update(kwargs)
    return body


def _as_ids(ids: Any) -> list[int]:
    if ids in (None, False):
        return []
    if isinstance(ids, int):
        return [ids]
    return [int(i) for i in ids]


class Json2Transport:
    """Odoo 19's JSON-2 API: ``POST /json/2/<model>/<method>``, ``Authorization: bearer <key>``.

    Stateless: every call carries the API key (Preferences > Account Security > New API Key;
    ``EXSIM_ODOO_API_KEY``, or the password setting when it holds a key) and names the
    database in ``X-Odoo-Database``. Arguments travel by name (``named_arguments``). The reply
    is the plain JSON result with HTTP 200; an error is HTTP 4xx/5xx with a JSON body
    ``{name, message, arguments, context, debug}``: 401 is a refused key, 404 an unknown model
    or method, 422 a UserError/ValidationError or arguments that do not fit, 403 an
    AccessError, 500 any other server exception -- all Odoo's refusals (``OdooError``). A lost
    connection, a timeout or a 5xx without Odoo's error body (a proxy, a restart) is a
    ``TransientError``, as on JSON-RPC.
    """

    def __init__(self, settings: Settings, api_key: str | None = None) -> None:
        self.settings = settings
        self.api_key = api_key or settings.api_key or settings.password
        self.calls: list[CallStat] = []
        self.uid: int | None = None
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self.settings.ssl else http.client.HTTPConnection
            self._conn = cls(
                self.settings.host, self.settings.port, timeout=self.settings.timeout_s
            )
        return self._conn

    def _post(self, path: str, body: Any, auth: bool = True) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", "X-Odoo-Database": self.settings.db}
        if auth:
            headers["Authorization"] = f"bearer {self.api_key}"
        data = json.dumps(body).encode()
        try:
            conn = self._connection()
            conn.request("POST", path, data, headers)
            response = conn.getresponse()
            raw = response.read()
        except Exception as exc:  # noqa: BLE001 - sorted by classify
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            raise classify(exc) from None
        if response.will_close:  # HTTP/1.0, or "Connection: close": the next call reconnects
            conn.close()
            self._conn = None
        try:
            return response.status, json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return response.status, raw.decode(errors="replace")

    def _raise(self, status: int, reply: Any, what: str) -> None:
        odoo_body = isinstance(reply, dict) and "name" in reply and "message" in reply
        if status == 401:
            raise OdooError(
                "AccessDenied",
                f"login to {self.settings.url} db {self.settings.db} over JSON-2 failed: the "
                "API key was refused (HTTP 401); give an Odoo API key (Preferences > Account "
                "Security > New API Key) in EXSIM_ODOO_API_KEY",
            )
        if not odoo_body:
            if status >= 500:
                raise TransientError(f"HTTP {status} from Odoo ({what})")
            raise OdooError("HTTPError", f"HTTP {status} from {what}: {str(reply)[:200]}")
        kind = str(reply["name"]).rsplit(".", 1)[-1]
        raise OdooError(kind, one_line(str(reply["message"])) or kind)

    def login(self) -> int:
        """Check the key and learn who it belongs to (``res.users.context_get``)."""
        context = self.call("res.users", "context_get")
        self.uid = int(context.get("uid") or 0) if isinstance(context, dict) else 0
        return self.uid

    def version(self) -> dict:
        status, reply = self._post(
            "/web/version", {"jsonrpc": "2.0", "method": "call", "params": {}}, auth=False
        )
        if status != 200 or not isinstance(reply, dict) or "result" not in reply:
            self._raise(status, reply, "/web/version")
        return reply["result"]

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        body = named_arguments(method, args, kwargs)
        t0 = time.monotonic()
        n = len(args[0]) if method == "create" and args and isinstance(args[0], list) else 1
        path = f"/json/2/{model}/{method}"
        try:
            status, reply = self._post(path, body)
            if status != 200:
                self._raise(status, reply, path)
        except Exception:
            self.calls.append(CallStat(t0, time.monotonic() - t0, method, False, n))
            raise
        self.calls.append(CallStat(t0, time.monotonic() - t0, method, True, n))
        return reply


@dataclass
class Backoff:
    """Exponential backoff with full jitter: attempt k waits uniform(0, base * 2**k), capped."""

    attempts: int = 5
    base_s: float = 0.2
    cap_s: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    retried: int = 0

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


def call_retrying(
    transport: Transport,
    backoff: Backoff,
    model: str,
    method: str,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """An idempotent call (read, search, a write of fixed values), retried on transient faults."""
    for attempt in range(backoff.attempts):
        try:
            return transport.call(model, method, *args, **kwargs)
        except TransientError:
            if attempt == backoff.attempts - 1:
                raise
            backoff.retried += 1
            backoff.sleep(backoff.delay(attempt))
    raise AssertionError("unreachable")


def server_version(settings: Settings) -> dict:
    """The server's version (no login needed): ``common.version()`` on ``/jsonrpc`` (14-19),
    else ``/web/version`` (what remains once ``/jsonrpc`` is removed, Odoo 20+)."""
    try:
        return JsonRpcTransport(settings).version()
    except OdooError:
        return Json2Transport(settings).version()


def connect(settings: Settings, protocol: str = "auto") -> JsonRpcTransport | Json2Transport:
    """A logged-in transport. ``auto`` picks JSON-2 on Odoo 19 and later (where ``/jsonrpc``
    is deprecated), JSON-RPC before; ``jsonrpc`` or ``json2`` force one. A login that fails
    because the database does not exist says so."""
    if protocol == "auto":
        major = parse_major(server_version(settings))
        protocol = "json2" if major >= JSON2_FROM else "jsonrpc"
    transport: JsonRpcTransport | Json2Transport
    if protocol == "json2":
        transport = Json2Transport(settings)
    elif protocol == "jsonrpc":
        transport = JsonRpcTransport(settings)
    else:
        raise ValueError(f"unknown protocol {protocol!r} (auto, jsonrpc, json2)")
    try:
        transport.login()
    except OdooError:
        if not database_exists(settings):
            raise OdooError(
                "NoDatabase", f"database {settings.db!r} does not exist on {settings.url}"
            ) from None
        raise
    return transport


def database_exists(settings: Settings) -> bool:
    """``db.db_exist`` (True when the server will not tell: list_db off, or no db service)."""
    try:
        import odoorpc

        client = odoorpc.ODOO(
            settings.host,
            protocol="jsonrpc+ssl" if settings.ssl else "jsonrpc",
            port=settings.port,
            timeout=settings.timeout_s,
        )
        reply = client.json(
            "/jsonrpc", {"service": "db", "method": "db_exist", "args": [settings.db]}
        )
    except Exception:  # noqa: BLE001 - no answer is no evidence
        return True
    return bool(reply.get("result", True))


def parse_major(version: dict) -> int:
    """The major version from ``common.version()`` (``server_version_info`` or the string)."""
    info = version.get("server_version_info") or []
    if info and isinstance(info[0], int):
        return info[0]
    text = str(version.get("server_serie") or version.get("server_version") or "")
    digits = "".join(c if c.isdigit() else " " for c in text).split()
    if not digits:
        raise ValueError(f"cannot read a version number from {text!r}")
    return int(digits[0])
