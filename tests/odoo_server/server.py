"""The HTTP side: an Odoo-compatible JSON-RPC endpoint on loopback, as Odoo 17, 18 or 19.

The version (``version=``, or ``EXSIM_TEST_ODOO_VERSION``, 17 by default) selects the field
definitions (``schema``), the version the server reports, the few messages that changed, and
from 19 the JSON-2 API (``json2.py``, ``/json/2/<model>/<method>`` with ``api_key``).

``OdooTestServer`` owns one in-memory database (seeded as a fresh Odoo), a controllable
``Clock`` and the automation engine, and serves in a daemon thread:

- ``/jsonrpc`` with services ``common`` (version, login, authenticate), ``object`` (execute,
  execute_kw) and ``db`` (list, server_version, db_exist) -- what odoorpc 0.10 speaks;
- ``/web/webclient/version_info``, ``/web/session/authenticate``, ``/web/session/destroy``,
  ``/web/session/get_session_info``, ``/web/dataset/call_kw`` for session-based clients;
- test-only ``/exsim_test/clock`` ({"set": "...", "advance_s": n, "resume": true}),
  ``/exsim_test/run_crons``, ``/exsim_test/webhook_log`` and ``/exsim_test/faults`` for
  out-of-process tools.

Faults for the client's error handling: ``faults`` queues ``{"kind", "method"}`` entries; the
next call of that model method (any, when ``method`` is empty) then fails as a network would:
``http500`` (HTTP 500, nothing done), ``reset`` (connection closed before the call runs),
``reset_after`` (the call runs and commits, then the connection drops: a lost reply) or
``delay`` (the reply comes ``seconds`` late, for client timeouts).

Each call is one transaction (rolled back on error) and errors are JSON-RPC ``error`` objects
with HTTP 200, shaped exactly like Odoo's (see ``errors.py``).  Calls are serialised, like an
Odoo started with ``workers = 0``.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import actions, automation, json2, models, stock, workflows  # noqa: F401 (models)
from . import oca as oca_models  # noqa: F401 (the OCA modules' models)
from .automation import AutomationEngine
from .clock import Clock
from .db import Database
from .errors import AccessDenied, AccessError, error_object
from .mail import MailThread
from .orm import Env, as_ids
from .seed import seed

VERSION_ENV = "EXSIM_TEST_ODOO_VERSION"  # the test server's version when none is given
OCA_ENV = "EXSIM_TEST_ODOO_OCA"  # "1": the OCA exception and tier-validation modules installed


def version_info(major: int) -> dict:
    """``common.version()`` as an Odoo ``major``.0 answers it."""
    return {
        "server_version": f"{major}.0",
        "server_version_info": [major, 0, 0, "final", 0, ""],
        "server_serie": f"{major}.0",
        "protocol_version": 1,
    }


def default_version() -> int:
    return int(os.environ.get(VERSION_ENV) or 17)


def default_oca() -> bool:
    return os.environ.get(OCA_ENV, "") == "1"


ADMIN_ONLY = {
    "ir.config_parameter",
    "base.automation",
    "ir.cron",
    "ir.actions.server",
    "ir.model.data",
    "res.company",
    "ir.module.module",
}
WRITES = {"create", "write", "unlink"}


class OdooTestServer:
    """An Odoo 17 stand-in for tests: ``with OdooTestServer() as srv: srv.url ...``."""

    def __init__(
        self,
        db_name: str = "exsim",
        password: str = "admin",
        clock: Clock | None = None,
        version: int | None = None,
        oca: bool | None = None,
    ) -> None:
        self.version = version or default_version()
        self.oca = default_oca() if oca is None else oca  # the OCA modules (``oca.py``)
        self.version_info = version_info(self.version)
        self.db_name = db_name
        self.clock = clock or Clock()
        self.db = Database(db_name)
        self.automation = AutomationEngine()
        self.mail = MailThread()
        self.webhook_log: list[dict] = []
        # API keys (``res.users.apikeys``): JSON-2's bearer tokens, one per user (19+)
        self.api_keys: dict[str, int] = {}
        if self.version >= 19:
            self.api_keys = {secrets.token_hex(20): uid for uid in (2, 6)}  # admin, demo
        self.api_key = self.user_api_key(2)
        self.faults: list[dict] = []
        self.url: str | None = None
        self._sessions: dict[str, int] = {}
        self._sequences: dict[str, int] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        with self.db.transaction():
            seed(self, password)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> OdooTestServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self.execute(1, "ir.config_parameter", "set_param", ["web.base.url", self.url])
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, daemon=True, name="exsim-odoo-test-server"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self) -> OdooTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1]) if self.url else 0

    # ------------------------------------------------------------ helpers
    def user_api_key(self, uid: int) -> str | None:
        """The API key of user ``uid`` (None before 19: no JSON-2 there)."""
        return next((k for k, u in self.api_keys.items() if u == uid), None)

    def env(self, uid: int = 2, context: dict | None = None) -> Env:
        return Env(self, uid, context)

    def sequence(self, key: str, prefix: str, padding: int) -> str:
        self._sequences[key] = self._sequences.get(key, 0) + 1
        return f"{prefix}{self._sequences[key]:0{padding}d}"

    def execute(
        self,
        uid: int,
        model: str,
        method: str,
        args: list | None = None,
        kwargs: dict | None = None,
    ) -> Any:
        """Call a model method in-process, in its own transaction (no authentication)."""
        with self.db.transaction():
            return self._call(uid, model, method, list(args or []), dict(kwargs or {}))

    def run_due_crons(self) -> list[int]:
        """Run the scheduled actions due at the clock's current time (a cron worker's pass)."""
        with self.db.transaction():
            return self.env(1)["ir.cron"].run_due()

    def post_webhook(self, url: str, body: str) -> None:
        """POST like Odoo's webhook action: 1 s timeout, failures logged, never retried."""
        entry: dict[str, Any] = {"url": url, "body": json.loads(body), "at": self.clock.now_str()}
        request = urllib.request.Request(
            url, data=body.encode(), method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=1) as response:
                entry["status"] = response.status
        except urllib.error.HTTPError as exc:
            entry.update(status=exc.code, error=f"HTTP {exc.code}")
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
        self.webhook_log.append(entry)

    # ------------------------------------------------------------ services
    def authenticate(self, db: str, login: str, password: str) -> int | bool:
        if db != self.db_name:
            return False
        for uid, row in self.db.tables["res.users"].items():
            if row["login"] == login and row["active"] and row.get("password") == password:
                return uid
        return False

    def check(self, db: str, uid: int, password: str) -> None:
        row = self.db.tables["res.users"].get(uid)
        if db != self.db_name or not row or not row["active"] or row.get("password") != password:
            raise AccessDenied()

    def dispatch(self, service: str, method: str, args: list) -> Any:
        if service == "common":
            if method == "version":
                return self.version_info
            if method in ("login", "authenticate"):
                return self.authenticate(*args[:3])
            if method == "about":
                return "See http://openerp.com"
        elif service == "db":
            if method == "list":
                return [self.db_name]
            if method == "server_version":
                return self.version_info["server_version"]
            if method == "db_exist":
                return args[0] == self.db_name
        elif service == "object" and method in ("execute", "execute_kw"):
            db, uid, password, model, name, *rest = args
            self.check(db, uid, password)
            call_args = rest[0] if method == "execute_kw" and rest else list(rest)
            kwargs = (rest[1] if len(rest) > 1 else {}) if method == "execute_kw" else {}
            return self.execute(uid, model, name, call_args, kwargs or {})
        raise KeyError(f"{service}.{method}")

    def _call(self, uid: int, model: str, method: str, args: list, kwargs: dict) -> Any:
        if method.startswith("_"):
            name = method if self.version < 18 else f"'{model}.{method}'"
            raise AccessError(f"Private methods (such as {name}) cannot be called remotely.")
        env = Env(self, uid, kwargs.pop("context", None) or {})
        obj = env[model]
        fn = getattr(obj, method, None)
        kind = getattr(fn, "rpc", None)
        if kind is None:
            raise AttributeError(f"type object '{model}' has no attribute '{method}'")
        self.check_access(uid, model, method)
        if kind == "records":
            if not args:
                raise TypeError(f"{model}.{method}() missing the record ids argument")
            return fn(as_ids(args[0]), *args[1:], **kwargs)
        return fn(*args, **kwargs)

    def check_access(self, uid: int, model: str, method: str) -> None:
        """Only administrators may touch settings-level models (AccessError otherwise)."""
        if uid not in (1, 2) and model in ADMIN_ONLY:
            verb = "modify" if method in WRITES else "access"
            raise AccessError(
                f"You are not allowed to {verb} '{obj_label(model)}' ({model}) records.\n\n"
                "This operation is allowed for the following groups:\n"
                "\t- Administration/Settings\n\n"
                "Contact your administrator to request access if necessary."
            )

    def take_fault(self, path: str, params: dict) -> dict | None:
        """The queued fault for this call, if any (removed from the queue)."""
        if not self.faults or path.startswith("/exsim_test/"):
            return None
        method = params.get("method", "")
        if path == "/jsonrpc":
            args = params.get("args") or []
            method = args[4] if params.get("service") == "object" and len(args) > 4 else method
        for i, fault in enumerate(self.faults):
            if fault.get("method") in (None, "", method):
                return self.faults.pop(i)
        return None

    def session_info(self, uid: int) -> dict:
        user = self.db.tables["res.users"][uid]
        return {
            "uid": uid,
            "db": self.db_name,
            "username": user["login"],
            "name": self.env(uid)["res.users"].get(user, "name"),
            "user_context": {"lang": "en_US", "tz": models.USER_TZ, "uid": uid},
            "server_version": self.version_info["server_version"],
            "server_version_info": self.version_info["server_version_info"],
            "company_id": user["company_id"],
            "partner_id": user["partner_id"],
        }

    def test_endpoint(self, path: str, params: dict) -> Any:
        if path == "/exsim_test/clock":
            if params.get("resume"):
                self.clock.resume()
            if params.get("set"):
                self.clock.set(params["set"])
            if params.get("advance_s"):
                self.clock.advance(float(params["advance_s"]))
            return {"now": self.clock.now_str(), "frozen": self.clock.frozen}
        if path == "/exsim_test/run_crons":
            return {"ran": self.run_due_crons(), "now": self.clock.now_str()}
        if path == "/exsim_test/webhook_log":
            return self.webhook_log
        if path == "/exsim_test/faults":
            self.faults.extend(params.get("add") or [])
            return self.faults
        raise KeyError(path)


def obj_label(model: str) -> str:
    from .orm import MODEL_LABELS

    return MODEL_LABELS.get(model, model)


def _handler(server: OdooTestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in separate writes: without this, Nagle's algorithm holds
        # the body until the client's delayed ACK (~40 ms per call on a kept-alive connection)
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path.startswith("/web/login"):
                page = f"<html><body>exsim Odoo {server.version} test server</body></html>"
                self._send(200, page.encode(), "text/html")
            else:
                self._send(404, b"Not Found", "text/plain")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            try:
                payload = json.loads(self.rfile.read(length) or b"{}")
            except json.JSONDecodeError:
                self._send(400, b"Bad Request", "text/plain")
                return
            path = self.path.split("?")[0]
            if path == "/json/2" or path.startswith(json2.PREFIX):
                self._json2(path, payload)
                return
            params = payload.get("params") or {}
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": payload.get("id")}
            cookie = None
            fault = server.take_fault(path, params)
            if fault and fault["kind"] == "http500":
                self._send(500, b"Internal Server Error", "text/plain")
                return
            if fault and fault["kind"] == "reset":
                self.close_connection = True
                return
            if fault and fault["kind"] == "delay":
                time.sleep(float(fault.get("seconds", 2)))
            try:
                if path == "/jsonrpc":
                    reply["result"] = server.dispatch(
                        params.get("service", ""),
                        params.get("method", ""),
                        list(params.get("args") or []),
                    )
                elif path in ("/web/webclient/version_info", "/web/version"):
                    reply["result"] = server.version_info
                elif path == "/web/session/authenticate":
                    uid = server.authenticate(
                        params.get("db"), params.get("login"), params.get("password")
                    )
                    if not uid:
                        raise AccessDenied()
                    cookie = secrets.token_hex(20)
                    server._sessions[cookie] = uid
                    reply["result"] = server.session_info(uid)
                elif path in ("/web/session/get_session_info", "/web/session/destroy"):
                    uid = self._session_uid()
                    if path.endswith("destroy"):
                        server._sessions.pop(self._cookie() or "", None)
                        reply["result"] = None
                    else:
                        reply["result"] = server.session_info(uid)
                elif path.startswith("/web/dataset/call_kw"):
                    reply["result"] = server.execute(
                        self._session_uid(),
                        params["model"],
                        params["method"],
                        params.get("args") or [],
                        params.get("kwargs") or {},
                    )
                elif path.startswith("/exsim_test/"):
                    reply["result"] = server.test_endpoint(path, params)
                else:
                    self._send(404, b"Not Found", "text/plain")
                    return
            except Exception as exc:  # noqa: BLE001 - every error becomes a JSON-RPC error
                reply.pop("result", None)
                reply["error"] = error_object(exc)
            if fault and fault["kind"] == "reset_after":
                self.close_connection = True
                return
            body = json.dumps(reply).encode()
            self._send(200, body, "application/json", cookie)

        def _json2(self, path: str, payload: Any) -> None:
            """Odoo 19's ``/json/2/<model>/<method>`` (404 on older versions, which lack it)."""
            if server.version < 19:
                self._send(404, b"Not Found", "text/plain")
                return
            fault = server.take_fault(path, {"method": path.rsplit("/", 1)[-1]})
            if fault and fault["kind"] == "http500":
                self._send(500, b"Internal Server Error", "text/plain")
                return
            if fault and fault["kind"] == "reset":
                self.close_connection = True
                return
            if fault and fault["kind"] == "delay":
                time.sleep(float(fault.get("seconds", 2)))
            headers = {}
            try:
                result, status = json2.call(server, path, self.headers, payload), 200
            except Exception as exc:  # noqa: BLE001 - every error becomes a JSON-2 error body
                status, result = json2.error_body(exc)
                if status == 401:
                    headers["WWW-Authenticate"] = "Bearer"
            if fault and fault["kind"] == "reset_after":
                self.close_connection = True
                return
            self._send(status, json.dumps(result).encode(), "application/json", headers=headers)

        def _cookie(self) -> str | None:
            for part in (self.headers.get("Cookie") or "").split(";"):
                name, _, value = part.strip().partition("=")
                if name == "session_id":
                    return value
            return None

        def _session_uid(self) -> int:
            uid = server._sessions.get(self._cookie() or "")
            if not uid:
                raise AccessDenied("Session expired")
            return uid

        def _send(
            self,
            status: int,
            body: bytes,
            ctype: str,
            cookie: str | None = None,
            headers: dict | None = None,
        ) -> None:
            try:
                self.send_response(status)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
                return
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if cookie:
                self.send_header("Set-Cookie", f"session_id={cookie}; Path=/; HttpOnly")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                self.close_connection = True

    return Handler
