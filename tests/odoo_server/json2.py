"""Odoo 19's JSON-2 API on the test server (served when the server runs as version 19+).

As ``addons/rpc/controllers/json2.py`` of Odoo 19 serves it:

- ``POST /json/2/<model>/<method>`` with ``Authorization: bearer <API key>`` (``auth='bearer'``:
  a missing or unknown key is HTTP 401, ``WWW-Authenticate: bearer``) and an optional
  ``X-Odoo-Database`` header naming the database;
- the body is one JSON object of *named* arguments: ``ids`` (the records, for methods called
  on records), ``context``, and the method's own parameters by name (``domain``, ``fields``,
  ``vals_list``, ``vals``...). Arguments that do not bind to the method's signature are HTTP
  422, as are ``ids`` given to a model method ("cannot call res.partner.create with ids");
- an unknown model or method is HTTP 404, a private one an ``AccessError``;
- the reply is the method's result as plain JSON (a recordset becomes its ids); an error is a
  JSON object ``{name, message, arguments, context, debug}`` (``http.serialize_exception``)
  with the exception's HTTP status: ``UserError``/``ValidationError`` 422, ``AccessError`` and
  ``AccessDenied`` 403, ``MissingError`` 404, anything else 500.

Each call is one transaction, as on ``/jsonrpc``.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from . import schema
from .errors import AccessDenied, AccessError, MissingError, OdooError, error_object
from .orm import REGISTRY, Env, as_ids

if TYPE_CHECKING:
    from .server import OdooTestServer

PREFIX = "/json/2/"


class HttpError(Exception):
    """A werkzeug HTTP exception: status, class name and description."""

    def __init__(self, status: int, name: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.name = name
        self.description = description


def status_of(exc: BaseException) -> int:
    if isinstance(exc, MissingError):
        return 404
    if isinstance(exc, (AccessError, AccessDenied)):
        return 403
    if isinstance(exc, OdooError):
        return 422
    return 500


def error_body(exc: BaseException) -> tuple[int, dict]:
    """(HTTP status, body) for an exception, as JSON-2's ``handle_error`` builds them."""
    if isinstance(exc, HttpError):
        body = {
            "name": f"werkzeug.exceptions.{exc.name}",
            "message": exc.description,
            "arguments": [exc.description, exc.status],
            "context": {},
            "debug": "",
        }
        return exc.status, body
    return status_of(exc), error_object(exc)["data"]


def authenticate(server: OdooTestServer, headers: Any) -> int:
    """The user id the bearer API key belongs to (HttpError 401 otherwise)."""
    header = headers.get("Authorization") or ""
    scheme, _, token = header.partition(" ")
    uid = server.api_keys.get(token.strip()) if scheme.lower() == "bearer" else None
    if not uid:
        raise HttpError(401, "Unauthorized", "Invalid apikey")
    database = headers.get("X-Odoo-Database")
    if database and database != server.db_name:
        raise HttpError(404, "NotFound", f"database {database!r} not found")
    return uid


def call(server: OdooTestServer, path: str, headers: Any, body: Any) -> Any:
    """Serve one JSON-2 call; raises HttpError or the method's own exception."""
    parts = path[len(PREFIX) :].split("/")
    if len(parts) != 2 or not all(parts):
        raise HttpError(404, "NotFound", "Did you mean POST /json/2/<model>/<method>?")
    model, method = parts
    uid = authenticate(server, headers)
    if not isinstance(body, dict):
        raise HttpError(400, "BadRequest", "could not parse the body, expecting a json object")
    kwargs = dict(body)
    ids = as_ids(kwargs.pop("ids", []) or [])
    context = kwargs.pop("context", None) or {}
    if model not in REGISTRY and model not in schema.known_models(server.version, server.oca):
        raise HttpError(404, "NotFound", f"the model {model!r} does not exist")
    if method.startswith("_"):
        raise AccessError(
            f"Private methods (such as '{model}.{method}') cannot be called remotely."
        )
    with server.db.transaction():
        env = Env(server, uid, context)
        obj = env[model]
        fn = getattr(obj, method, None)
        kind = getattr(fn, "rpc", None)
        if kind is None:
            raise HttpError(
                404, "NotFound", f"The method '{method}' does not exist on the model '{model}'"
            )
        server.check_access(uid, model, method)
        if kind == "model" and ids:
            raise HttpError(422, "UnprocessableEntity", f"cannot call {model}.{method} with ids")
        bound = (ids,) if kind == "records" else ()
        try:
            inspect.signature(fn).bind(*bound, **kwargs)
        except TypeError as exc:
            raise HttpError(422, "UnprocessableEntity", exc.args[0]) from None
        return fn(*bound, **kwargs)
