"""``exsim odoo check``: can this database run a live exsim session?

Reports the server version and the transport it takes, whether the modules exsim needs are
installed, whether the test-database guard allows writes, and then checks exsim's
*assumptions about the data model* against what the server says (``fields_get``,
``default_get``) -- values, not only names:

- for each category the scenario uses, its record pattern (``mapping.py``): every field its
  domain, trigger date and case key use exists (following ``a.b`` paths through relations),
  and every selection value its domain compares with is one the field offers (a domain on
  ``state = 'assigned'`` against a model without that state would silently match nothing);
- for each kind of record exsim writes (``WRITES``: seed, inject, deploy), every field it
  sends exists, every selection value it sends is accepted, and every field the server
  requires is either sent or has a default.

Each mismatch is one line naming model, field and what differs. It also lists the OCA modules
exsim can use (``OCA_EFFECTS``), installed or not, and what ``deploy-policy`` does with and
without each; they are optional, so a missing one is no problem. Read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.odoo.capabilities import OCA_MODULES, Capabilities, detect
from sim.odoo.guard import is_test_database
from sim.odoo.mapping import pattern_for
from sim.odoo.transport import OdooError, Transport

MODULES = ("sale_management", "stock", "purchase", "account", "base_automation")
#: OCA module -> (what deploy-policy does with it installed, what it does without it)
OCA_EFFECTS: dict[str, tuple[str, str]] = {
    "base_tier_validation": (
        "tier definitions and reviews (sale/purchase_tier_validation put orders under them)",
        "no tier validation: approvals are the simulator's only",
    ),
    "sale_tier_validation": (
        "approval levels of sale-order categories become tier definitions: injected orders "
        "over a level's threshold wait for a real review before confirmation",
        "approvals of sale-order categories are not deployed (the simulator's only)",
    ),
    "purchase_tier_validation": (
        "approval levels of purchase-order categories become tier definitions: injected "
        "orders over a level's threshold wait for a real review before confirmation",
        "approvals of purchase-order categories are not deployed (the simulator's only)",
    ),
    "base_exception": (
        "exception rules (sale/purchase/stock_exception apply them to documents)",
        "no exception rules: exception_rule detection is an automation rule with an activity",
    ),
    "sale_exception": (
        "exception_rule on sale-order categories becomes an exception.rule: it blocks the "
        "order's confirmation and links the exception",
        "exception_rule on sale orders is an automation rule with an activity "
        "(detects, does not block)",
    ),
    "purchase_exception": (
        "exception_rule on purchase-order categories becomes an exception.rule: it blocks "
        "the order's confirmation and links the exception",
        "exception_rule on purchase orders is an automation rule with an activity "
        "(detects, does not block)",
    ),
    "stock_exception": (
        "exception_rule on transfer categories becomes an exception.rule: it blocks the "
        "transfer's confirmation and links the exception",
        "exception_rule on transfers is an automation rule with an activity "
        "(detects, does not block)",
    ),
}
assert set(OCA_EFFECTS) == set(OCA_MODULES)


def oca_lines(caps: Capabilities) -> list[str]:
    """One line per OCA module: installed or not, and what deploy-policy does therefore."""
    lines = []
    for module in OCA_MODULES:
        with_it, without = OCA_EFFECTS[module]
        if module in caps.oca:
            lines.append(f"OCA {module}: installed: {with_it}")
        else:
            lines.append(f"OCA {module}: not installed: {without}")
    return lines


# Required fields Odoo fills itself on create (computed, precomputed or set by a create
# override), which fields_get reports as required and default_get does not return.
FILLED_BY_ODOO = {
    "stock.picking": {"location_id", "location_dest_id", "move_type", "name"},
    "stock.move": {
        "name",
        "location_dest_id",
        "location_id",
        "company_id",
        "date",
        "uom_id",
        "picking_id",
    },
    "sale.order": {
        "name",
        "partner_invoice_id",
        "partner_shipping_id",
        "pricelist_id",
        "warehouse_id",
        "picking_policy",
        "date_order",
        "currency_id",
        "company_id",
        "state",
    },
    # lines: order_id comes from the order's one2many command
    "sale.order.line": {"order_id", "name", "product_uom", "product_uom_id", "customer_lead"},
    "purchase.order": {"name", "currency_id", "company_id", "date_order", "picking_type_id"},
    "purchase.order.line": {"order_id", "name", "product_uom", "product_uom_id", "price_unit"},
    "product.product": {"product_tmpl_id"},  # _inherits: created with its template
    "product.template": {"uom_id", "uom_po_id", "categ_id", "tracking"},
    "stock.quant": {"company_id", "product_uom_id"},
    "ir.cron": {"ir_actions_server_id", "user_id", "cron_name", "model_id", "usage", "type"},
    "ir.actions.server": {"type", "usage", "binding_type"},
    "base.automation": {"action_server_ids"},
    "mail.activity": {"res_model_id", "date_deadline", "user_id"},
}


def writes(caps: Capabilities) -> dict[str, dict[str, Any]]:
    """What exsim sends when it creates each kind of record on this server (field -> value;
    ``None`` where the value is an id or free text, so only the field's existence counts);
    the OCA records only where their module is installed."""
    oca: dict[str, dict[str, Any]] = {}
    if caps.tier_models:
        oca["tier.definition"] = {
            "name": None,
            "model_id": None,
            "review_type": "group",
            "reviewer_group_id": None,
            "definition_type": "domain",
            "definition_domain": None,
            "sequence": None,
            "has_comment": False,
            "approve_sequence": False,
            "active": True,
        }
        oca["res.groups"] = {"name": None, "users": None}
    if caps.exception_models:
        oca["exception.rule"] = {
            "name": None,
            "description": None,
            "sequence": None,
            "model": sorted(caps.exception_models),
            "exception_type": "by_domain",
            "domain": None,
            "is_blocking": None,
            "active": True,
        }
    return oca | {
        "res.partner": {"name": None, "street": None, "city": None, "is_company": True},
        "product.product": {
            "name": None,
            "default_code": None,
            "weight": None,
            "list_price": None,
            **caps.storable_product(),
        },
        "stock.quant": {"product_id": None, "location_id": None, "inventory_quantity": None},
        "stock.picking": {
            "picking_type_id": None,
            "location_id": None,
            "location_dest_id": None,
            "partner_id": None,
            "origin": None,
            "scheduled_date": None,
            "move_ids": None,
        },
        "stock.move": {
            "name": None,
            "product_id": None,
            "product_uom_qty": None,
            caps.move_uom: None,
            "location_id": None,
            "location_dest_id": None,
        },
        "sale.order": {
            "name": None,
            "partner_id": None,
            "commitment_date": None,
            "order_line": None,
        },
        "sale.order.line": {"product_id": None, "product_uom_qty": None, "price_unit": None},
        "purchase.order": {
            "name": None,
            "partner_id": None,
            "date_planned": None,
            "order_line": None,
        },
        "purchase.order.line": {
            "product_id": None,
            "product_qty": None,
            "price_unit": None,
            "date_planned": None,
        },
        "base.automation": {
            "name": None,
            "model_id": None,
            "filter_domain": None,
            "filter_pre_domain": None,
            "action_server_ids": None,
            "trigger": ["on_create_or_write", "on_time"],
            "trg_date_id": None,
            "trg_date_range": None,
            "trg_date_range_type": "minutes",
            "last_run": None,
        },
        "ir.actions.server": {
            "name": None,
            "model_id": None,
            "state": ["next_activity", "webhook", "code"],
            "webhook_url": None,
            "activity_type_id": None,
            "activity_summary": None,
            "activity_user_type": "specific",
            "activity_user_id": None,
        },
        "ir.cron": {
            "name": None,
            "model_id": None,
            "state": "code",
            "code": None,
            "interval_number": None,
            "interval_type": "minutes",
            "active": True,
            **caps.cron_values(),
        },
        "mail.activity": {
            "res_model_id": None,
            "res_id": None,
            "activity_type_id": None,
            "summary": None,
            "user_id": None,
            "automated": True,
        },
    }


@dataclass
class CheckReport:
    version: str = ""
    protocol: str = ""
    modules: dict[str, bool] = field(default_factory=dict)
    oca: dict[str, bool] = field(default_factory=dict)  # optional: never a problem
    oca_lines: list[str] = field(default_factory=list)
    test_database: bool = False
    mappings: dict[str, str] = field(default_factory=dict)  # category -> "ok" or the problems
    writes: dict[str, str] = field(default_factory=dict)  # model -> "ok" or the problems
    problems: list[str] = field(default_factory=list)  # one line per mismatch

    @property
    def ok(self) -> bool:
        return all(self.modules.values()) and self.test_database and not self.problems


class Schema:
    """``fields_get`` per model, asked once each (an unknown model reads as no fields)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._fields: dict[str, dict] = {}

    def fields(self, model: str) -> dict:
        if model not in self._fields:
            try:
                self._fields[model] = self.transport.call(
                    model,
                    "fields_get",
                    attributes=["type", "relation", "selection", "required", "readonly", "store"],
                )
            except OdooError:
                self._fields[model] = {}
        return self._fields[model]

    def resolve(self, model: str, path: str) -> tuple[str, dict | None, str]:
        """Follow ``a.b.c`` from ``model``: (model of the last field, its spec, problem)."""
        parts = path.split(".")
        for i, name in enumerate(parts):
            fields = self.fields(model)
            if not fields:
                return model, None, f"model {model} missing"
            spec = fields.get(name)
            if spec is None:
                return model, None, f"{model}.{name} missing"
            if i < len(parts) - 1:
                if not spec.get("relation"):
                    return model, None, f"{model}.{name} is not relational (path {path})"
                model = spec["relation"]
        return model, spec, ""


def value_problems(model: str, name: str, spec: dict, values: Any) -> list[str]:
    """Selection values the field does not offer (one line each)."""
    allowed = [s[0] for s in spec.get("selection") or []] if spec.get("type") == "selection" else []
    if not allowed or values is None:
        return []
    wanted = values if isinstance(values, (list, tuple)) else [values]
    return [
        f"{model}.{name}: value {v!r} not offered (has {', '.join(map(repr, allowed))})"
        for v in wanted
        if v not in (False, None) and v not in allowed
    ]


def check_pattern(schema: Schema, category: str) -> list[str]:
    """Mismatches between a category's record pattern and the server's fields."""
    pattern = pattern_for(category)
    if not schema.fields(pattern.model):
        return [f"model {pattern.model} missing"]
    problems = []
    for leaf in pattern.domain:
        if not isinstance(leaf, tuple):
            continue
        path, operator, value = leaf
        model, spec, problem = schema.resolve(pattern.model, path)
        if problem:
            problems.append(problem)
        elif operator in ("=", "!=", "in", "not in"):
            problems += value_problems(model, path.rsplit(".", 1)[-1], spec, value)
    for path in (pattern.trigger_field, pattern.key_path):
        problem = schema.resolve(pattern.model, path)[2]
        if problem:
            problems.append(problem)
    return problems


def check_writes(transport: Transport, schema: Schema, model: str, vals: dict) -> list[str]:
    """Mismatches between what exsim sends to ``model`` and what the server accepts/needs."""
    fields = schema.fields(model)
    if not fields:
        return [f"model {model} missing"]
    problems = []
    for name, value in vals.items():
        spec = fields.get(name)
        if spec is None:
            problems.append(f"{model}.{name} missing (exsim sends it)")
        else:
            problems += value_problems(model, name, spec, value)
    required = [
        n
        for n, s in fields.items()
        if s.get("required") and s.get("store", True) and not s.get("readonly")
    ]
    unsent = [n for n in required if n not in vals and n not in FILLED_BY_ODOO.get(model, set())]
    if unsent:
        try:
            defaults = transport.call(model, "default_get", unsent)
        except OdooError:
            defaults = {}
        problems += [
            f"{model}.{n} required: exsim does not send it and Odoo has no default"
            for n in unsent
            if n not in defaults
        ]
    return problems


def check(transport: Transport, categories: list[str]) -> CheckReport:
    report = CheckReport()
    caps = detect(transport)
    report.version = caps.version
    report.protocol = type(transport).__name__
    if not caps.supported:
        report.problems.append(f"Odoo {caps.version}: exsim supports majors 16-19 only")
    rows = transport.call(
        "ir.module.module", "search_read", [["name", "in", list(MODULES)]], fields=["name", "state"]
    )
    states = {r["name"]: r["state"] for r in rows}
    report.modules = {m: states.get(m) == "installed" for m in MODULES}
    report.oca = {m: m in caps.oca for m in OCA_MODULES}
    report.oca_lines = oca_lines(caps)
    report.test_database = is_test_database(transport)
    schema = Schema(transport)
    for category in categories:
        try:
            problems = check_pattern(schema, category)
        except KeyError as exc:
            problems = [str(exc.args[0])]
        report.mappings[category] = "; ".join(problems) or "ok"
        report.problems += [f"mapping {category}: {p}" for p in problems]
    try:
        specs = writes(caps)
    except ValueError as exc:  # no way to declare a stocked product here
        report.problems.append(str(exc))
        specs = {}
    for model, vals in specs.items():
        problems = check_writes(transport, schema, model, vals)
        report.writes[model] = "; ".join(problems) or "ok"
        report.problems += [f"writes {model}: {p}" for p in problems]
    return report
