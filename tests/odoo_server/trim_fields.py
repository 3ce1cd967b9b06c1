"""Regenerate ``tests/data/odoo17/fields.json`` from a full ``fields_get`` dump of a real Odoo 17.

The test server answers ``fields_get`` (and validates selections, required fields and relations)
from that trimmed copy, so the repository stands alone.  ``SERVED`` below is the single list of
models and fields the server serves; ``EXTRA`` adds the few small models the dump lacks but that
served relations point to (modules, units, categories, currencies, countries).

Usage: ``python -m tests.odoo_server.trim_fields /path/to/fields_get.json``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "data" / "odoo17" / "fields.json"
KEEP = ("type", "string", "required", "readonly", "relation", "selection", "store")
COMMON = ["id", "display_name", "create_date", "create_uid", "write_date", "write_uid"]

SERVED: dict[str, list[str]] = {
    "res.company": ["name", "partner_id", "currency_id", "country_id", "active",
                    "account_use_credit_limit", "street", "city", "vat", "email"],
    "res.partner": ["name", "active", "street", "street2", "city", "zip", "country_id", "vat",
                    "email", "phone", "is_company", "company_id", "parent_id", "child_ids",
                    "credit_limit", "use_partner_credit_limit", "customer_rank", "supplier_rank",
                    "ref", "type", "complete_name", "commercial_partner_id", "user_id",
                    "sale_warn", "picking_warn", "lang"],
    "res.users": ["name", "login", "password", "active", "partner_id", "company_id",
                  "company_ids", "email", "share", "lang"],
    "product.template": ["name", "active", "default_code", "type", "detailed_type", "list_price",
                         "standard_price", "weight", "volume", "uom_id", "uom_po_id", "categ_id",
                         "sale_ok", "purchase_ok", "tracking", "product_variant_ids",
                         "invoice_policy", "barcode", "company_id", "description_sale",
                         "qty_available", "virtual_available", "sale_delay"],
    "product.product": ["name", "active", "default_code", "type", "detailed_type", "list_price",
                        "lst_price", "standard_price", "weight", "volume", "uom_id", "uom_po_id",
                        "categ_id", "sale_ok", "purchase_ok", "tracking", "product_tmpl_id",
                        "barcode", "company_id", "qty_available", "virtual_available",
                        "free_qty", "incoming_qty", "outgoing_qty", "invoice_policy"],
    "stock.warehouse": ["name", "code", "active", "company_id", "partner_id", "lot_stock_id",
                        "view_location_id", "wh_input_stock_loc_id", "wh_output_stock_loc_id",
                        "in_type_id", "out_type_id", "int_type_id", "reception_steps",
                        "delivery_steps", "sequence"],
    "stock.location": ["name", "complete_name", "active", "usage", "location_id", "child_ids",
                       "company_id", "warehouse_id", "barcode", "scrap_location",
                       "return_location", "quant_ids"],
    "stock.picking.type": ["name", "code", "active", "sequence", "sequence_code", "company_id",
                           "warehouse_id", "default_location_src_id", "default_location_dest_id",
                           "reservation_method", "create_backorder", "color"],
    "stock.picking": ["name", "origin", "note", "backorder_id", "move_type", "state", "priority",
                      "scheduled_date", "date_deadline", "date", "date_done", "location_id",
                      "location_dest_id", "move_ids", "picking_type_id", "picking_type_code",
                      "partner_id", "company_id", "user_id", "owner_id", "sale_id",
                      "purchase_id", "is_locked", "printed", "products_availability_state",
                      "group_id"],
    "stock.move": ["name", "sequence", "priority", "date", "date_deadline", "company_id",
                   "product_id", "product_uom_qty", "product_uom", "product_qty", "quantity",
                   "location_id", "location_dest_id", "partner_id", "picking_id", "state",
                   "picked", "price_unit", "origin", "procure_method", "picking_type_id",
                   "warehouse_id", "reference", "sale_line_id", "purchase_line_id",
                   "is_inventory", "group_id", "reservation_date"],
    "stock.quant": ["product_id", "location_id", "company_id", "quantity", "reserved_quantity",
                    "available_quantity", "in_date", "inventory_quantity",
                    "inventory_diff_quantity", "inventory_date", "inventory_quantity_set",
                    "user_id", "lot_id", "package_id", "owner_id", "warehouse_id",
                    "product_uom_id", "last_count_date"],
    "sale.order": ["name", "state", "locked", "date_order", "validity_date", "commitment_date",
                   "expected_date", "effective_date", "partner_id", "partner_invoice_id",
                   "partner_shipping_id", "user_id", "company_id", "currency_id", "order_line",
                   "picking_ids", "delivery_count", "delivery_status", "invoice_status",
                   "amount_untaxed", "amount_tax", "amount_total", "client_order_ref",
                   "origin", "note", "warehouse_id", "picking_policy", "partner_credit_warning",
                   "procurement_group_id", "reference", "team_id", "pricelist_id",
                   "payment_term_id", "invoice_ids", "invoice_count"],
    "sale.order.line": ["order_id", "name", "sequence", "product_id", "product_template_id",
                        "product_uom_qty", "product_uom", "price_unit", "discount",
                        "price_subtotal", "price_tax", "price_total", "qty_delivered",
                        "qty_invoiced", "qty_to_invoice", "customer_lead", "state",
                        "display_type", "company_id", "currency_id", "move_ids",
                        "order_partner_id", "salesman_id", "invoice_status", "tax_id"],
    "purchase.order": ["name", "state", "priority", "date_order", "date_approve", "date_planned",
                       "effective_date", "partner_id", "partner_ref", "user_id", "company_id",
                       "currency_id", "order_line", "picking_ids", "picking_type_id",
                       "receipt_status", "amount_untaxed", "amount_tax", "amount_total",
                       "origin", "notes", "invoice_status", "incoming_picking_count",
                       "is_shipped", "group_id"],
    "purchase.order.line": ["order_id", "name", "sequence", "product_id", "product_qty",
                            "product_uom_qty", "product_uom", "price_unit", "discount",
                            "price_subtotal", "price_tax", "price_total", "qty_received",
                            "qty_invoiced", "date_planned", "state", "display_type",
                            "company_id", "currency_id", "partner_id", "move_ids", "taxes_id"],
    "account.move": ["name", "state", "move_type", "partner_id", "date", "invoice_date",
                     "invoice_date_due", "invoice_origin", "amount_untaxed", "amount_tax",
                     "amount_total", "amount_residual", "payment_state", "currency_id",
                     "company_id", "journal_id", "ref"],
    "mail.activity.type": ["name", "summary", "active", "sequence", "category", "res_model",
                           "delay_count", "delay_unit", "delay_from", "chaining_type", "icon",
                           "default_user_id", "default_note", "decoration_type"],
    "mail.activity": ["res_model_id", "res_model", "res_id", "res_name", "activity_type_id",
                      "summary", "note", "date_deadline", "date_done", "automated", "user_id",
                      "request_partner_id", "state", "active", "previous_activity_type_id"],
    "mail.message": ["subject", "date", "body", "model", "res_id", "record_name",
                     "message_type", "subtype_id", "author_id", "tracking_value_ids",
                     "parent_id", "mail_activity_type_id", "is_internal", "email_from",
                     "partner_ids", "preview"],
    "mail.tracking.value": ["field_id", "field_info", "mail_message_id", "currency_id",
                            "old_value_char", "new_value_char", "old_value_integer",
                            "new_value_integer", "old_value_float", "new_value_float",
                            "old_value_datetime", "new_value_datetime", "old_value_text",
                            "new_value_text"],
    "ir.model": ["name", "model", "order", "state", "transient", "is_mail_thread",
                 "is_mail_activity", "field_id", "info"],
    "ir.model.fields": ["name", "complete_name", "model", "model_id", "field_description",
                        "ttype", "relation", "required", "readonly", "store", "state",
                        "selection", "tracking", "help"],
    "ir.model.data": ["name", "complete_name", "module", "model", "res_id", "noupdate",
                      "reference"],
    "ir.config_parameter": ["key", "value"],
    "ir.actions.server": ["name", "type", "usage", "state", "sequence", "model_id", "model_name",
                          "binding_type", "base_automation_id", "code", "child_ids",
                          "crud_model_id", "update_field_id", "update_path",
                          "update_related_model_id", "update_field_type", "update_boolean_value",
                          "update_m2m_operation", "evaluation_type", "value", "selection_value",
                          "resource_ref", "webhook_url", "webhook_field_ids",
                          "activity_type_id", "activity_summary", "activity_note",
                          "activity_date_deadline_range", "activity_date_deadline_range_type",
                          "activity_user_type", "activity_user_id", "activity_user_field_name",
                          "groups_id"],
    "ir.cron": ["name", "cron_name", "active", "user_id", "ir_actions_server_id", "model_id",
                "model_name", "code", "state", "interval_number", "interval_type", "nextcall",
                "lastcall", "numbercall", "priority", "doall", "type", "usage",
                "binding_type"],
    "base.automation": ["name", "description", "model_id", "model_name", "active", "trigger",
                        "action_server_ids", "trigger_field_ids", "trg_selection_field_id",
                        "trg_field_ref", "trg_date_id", "trg_date_range", "trg_date_range_type",
                        "trg_date_calendar_id", "filter_pre_domain", "filter_domain",
                        "last_run", "on_change_field_ids", "least_delay_msg", "url",
                        "webhook_uuid", "record_getter", "log_webhook_calls"],
}


def _f(ftype: str, string: str, **kw: object) -> dict:
    return {"type": ftype, "string": string, "required": False, "readonly": False,
            "store": True, **kw}


_NAMED = {"name": _f("char", "Name", required=True)}
EXTRA: dict[str, dict[str, dict]] = {
    "ir.module.module": {
        "name": _f("char", "Technical Name", readonly=True),
        "shortdesc": _f("char", "Module Name", readonly=True),
        "state": _f("selection", "Status", readonly=True, selection=[
            ["uninstallable", "Uninstallable"], ["uninstalled", "Not Installed"],
            ["installed", "Installed"], ["to upgrade", "To be upgraded"],
            ["to remove", "To be removed"], ["to install", "To be installed"]]),
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
        out[model] = {name: _attrs(fields[name]) for name in sorted(set(COMMON + names))}
    for model, fields in EXTRA.items():
        out[model] = {**_BASE, **fields}
    return out


if __name__ == "__main__":
    OUT.write_text(json.dumps(trim(json.loads(Path(sys.argv[1]).read_text())), indent=1,
                              sort_keys=True) + "\n")
    print(f"wrote {OUT}")
