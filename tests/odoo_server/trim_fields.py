"""Regenerate ``tests/data/odoo<N>/fields.json`` from a full ``fields_get`` dump of a real Odoo.

The test server answers ``fields_get`` (and validates selections, required fields and relations)
from that trimmed copy, so the repository stands alone.  ``SERVED`` (the data file
``served_fields.json`` beside this module) is the single list of models and fields the server
serves (a name the dump lacks is left out: 18 has no ``detailed_type`` or
``ir.cron.numbercall``), ``ADDED`` the fields a later version adds that
exsim relies on; ``EXTRA`` adds the few small models the dump lacks but that served relations
point to (modules, units, categories, currencies, countries).

Odoo 19 has no dump here (no clean 19.0 Community server was built): ``derive_19`` applies to the
18.0 copy the renames read in Odoo 19's own source (``addons/stock/models/stock_move.py``:
``product_uom`` became ``uom_id``; ``addons/sale/models/sale_order_line.py``: ``product_uom``
became ``product_uom_id`` and ``tax_id`` became ``tax_ids``).

Usage: ``python -m tests.odoo_server.trim_fields 17 /path/to/odoo17/fields_get.json``,
``... 18 /path/to/odoo18/fields_get.json`` then ``... 19`` (derived from the 18 copy).
The OCA overlay (``tests/data/oca17/fields.json``, ``OCA_SERVED``) comes from a real 17.0 with
the modules of ``tools/real-odoo17-oca``: ``... oca /path/to/fields_get_oca.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
ADDED: dict[str, list[str]] = {
    "product.template": ["is_storable"],
    "product.product": ["is_storable"],
    "ir.cron": ["failure_count", "first_failure_date"],
}
RENAMED_19: dict[str, dict[str, str]] = {
    "stock.move": {"product_uom": "uom_id"},
    "sale.order.line": {"product_uom": "product_uom_id", "tax_id": "tax_ids"},
}
KEEP = ("type", "string", "required", "readonly", "relation", "selection", "store")
COMMON = ["id", "display_name", "create_date", "create_uid", "write_date", "write_uid"]

#: the models the test server serves, each with its fields (beyond ``COMMON``)
SERVED: dict[str, list[str]] = json.loads(
    Path(__file__).with_name("served_fields.json").read_text(encoding="utf-8")
)


def _f(ftype: str, string: str, **kw: object) -> dict:
    return {
        "type": ftype,
        "string": string,
        "required": False,
        "readonly": False,
        "store": True,
        **kw,
    }


_NAMED = {"name": _f("char", "Name", required=True)}
EXTRA: dict[str, dict[str, dict]] = {
    "ir.module.module": {
        "name": _f("char", "Technical Name", readonly=True),
        "shortdesc": _f("char", "Module Name", readonly=True),
        "state": _f(
            "selection",
            "Status",
            readonly=True,
            selection=[
                ["uninstallable", "Uninstallable"],
                ["uninstalled", "Not Installed"],
                ["installed", "Installed"],
                ["to upgrade", "To be upgraded"],
                ["to remove", "To be removed"],
                ["to install", "To be installed"],
            ],
        ),
        "latest_version": _f("char", "Installed Version", readonly=True),
        "application": _f("boolean", "Application", readonly=True),
    },
    "uom.uom": dict(_NAMED),
    "product.category": {**_NAMED, "complete_name": _f("char", "Complete Name")},
    "res.currency": {**_NAMED, "symbol": _f("char", "Symbol")},
    "res.country": {**_NAMED, "code": _f("char", "Country Code")},
    "mail.message.subtype": dict(_NAMED),
    "res.groups": dict(_NAMED),
    "account.journal": dict(_NAMED),
    "crm.team": dict(_NAMED),
    "product.pricelist": dict(_NAMED),
    "procurement.group": dict(_NAMED),
}
_BASE = {
    "id": _f("integer", "ID", readonly=True),
    "display_name": _f("char", "Display Name", readonly=True, store=False),
}


def _attrs(field: dict) -> dict:
    attrs = {k: field[k] for k in KEEP if k in field}
    if field["type"] == "reference":  # only the served models, not all ~400 of a real db
        attrs["selection"] = [s for s in field["selection"] if s[0] in SERVED]
    return attrs


def trim(full: dict) -> dict:
    """Keep the served models and fields, and only the attributes the server needs."""
    out: dict[str, dict] = {}
    for model, names in SERVED.items():
        fields = full[model]
        wanted = set(COMMON + names + ADDED.get(model, []))
        out[model] = {name: _attrs(fields[name]) for name in sorted(wanted) if name in fields}
    for model, fields in EXTRA.items():
        out[model] = {**_BASE, **fields}
    return out


def derive_19(fields_18: dict) -> dict:
    """Odoo 19's served fields: 18's with the renames read in 19's source (``RENAMED_19``)."""
    out = json.loads(json.dumps(fields_18))
    for model, renames in RENAMED_19.items():
        for old, new in renames.items():
            out[model][new] = out[model].pop(old)
    return out


#: the OCA modules' models and the fields they add to served models (``OdooTestServer(oca=True)``),
#: plus the two sides of the user/group relation that a group of reviewers needs
OCA_SERVED: dict[str, list[str]] = {
    "exception.rule": [
        *("name", "description", "sequence", "model", "exception_type", "domain", "method"),
        *("active", "code", "is_blocking", "sale_ids", "purchase_ids", "picking_ids"),
    ],
    "tier.definition": [
        *("name", "model_id", "model", "review_type", "reviewer_id", "reviewer_group_id"),
        *("definition_type", "definition_domain", "active", "sequence", "company_id"),
        *("has_comment", "approve_sequence", "approve_sequence_bypass", "notify_on_create"),
        *("notify_reminder_delay", "allow_write_for_reviewer"),
    ],
    "tier.review": [
        *("name", "status", "model", "res_id", "definition_id", "company_id", "review_type"),
        *("reviewer_id", "reviewer_group_id", "reviewer_ids", "sequence", "todo_by", "done_by"),
        *("requested_by", "reviewed_date", "has_comment", "comment", "can_review"),
        *("approve_sequence", "approve_sequence_bypass", "display_status"),
    ],
    **{
        model: [
            *("exception_ids", "exceptions_summary", "ignore_exception", "main_exception_id"),
            *("review_ids", "validated", "rejected", "need_validation", "validation_status"),
            *("reviewer_ids", "can_review", "has_comment", "next_review"),
        ]
        for model in ("sale.order", "purchase.order")
    },
    "stock.picking": [
        *("exception_ids", "exceptions_summary", "ignore_exception", "main_exception_id"),
    ],
    "sale.order.line": ["exception_ids", "ignore_exception", "is_exception_danger"],
    "purchase.order.line": ["ignore_exception"],
    "stock.move": ["ignore_exception"],
    "res.groups": ["users"],
    "res.users": ["groups_id", "review_ids"],
}
OCA_NEW = ("exception.rule", "tier.definition", "tier.review")


def trim_oca(full: dict) -> dict:
    """The OCA overlay: new models whole (served fields), only the served fields elsewhere."""
    out: dict[str, dict] = {}
    for model, names in OCA_SERVED.items():
        wanted = set(names) | (set(COMMON) if model in OCA_NEW else set())
        out[model] = {name: _attrs(full[model][name]) for name in sorted(wanted)}
    return out


def path_for(version: int | str) -> Path:
    return DATA / ("oca17" if version == "oca" else f"odoo{version}") / "fields.json"


def write(version: int | str, fields: dict) -> Path:
    out = path_for(version)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(fields, indent=1, sort_keys=True) + "\n")
    return out


if __name__ == "__main__":
    major = sys.argv[1] if sys.argv[1] == "oca" else int(sys.argv[1])
    if major == "oca":
        result = trim_oca(json.loads(Path(sys.argv[2]).read_text()))
    elif major == 19:
        result = derive_19(json.loads(path_for(18).read_text()))
    else:
        result = trim(json.loads(Path(sys.argv[2]).read_text()))
    print(f"wrote {write(major, result)}")
