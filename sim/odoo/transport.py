"""How exsim talks to Odoo: one small interface, one class per wire protocol.

Everything above this module calls ``transport.call(model, method, *args, **kwargs)`` and
nothing else, so the wire protocol can change without touching seed, inject or observe:

- ``JsonRpcTransport``: odoorpc over JSON-RPC (HTTP or HTTPS), for Odoo 14 to 18;
- ``Json2Transport``: Odoo 19's JSON-2 API (``POST /json/2/<model>/<method>`` with an API key
  in the ``Authorization`` header). Not implemented yet: a stub that says so.

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
import random
import socket
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sim.odoo.settings import Settings


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


def classify(exc: BaseException) -> Exception:
    """Map a client-side exception to TransientError / OdooError (others pass through)."""
    import odoorpc.error

    if isinstance(exc, odoorpc.error.RPCError):
        data = (exc.info or {}).get("data", {}) if isinstance(exc.info, dict) else {}
        name = str(data.get("name") or "")
        kind = name.rsplit(".", 1)[-1] or "RPCError"
        message = str(data.get("message") or exc.args[0] if exc.args else exc)
        return OdooError(kind, message.strip().splitlines()[0] if message.strip() else kind)
    if isinstance(exc, urllib.error.HTTPError):
        if exc.code >= 500:
            return TransientError(f"HTTP {exc.code} from Odoo")
        return OdooError("HTTPError", f"HTTP {exc.code}")
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
            if isinstance(err, OdooError):
                raise OdooError(
                    "AccessDenied", f"login to {s.url} db {s.db} as {s.user} failed"
                ) from None
            raise err from None
        return self._client.env.uid

    def version(self) -> dict:
        client = self._client or self._connect()
        try:
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


class Json2Transport:
    """Odoo 19's JSON-2 API: ``POST /json/2/<model>/<method>`` with ``Authorization: bearer``.

    Not implemented: exsim targets Odoo 17 today. Implementing ``call`` (named arguments
    ``ids``/``context`` plus the method's own) and ``version`` (``/web/version``) is all it
    takes; nothing else in ``sim.odoo`` depends on the protocol.
    """

    def __init__(self, settings: Settings, api_key: str) -> None:
        self.settings = settings
        self.api_key = api_key
        self.calls: list[CallStat] = []

    def login(self) -> int:
        raise NotImplementedError("the JSON-2 transport (Odoo 19) is not implemented yet")

    def version(self) -> dict:
        raise NotImplementedError("the JSON-2 transport (Odoo 19) is not implemented yet")

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("the JSON-2 transport (Odoo 19) is not implemented yet")


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


def connect(settings: Settings) -> JsonRpcTransport:
    transport = JsonRpcTransport(settings)
    transport.login()
    return transport
