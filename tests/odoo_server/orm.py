"""A small ORM with Odoo 17's external behaviour: the methods a client can call on any model.

``Env`` is one call's view of the database (user, context, clock); ``Model`` implements
``search``/``read``/``create``/``write``/``unlink`` and friends on top of ``db.Database`` and
the field definitions of ``schema``.  Model-specific behaviour lives in subclasses registered
with ``@register`` (see ``models.py``, ``workflows.py``, ``automation.py``); they override the
hooks ``_prepare_create``, ``_post_create``, ``_post_write``, ``_check_unlink`` and add
``_compute_<field>`` methods for computed fields.  Every write goes through the automation
engine and mail tracking, as Odoo's patched ``write`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import schema
from .domain import compile_domain
from .errors import MissingError, UserError, foreign_key_refusal, missing_required
from .schema import NUMERIC, X2MANY, Field, default_for, to_cache

if TYPE_CHECKING:
    from .server import OdooTestServer

MODEL_LABELS = {
    "res.company": "Companies",
    "res.partner": "Contact",
    "res.users": "User",
    "account.move": "Journal Entry",
    "product.template": "Product",
    "product.product": "Product Variant",
    "purchase.order": "Purchase Order",
    "purchase.order.line": "Purchase Order Line",
    "sale.order": "Sales Order",
    "sale.order.line": "Sales Order Line",
    "stock.picking": "Transfer",
    "stock.picking.type": "Picking Type",
    "stock.move": "Stock Move",
    "stock.quant": "Quants",
    "stock.location": "Inventory Locations",
    "stock.warehouse": "Warehouse",
    "mail.activity": "Activity",
    "mail.activity.type": "Activity Type",
    "mail.message": "Message",
    "mail.tracking.value": "Mail Tracking Value",
    "base.automation": "Automation Rule",
    "ir.model.fields": "Fields",
    "ir.model": "Models",
    "ir.model.data": "Model Data",
    "ir.module.module": "Module",
    "ir.cron": "Scheduled Actions",
    "ir.actions.server": "Server Action",
    "ir.config_parameter": "System Parameter",
    "res.country": "Country",
    "res.currency": "Currency",
    "uom.uom": "Product Unit of Measure",
    "product.category": "Product Category",
    "res.groups": "Access Groups",
    "account.journal": "Journal",
    "crm.team": "Sales Team",
    "product.pricelist": "Pricelist",
    "procurement.group": "Procurement Group",
    "mail.message.subtype": "Message subtypes",
}
REGISTRY: dict[str, type[Model]] = {}
OCA_REGISTRY: dict[str, type[Model]] = {}  # replacements when the OCA modules are installed
NOT_NULL_CHECKED = (*X2MANY, *NUMERIC, "boolean")  # types this server never stores as NULL
# required many2one fields whose records are deleted with their target (ondelete='cascade')
CASCADE = {
    ("sale.order.line", "order_id"),
    ("purchase.order.line", "order_id"),
    ("mail.tracking.value", "mail_message_id"),
    ("ir.model.fields", "model_id"),
    ("ir.actions.server", "model_id"),
    ("base.automation", "model_id"),
    ("mail.activity", "res_model_id"),
    ("ir.cron", "ir_actions_server_id"),
    ("product.product", "product_tmpl_id"),
    ("stock.quant", "product_id"),
}


def register(name: str, oca: bool = False) -> Callable[[type[Model]], type[Model]]:
    """Serve model ``name`` with the class; with ``oca``, only on a server with the OCA modules
    (``oca.py``), where it replaces the plain class."""

    def deco(cls: type[Model]) -> type[Model]:
        cls._name = name
        (OCA_REGISTRY if oca else REGISTRY)[name] = cls
        return cls

    return deco


def api_model(fn: Callable) -> Callable:
    """Mark a public method that takes no record ids (``@api.model`` in Odoo)."""
    fn.rpc = "model"
    return fn


def api_records(fn: Callable) -> Callable:
    """Mark a public method called on records: the first RPC argument is the ids."""
    fn.rpc = "records"
    return fn


def as_ids(ids: Any) -> list[int]:
    if ids in (None, False):
        return []
    if isinstance(ids, int):
        return [ids]
    return [int(i) for i in ids]


class Env:
    """One call's environment: the server, the user, the context and per-call state."""

    def __init__(
        self,
        server: OdooTestServer,
        uid: int,
        context: dict | None = None,
        scope: dict | None = None,
    ) -> None:
        self.server = server
        self.db = server.db
        self.uid = uid
        self.context = dict(context or {})
        self.scope = scope if scope is not None else {"action_done": {}}

    def __getitem__(self, model: str) -> Model:
        oca = self.server.oca
        if model not in REGISTRY and model not in schema.known_models(self.server.version, oca):
            raise UserError(f"Object {model} doesn't exist")
        cls = (OCA_REGISTRY.get(model) if oca else None) or REGISTRY.get(model, Model)
        return cls(self, model)

    def with_context(self, **ctx: Any) -> Env:
        return Env(self.server, self.uid, {**self.context, **ctx}, self.scope)

    def sudo(self) -> Env:
        return Env(self.server, 1, self.context, self.scope)

    def now(self) -> str:
        return self.server.clock.now_str()

    def fields(self, model: str) -> dict[str, Field]:
        return schema.model_fields(model, self.server.version, self.server.oca)

    def row(self, model: str, row_id: int) -> dict | None:
        return self.db.tables[model].get(row_id)

    def value(self, model: str, row: dict, name: str) -> Any:
        return self[model].get(row, name)

    def display_name(self, model: str, row_id: int) -> str | bool:
        row = self.row(model, row_id)
        return self[model].display_name(row) if row else False

    def hierarchy(self, model: str, value: Any, down: bool = True) -> set[int]:
        """Ids of ``value``'s records and all their descendants (``child_of``) or ancestors."""
        obj = self[model]
        roots = set(obj.name_search_ids(value) if isinstance(value, str) else as_ids(value))
        parent = obj._parent_name
        if not parent:
            return roots
        table = self.db.tables[model]
        found, frontier = set(roots), set(roots)
        while frontier:
            if down:
                frontier = {i for i, r in table.items() if r.get(parent) in frontier} - found
            else:
                frontier = {table[i].get(parent) for i in frontier if i in table} - found - {False}
            found |= frontier
        return found


class Model:
    _name = ""
    _order = "id"
    _rec_name = "name"
    _parent_name: str | None = None
    _inverse: dict[str, str] = {}  # one2many field -> many2one field on the comodel
    _defaults: dict[str, Any] = {}  # value, or callable(model) -> value
    _tracked: tuple[str, ...] = ()  # mail.thread tracked fields
    _mail_thread = False

    def __init__(self, env: Env, name: str | None = None) -> None:
        self.env = env
        if name:
            self._name = name
        self.fields = schema.model_fields(self._name, env.server.version, env.server.oca)
        self.table = env.db.tables[self._name]

    # ----------------------------------------------------------------- values
    def get(self, row: dict, name: str) -> Any:
        compute = getattr(self, f"_compute_{name}", None)
        if compute is not None:
            return compute(row)
        field = self.fields[name]
        if field.type == "one2many":
            inverse = self._inverse.get(name)
            if not inverse:
                return []
            co = self.env[field.relation]
            return co.sorted_ids([i for i, r in co.table.items() if r.get(inverse) == row["id"]])
        return row.get(name, default_for(field))

    def display_name(self, row: dict) -> str:
        value = self.get(row, self._rec_name) if self._rec_name in self.fields else False
        return value or f"{self._name},{row['id']}"

    def _compute_display_name(self, row: dict) -> str:
        return self.display_name(row)

    def read_value(self, row: dict, name: str, load: str | None) -> Any:
        value = self.get(row, name)
        field = self.fields[name]
        if field.type == "many2one" and value and load == "_classic_read":
            return [value, self.env.display_name(field.relation, value)]
        if field.type in X2MANY:
            return list(value)
        return value

    # ----------------------------------------------------------------- search
    def _domain(self, domain: list | None) -> list:
        domain = list(domain or [])
        if (
            "active" in self.fields
            and self.env.context.get("active_test", True)
            and not any(
                isinstance(t, (list, tuple)) and str(t[0]).split(".")[0] == "active" for t in domain
            )
        ):
            domain = ["&", ("active", "=", True), *domain] if domain else [("active", "=", True)]
        return domain

    def _search(
        self,
        domain: list | None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
    ) -> list[int]:
        predicate = compile_domain(self.env, self._name, self._domain(domain))
        rows = [r for r in self.table.values() if predicate(r)]
        ids = [r["id"] for r in self.sort_rows(rows, order)]
        return ids[offset : offset + limit if limit else None]

    def sorted_ids(self, ids: list[int], order: str | None = None) -> list[int]:
        return [r["id"] for r in self.sort_rows([self.table[i] for i in ids], order)]

    def sort_rows(self, rows: list[dict], order: str | None = None) -> list[dict]:
        """Sort like PostgreSQL: NULLs last ascending, first descending; many2one by name."""
        for term in reversed([t.split() for t in (order or self._order).split(",") if t.strip()]):
            name, desc = term[0], len(term) > 1 and term[1].lower() == "desc"
            field = self.fields.get(name)
            if field is None:
                raise ValueError(f"Invalid field {name!r} on model {self._name!r}")

            def key(row: dict, name: str = name, field: Field = field) -> tuple:
                value = self.get(row, name)
                if field.type == "many2one" and value:
                    value = str(self.env.display_name(field.relation, value))
                if value is False or value is None or field.type in X2MANY:
                    return (1, "")
                return (0, value.casefold() if isinstance(value, str) else value)

            present = [r for r in rows if key(r)[0] == 0]
            missing = [r for r in rows if key(r)[0] == 1]
            present.sort(key=key, reverse=desc)
            rows = missing + present if desc else present + missing
        return rows

    @api_model
    def search(
        self,
        domain: list | None = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        count: bool = False,
    ) -> list[int] | int:
        ids = self._search(domain, offset, limit, order)
        return len(ids) if count else ids

    @api_model
    def search_count(self, domain: list | None = None, limit: int | None = None) -> int:
        return len(self._search(domain, 0, limit))

    @api_records
    def read(
        self, ids: Any, fields: list[str] | None = None, load: str | None = "_classic_read"
    ) -> list[dict]:
        names = list(fields) if fields else list(self.fields)
        for name in names:
            if name not in self.fields:
                raise ValueError(f"Invalid field {name!r} on model {self._name!r}")
        out = []
        for row_id in as_ids(ids):
            row = self.table.get(row_id)
            if row is not None:
                out.append(
                    {"id": row_id, **{n: self.read_value(row, n, load) for n in names if n != "id"}}
                )
        return out

    @api_model
    def search_read(
        self,
        domain: list | None = None,
        fields: list[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        load: str | None = "_classic_read",
    ) -> list[dict]:
        return self.read(self._search(domain, offset, limit, order), fields, load)

    @api_model
    def read_group(
        self,
        domain: list,
        fields: list[str],
        groupby: list[str] | str,
        offset: int = 0,
        limit: int | None = None,
        orderby: str | None = None,
        lazy: bool = True,
    ) -> list[dict]:
        from .grouping import read_group

        return read_group(self, domain, fields, groupby, offset, limit, orderby, lazy)

    @api_model
    def fields_get(
        self, allfields: list[str] | None = None, attributes: list[str] | None = None
    ) -> dict:
        out = {}
        for name, field in self.fields.items():
            if allfields and name not in allfields:
                continue
            desc = field.describe()
            out[name] = {k: v for k, v in desc.items() if not attributes or k in attributes}
        return out

    @api_records
    def name_get(self, ids: Any) -> list[list]:
        return [[i, self.display_name(self.table[i])] for i in as_ids(ids) if i in self.table]

    def name_search_ids(
        self,
        name: str,
        operator: str = "ilike",
        limit: int | None = None,
        domain: list | None = None,
    ) -> list[int]:
        field = self._rec_name if self._rec_name in self.fields else "display_name"
        return self._search([*(domain or []), (field, operator, name)], limit=limit)

    @api_model
    def name_search(
        self, name: str = "", args: list | None = None, operator: str = "ilike", limit: int = 100
    ) -> list[list]:
        ids = (
            self.name_search_ids(name, operator, limit, args)
            if name
            else self._search(args, limit=limit)
        )
        return self.name_get(ids)

    @api_model
    def default_get(self, fields: list[str]) -> dict:
        """Defaults for ``fields`` (Odoo names the parameter ``fields`` since 18, which
        matters for JSON-2's named arguments; ``fields_list`` before)."""
        return {n: v for n, v in self._default_values().items() if n in fields}

    @api_records
    def exists(self, ids: Any) -> list[int]:
        return [i for i in as_ids(ids) if i in self.table]

    # ----------------------------------------------------------------- create
    def _default_values(self) -> dict:
        out = {}
        for name, value in {"active": True, **self._defaults}.items():
            if name in self.fields:
                out[name] = value(self) if callable(value) else value
        return out

    @api_model
    def create(self, vals_list: dict | list[dict]) -> int | list[int]:
        single = isinstance(vals_list, dict)
        ids = self.create_many([vals_list] if single else list(vals_list))
        return ids[0] if single else ids

    def create_many(self, vals_list: list[dict]) -> list[int]:
        ids = [self._create_one(dict(vals)) for vals in vals_list]
        self._post_create(ids)
        if self._mail_thread:
            self.env.server.mail.log_creation(self.env, self._name, ids)
        self.env.server.automation.after_create(self.env, self._name, ids)
        return ids

    def _create_one(self, vals: dict) -> int:
        self._check_names(vals)
        row = {
            name: default_for(f)
            for name, f in self.fields.items()
            if f.type != "one2many" and name not in ("id", "display_name")
        }
        row.update(self._default_values())
        sub_commands = {}
        for name, value in vals.items():
            field = self.fields[name]
            if field.type == "one2many":
                sub_commands[name] = value
            elif field.type == "many2many":
                row[name] = self._apply_m2m([], value)
            else:
                row[name] = to_cache(field, value)
        now = self.env.now()
        row.update(create_date=now, write_date=now, create_uid=self.env.uid, write_uid=self.env.uid)
        row.pop("id", None)
        self._prepare_create(row, vals)
        self._check_required(row, row)
        row_id = self.env.db.insert(self._name, row)
        for name, commands in sub_commands.items():
            self._apply_o2m(row_id, name, commands)
        return row_id

    def _check_names(self, vals: dict) -> None:
        for name in vals:
            if name not in self.fields:
                raise ValueError(f"Invalid field {name!r} on model {self._name!r}")

    def _check_required(self, row: dict, names: dict) -> None:
        for name in names:
            field = self.fields.get(name)  # a trimmed model serves no create_date & co.
            if (
                field is not None
                and field.required
                and field.store
                and field.type not in NOT_NULL_CHECKED
                and (row.get(name) is False or row.get(name) is None or row.get(name) == "")
            ):
                raise missing_required(
                    MODEL_LABELS.get(self._name, self._name), self._name, field.string, name
                )

    def _apply_m2m(self, current: list[int], commands: Any) -> list[int]:
        """Apply Odoo x2many commands (or a plain id list, which means "set") to ``current``."""
        ids = list(current)
        if commands and all(isinstance(c, int) for c in commands):
            return list(dict.fromkeys(commands))
        for cmd in commands or []:
            code = cmd[0]
            if code == 6:
                ids = list(dict.fromkeys(cmd[2]))
            elif code == 4 and cmd[1] not in ids:
                ids.append(cmd[1])
            elif code in (3, 2) and cmd[1] in ids:
                ids.remove(cmd[1])
            elif code == 5:
                ids = []
            elif code == 0:
                raise UserError(
                    "Creating records through a many2many command is not supported "
                    "by the exsim test server"
                )
        return ids

    def _apply_o2m(self, row_id: int, name: str, commands: Any) -> None:
        field = self.fields[name]
        inverse = self._inverse.get(name)
        if not inverse:
            return
        co = self.env[field.relation]
        for cmd in commands or []:
            code = cmd[0]
            if code == 0:
                co.create_many([{**cmd[2], inverse: row_id}])
            elif code == 1:
                co.write(cmd[1], cmd[2])
            elif code == 2:
                co.unlink([cmd[1]])
            elif code in (3, 5):
                targets = [cmd[1]] if code == 3 else self.get(self.table[row_id], name)
                co.write(targets, {inverse: False})
            elif code == 4:
                co.write([cmd[1]], {inverse: row_id})
            elif code == 6:
                co.write(
                    [i for i in self.get(self.table[row_id], name) if i not in cmd[2]],
                    {inverse: False},
                )
                co.write(cmd[2], {inverse: row_id})

    # ----------------------------------------------------------------- write
    def _check_exist(self, ids: list[int]) -> None:
        missing = [i for i in ids if i not in self.table]
        if missing:
            raise MissingError(
                "Record does not exist or has been deleted.\n"
                f"(Record: {self._name}{tuple(missing)!r}, User: {self.env.uid})"
            )

    @api_records
    def write(self, ids: Any, vals: dict) -> bool:
        ids = as_ids(ids)
        self._check_exist(ids)
        self._check_names(vals)
        if ids:
            self.env.server.automation.run_write(self, ids, vals)
        return True

    def _write(self, ids: list[int], vals: dict) -> None:
        """The original write: store values, apply commands, track, run model hooks."""
        before = self.env.server.mail.snapshot(self, ids) if self._tracked else None
        now = self.env.now()
        for row_id in ids:
            row = self.table[row_id]
            update = {"write_date": now, "write_uid": self.env.uid}
            for name, value in vals.items():
                field = self.fields[name]
                if field.type == "many2many":
                    update[name] = self._apply_m2m(row.get(name, []), value)
                elif field.type != "one2many":
                    update[name] = to_cache(field, value)
            self.env.db.update(self._name, row_id, update)
            self._check_required(self.table[row_id], vals)
            for name, value in vals.items():
                if self.fields[name].type == "one2many":
                    self._apply_o2m(row_id, name, value)
        self._post_write(ids, vals)
        if before is not None:
            self.env.server.mail.track(self, before)

    def store(self, row_id: int, vals: dict) -> None:
        """Update stored computed values: no tracking, no automation (a recompute)."""
        self.env.db.update(self._name, row_id, vals)

    # ----------------------------------------------------------------- unlink
    @api_records
    def unlink(self, ids: Any) -> bool:
        ids = as_ids(ids)
        self._check_exist(ids)
        if not ids:
            return True
        self.env.server.automation.before_unlink(self.env, self._name, ids)
        self._check_unlink(ids)
        if self._mail_thread:  # mail.thread: chatter, activities and followers go along
            for model in ("mail.message", "mail.activity", "mail.followers"):
                if model in self.env.db.tables:
                    key = "model" if model == "mail.message" else "res_model"
                    table = self.env.db.tables[model]
                    gone = [
                        i
                        for i, r in table.items()
                        if r.get(key) == self._name and r.get("res_id") in set(ids)
                    ]
                    if gone:
                        self.env[model].unlink(gone)
        self._cascade(ids)
        for row_id in ids:
            self.env.db.delete(self._name, row_id)
        data = self.env["ir.model.data"]
        for row_id in data._search([("model", "=", self._name), ("res_id", "in", ids)]):
            self.env.db.delete("ir.model.data", row_id)
        return True

    def _cascade(self, ids: list[int]) -> None:
        """Apply foreign keys: refuse (required), cascade, or set NULL (optional)."""
        target = set(ids)
        for model in list(self.env.db.tables):
            server = self.env.server
            for name, field in schema.model_fields(model, server.version, server.oca).items():
                if field.type != "many2one" or field.relation != self._name or not field.store:
                    continue
                table = self.env.db.tables[model]
                refs = [
                    i
                    for i, r in table.items()
                    if r.get(name) in target and not (model == self._name and i in target)
                ]
                if not refs:
                    continue
                if (model, name) in CASCADE:
                    self.env[model].unlink(refs)
                elif field.required:
                    raise foreign_key_refusal(
                        MODEL_LABELS.get(model, model),
                        model,
                        f"{model.replace('.', '_')}_{name}_fkey",
                    )
                else:
                    for i in refs:
                        self.env.db.update(model, i, {name: False})

    # ----------------------------------------------------------------- hooks
    def _prepare_create(self, row: dict, vals: dict) -> None:
        """Fill values Odoo computes on create (sequences, related defaults)."""

    def _post_create(self, ids: list[int]) -> None:
        """React to new records (recompute a parent's totals...)."""

    def _post_write(self, ids: list[int], vals: dict) -> None:
        """React to written values."""

    def _check_unlink(self, ids: list[int]) -> None:
        """Raise to refuse a deletion (Odoo's ``@api.ondelete`` checks)."""
