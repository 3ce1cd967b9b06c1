"""Odoo exceptions and the JSON-RPC error object a real Odoo 17 sends for them.

Every failure of a JSON-RPC call comes back with HTTP 200 and an ``error`` member of code 200,
message "Odoo Server Error" and ``data`` = {name, debug, message, arguments, context}, where
``name`` is the dotted class name (``odoo.exceptions.UserError``, ``builtins.ValueError``...).
Server code raises the classes below (or plain ``ValueError``/``TypeError``, as Odoo's own code
does) and ``error_object`` turns any of them into that shape.
"""

from __future__ import annotations

import traceback


class OdooError(Exception):
    """Base of the ``odoo.exceptions`` family: one message, named ``odoo.exceptions.<cls>``."""

    module = "odoo.exceptions"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UserError(OdooError):
    pass


class ValidationError(UserError):
    pass


class AccessError(UserError):
    pass


class MissingError(UserError):
    pass


class AccessDenied(OdooError):
    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)


def missing_required(model_label: str, model: str, field_label: str, field: str) -> ValidationError:
    """The NOT NULL violation message Odoo 17 turns into a ValidationError."""
    return ValidationError(
        "The operation cannot be completed:\n"
        "- Create/update: a mandatory field is not set.\n"
        "- Delete: another model requires the record being deleted. "
        "If possible, archive it instead.\n\n"
        f"Model: {model_label} ({model})\nField: {field_label} ({field})\n"
    )


def foreign_key_refusal(model_label: str, model: str, constraint: str) -> ValidationError:
    """The FOREIGN KEY violation message Odoo 17 turns into a ValidationError on unlink."""
    return ValidationError(
        "The operation cannot be completed: another model requires the record being deleted. "
        "If possible, archive it instead.\n\n"
        f"Model: {model_label} ({model})\nConstraint: {constraint}\n"
    )


def error_object(exc: BaseException) -> dict:
    """The JSON-RPC ``error`` member for ``exc``, shaped like Odoo 17's ``_serialize_exception``."""
    if isinstance(exc, OdooError):
        name = f"{exc.module}.{type(exc).__name__}"
        message = exc.message
    else:
        cls = type(exc)
        name = f"{cls.__module__}.{cls.__qualname__}"
        message = str(exc.args[0]) if len(exc.args) == 1 else str(exc)
    return {
        "code": 200,
        "message": "Odoo Server Error",
        "data": {
            "name": name,
            "debug": "".join(traceback.format_exception(exc)),
            "message": message,
            "arguments": [message],
            "context": {},
        },
    }
