"""The base state of a fresh database with sale_management, stock, purchase, account and
base_automation installed (ids and names as on an Odoo 17 demo database where it helps).

``ir.model`` and ``ir.model.fields`` are generated from fields.json, so automation rules and
server actions can point at models and fields by id exactly as on a real server.  The shared
"Automation Rules: check and execute" cron exists, switched off, as on a fresh database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import oca, schema
from .orm import MODEL_LABELS

if TYPE_CHECKING:
    from .server import OdooTestServer

MAIL_THREAD = {
    "account.journal",
    "account.move",
    "crm.team",
    "product.pricelist",
    "product.product",
    "product.template",
    "purchase.order",
    "res.company",
    "res.partner",
    "sale.order",
    "stock.picking",
}
INSTALLED = [
    "base",
    "web",
    "mail",
    "product",
    "uom",
    "account",
    "sale",
    "sale_management",
    "stock",
    "sale_stock",
    "purchase",
    "purchase_stock",
    "base_automation",
]

ROWS: dict[str, list[dict]] = {
    "res.currency": [
        {"id": 1, "name": "USD", "symbol": "$"},
        {"id": 2, "name": "EUR", "symbol": "€"},
    ],
    "res.country": [
        {"id": 21, "name": "Belgium", "code": "BE"},
        {"id": 75, "name": "France", "code": "FR"},
        {"id": 57, "name": "Germany", "code": "DE"},
        {"id": 165, "name": "Netherlands", "code": "NL"},
        {"id": 233, "name": "United States", "code": "US"},
    ],
    "uom.uom": [{"id": 1, "name": "Units"}],
    "product.category": [{"id": 1, "name": "All", "complete_name": "All"}],
    "mail.message.subtype": [
        {"id": 1, "name": "Discussions"},
        {"id": 2, "name": "Note"},
        {"id": 3, "name": "Activities"},
    ],
    "account.journal": [{"id": 1, "name": "Customer Invoices"}, {"id": 2, "name": "Vendor Bills"}],
    "res.groups": [{"id": 1, "name": "Internal User"}, {"id": 2, "name": "Settings"}],
    "res.partner": [
        {
            "id": 1,
            "name": "My Company (San Francisco)",
            "is_company": True,
            "city": "San Francisco",
            "street": "250 Executive Park Blvd, Suite 3400",
            "country_id": 233,
            "zip": "94134",
        },
        {"id": 2, "name": "OdooBot", "active": False},
        {"id": 3, "name": "Mitchell Admin", "email": "admin@yourcompany.example.com"},
        {"id": 7, "name": "Marc Demo", "email": "mark.brown23@example.com"},
    ],
    "res.company": [
        {
            "id": 1,
            "name": "My Company (San Francisco)",
            "partner_id": 1,
            "currency_id": 1,
            "country_id": 233,
            "account_use_credit_limit": False,
        }
    ],
    "res.users": [
        {"id": 1, "login": "__system__", "partner_id": 2, "active": False},
        {"id": 2, "login": "admin", "partner_id": 3},
        {"id": 6, "login": "demo", "partner_id": 7},
    ],
    "stock.location": [
        {"id": 1, "name": "Physical Locations", "usage": "view"},
        {"id": 2, "name": "Partners", "usage": "view"},
        {"id": 3, "name": "Virtual Locations", "usage": "view"},
        {"id": 4, "name": "Vendors", "usage": "supplier", "location_id": 2},
        {"id": 5, "name": "Customers", "usage": "customer", "location_id": 2},
        {"id": 7, "name": "WH", "usage": "view", "location_id": 1, "warehouse_id": 1},
        {"id": 8, "name": "Stock", "usage": "internal", "location_id": 7, "warehouse_id": 1},
        {"id": 9, "name": "Input", "usage": "internal", "location_id": 7, "warehouse_id": 1},
        {"id": 11, "name": "Output", "usage": "internal", "location_id": 7, "warehouse_id": 1},
        {"id": 14, "name": "Inventory adjustment", "usage": "inventory", "location_id": 3},
        {"id": 16, "name": "Scrap", "usage": "inventory", "location_id": 3, "scrap_location": True},
    ],
    "stock.warehouse": [
        {
            "id": 1,
            "name": "YourCompany",
            "code": "WH",
            "company_id": 1,
            "partner_id": 1,
            "view_location_id": 7,
            "lot_stock_id": 8,
            "wh_input_stock_loc_id": 9,
            "wh_output_stock_loc_id": 11,
            "in_type_id": 1,
            "out_type_id": 2,
            "reception_steps": "one_step",
            "delivery_steps": "ship_only",
            "sequence": 10,
        }
    ],
    "stock.picking.type": [
        {
            "id": 1,
            "name": "Receipts",
            "code": "incoming",
            "sequence_code": "IN",
            "sequence": 1,
            "warehouse_id": 1,
            "default_location_dest_id": 8,
        },
        {
            "id": 2,
            "name": "Delivery Orders",
            "code": "outgoing",
            "sequence_code": "OUT",
            "sequence": 5,
            "warehouse_id": 1,
            "default_location_src_id": 8,
        },
    ],
    "mail.activity.type": [
        {"id": 1, "name": "Email", "sequence": 5, "icon": "fa-envelope"},
        {
            "id": 2,
            "name": "Call",
            "category": "phonecall",
            "delay_count": 2,
            "sequence": 6,
            "icon": "fa-phone",
        },
        {"id": 3, "name": "Meeting", "sequence": 3, "icon": "fa-users"},
        {"id": 4, "name": "To-Do", "delay_count": 5, "sequence": 12, "icon": "fa-check"},
        {
            "id": 5,
            "name": "Upload Document",
            "category": "upload_file",
            "delay_count": 5,
            "sequence": 25,
            "icon": "fa-upload",
        },
    ],
}
XMLIDS = [
    ("base", "main_company", "res.company", 1),
    ("base", "main_partner", "res.partner", 1),
    ("base", "partner_root", "res.partner", 2),
    ("base", "partner_admin", "res.partner", 3),
    ("base", "user_root", "res.users", 1),
    ("base", "user_admin", "res.users", 2),
    ("base", "user_demo", "res.users", 6),
    ("base", "USD", "res.currency", 1),
    ("base", "EUR", "res.currency", 2),
    ("base", "be", "res.country", 21),
    ("base", "us", "res.country", 233),
    ("uom", "product_uom_unit", "uom.uom", 1),
    ("product", "product_category_all", "product.category", 1),
    ("stock", "warehouse0", "stock.warehouse", 1),
    ("stock", "stock_location_stock", "stock.location", 8),
    ("stock", "stock_location_customers", "stock.location", 5),
    ("stock", "stock_location_suppliers", "stock.location", 4),
    ("stock", "picking_type_in", "stock.picking.type", 1),
    ("stock", "picking_type_out", "stock.picking.type", 2),
    ("mail", "mail_activity_data_email", "mail.activity.type", 1),
    ("mail", "mail_activity_data_call", "mail.activity.type", 2),
    ("mail", "mail_activity_data_meeting", "mail.activity.type", 3),
    ("mail", "mail_activity_data_todo", "mail.activity.type", 4),
    ("mail", "mail_activity_data_upload_document", "mail.activity.type", 5),
    ("mail", "mt_comment", "mail.message.subtype", 1),
    ("mail", "mt_note", "mail.message.subtype", 2),
    ("mail", "mt_activities", "mail.message.subtype", 3),
]


def _insert(server: OdooTestServer, model: str, values: dict) -> int:
    """Insert through the ORM's create path with defaults, but without hooks or rules."""
    env = server.env(1)
    obj = env[model]
    row = {
        n: schema.default_for(f)
        for n, f in obj.fields.items()
        if f.type != "one2many" and n != "display_name"
    }
    row.update(obj._default_values())
    row.update(values)
    now = env.now()
    row.update(create_date=now, write_date=now, create_uid=1, write_uid=1)
    return server.db.insert(model, row)


def seed(server: OdooTestServer, password: str) -> None:
    field_id = 0
    for model_id, model in enumerate(schema.known_models(server.version, server.oca), start=1):
        _insert(
            server,
            "ir.model",
            {
                "id": model_id,
                "model": model,
                "name": MODEL_LABELS.get(model, model),
                "state": "base",
                "is_mail_thread": model in MAIL_THREAD,
                "order": "id",
                "is_mail_activity": model in MAIL_THREAD - {"res.company", "crm.team"},
            },
        )
        for name, field in schema.model_fields(model, server.version, server.oca).items():
            field_id += 1
            _insert(
                server,
                "ir.model.fields",
                {
                    "id": field_id,
                    "name": name,
                    "model": model,
                    "model_id": model_id,
                    "field_description": field.string,
                    "ttype": field.type,
                    "relation": field.relation or False,
                    "required": field.required,
                    "readonly": field.readonly,
                    "store": field.store,
                    "state": "base",
                    "tracking": 1 if name in ("state", "partner_id", "user_id") else 0,
                },
            )
    for model, rows in ROWS.items():
        for values in rows:
            _insert(server, model, dict(values))
    users = server.db.tables["res.users"]
    users[2]["password"] = password
    users[6]["password"] = "demo"
    if server.oca:
        _seed_oca(server)
    installed = INSTALLED + (list(oca.MODULES) if server.oca else [])
    for i, name in enumerate(installed, start=1):
        _insert(
            server,
            "ir.module.module",
            {
                "id": i,
                "name": name,
                "state": "installed",
                "shortdesc": name.replace("_", " ").title(),
                "latest_version": f"{server.version}.0.1.0",
            },
        )
    _insert(
        server,
        "ir.module.module",
        {"name": "mrp", "state": "uninstalled", "shortdesc": "Manufacturing"},
    )
    env = server.env(1)
    base_automation = env["ir.model"]._search([("model", "=", "base.automation")])[0]
    action = _insert(
        server,
        "ir.actions.server",
        {
            "name": "Automation Rules: check and execute",
            "model_id": base_automation,
            "model_name": "base.automation",
            "state": "code",
            "code": "model._check(True)",
            "usage": "ir_cron",
        },
    )
    cron = _insert(
        server,
        "ir.cron",
        {
            "id": 14,
            "cron_name": "Automation Rules: check and execute",
            "name": "Automation Rules: check and execute",
            "ir_actions_server_id": action,
            "model_id": base_automation,
            "model_name": "base.automation",
            "code": "model._check(True)",
            "interval_number": 4,
            "interval_type": "hours",
            "active": False,
            "nextcall": env.now(),
            "user_id": 1,
        },
    )
    for module, name, model, res_id in [
        *XMLIDS,
        ("base_automation", "ir_cron_data_base_automation_check", "ir.cron", cron),
    ]:
        _insert(
            server,
            "ir.model.data",
            {"module": module, "name": name, "model": model, "res_id": res_id, "noupdate": True},
        )
    for key, value in (
        ("web.base.url", server.url or "http://127.0.0.1"),
        ("database.uuid", "00000000-exsim-test-server"),
    ):
        _insert(server, "ir.config_parameter", {"key": key, "value": value})


def _seed_oca(server: OdooTestServer) -> None:
    """With the OCA modules: who is in which group (reviewer groups need their users), and the
    "Exception manager" group that may write exception rules, which ``tools/real-odoo17-oca``
    gives the admin (a fresh install gives it to nobody)."""
    groups = server.db.tables["res.groups"]
    groups[1]["users"] = sorted(server.db.tables["res.users"])  # Internal User
    groups[2]["users"] = [1, 2]  # Settings
    _insert(server, "res.groups", {"name": oca.EXCEPTION_MANAGER, "users": [2]})
