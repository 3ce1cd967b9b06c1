"""The OCA exception rules (``base_exception`` and its sale/purchase/stock glue), 17.0.

**Exception rules** (``exception.rule``): a rule applies to one model (a document or its lines)
and fails a record by a domain (``by_domain``: the string ``domain``) or by Python code
(``by_py_code``: ``code`` sets ``failed``; ``self``/``object``/``obj`` are the record).
``detect_exceptions`` evaluates the active rules on records whose ``ignore_exception`` is not
set and links the failing rules to the document (``exception_ids``; a line's rule to its
order or transfer), unlinking those that no longer fail -- also from an ignored document.
Confirming (``action_confirm`` of a sale, ``button_confirm`` of a purchase, ``action_confirm``
or ``button_validate`` of a transfer) first detects: with an exception the call *returns* the
"exceptions" pop-up action instead of confirming, and what was detected is committed.  The
waiver is ``ignore_exception = True`` (``action_ignore_exceptions`` refuses blocking rules).
On a confirmed order, writing ``ignore_exception``/``order_line``/``state`` re-checks and raises
``ValidationError("<rule>: <description>")``; a transfer checks as a constraint whenever it is
waiting, confirmed or ready (so a failing rule on deliveries makes the sale's confirmation fail).
Only members of "Exception manager" may create or change rules.
"""

from __future__ import annotations

import ast
from typing import Any

from .domain import compile_domain
from .errors import AccessError, OdooError, UserError, ValidationError
from .orm import Model, api_records, as_ids, register
from .safe_eval import SAFE_BUILTINS, Records, check_code

EXCEPTION_MANAGER = "Exception manager"
POPUP = {
    "sale.order": ("sale.exception.confirm", "Blocked in draft due to exceptions"),
    "purchase.order": ("purchase.exception.confirm", "Outstanding exceptions to manage"),
    "stock.picking": ("stock.exception.confirm", "Outstanding exceptions to manage"),
}


def recordset_repr(model: str, ids: list[int]) -> str:
    """How a method's returned recordset reaches a JSON-RPC client: its ``repr``."""
    return f"{model}({', '.join(map(str, ids))}{',' if len(ids) == 1 else ''})"


def parse_domain(text: str) -> list:
    """A domain stored as text, read the way ``safe_eval`` reads a literal list."""
    try:
        return list(ast.literal_eval(text or "[]"))
    except (ValueError, SyntaxError) as exc:
        raise ValueError(f"{type(exc)}: {exc!r} while evaluating\n{text!r}") from exc


def user_groups(env: Any, uid: int) -> set[int]:
    return {i for i, g in env.db.tables["res.groups"].items() if uid in (g.get("users") or [])}


@register("exception.rule", oca=True)
class ExceptionRule(Model):
    _order = "active desc, sequence asc"
    _defaults = {"exception_type": "by_py_code", "active": True}
    _documents = {"sale_ids": "sale.order", "purchase_ids": "purchase.order"}

    def sort_rows(self, rows: list[dict], order: str | None = None) -> list[dict]:
        """``active desc, sequence asc`` as PostgreSQL sorts it: active rules first (the
        generic sort would take an archived rule's ``False`` for NULL)."""
        if order is None or order == self._order:
            return sorted(rows, key=lambda r: (not r["active"], r.get("sequence") or 0, r["id"]))
        return super().sort_rows(rows, order)

    def _check_manager(self, verb: str) -> None:
        groups = self.env.db.tables["res.groups"]
        manager = next((i for i, g in groups.items() if g["name"] == EXCEPTION_MANAGER), None)
        if self.env.uid != 1 and manager not in user_groups(self.env, self.env.uid):
            raise AccessError(
                f"You are not allowed to {verb} 'Exception Rule' (exception.rule) records.\n\n"
                "This operation is allowed for the following groups:\n"
                f"\t- {EXCEPTION_MANAGER}\n\n"
                "Contact your administrator to request access if necessary."
            )

    def _check_consistency(self, ids: list[int]) -> None:
        need = {"by_py_code": "code", "by_domain": "domain", "by_method": "method"}
        for i in ids:
            row = self.table[i]
            if not row.get(need[row["exception_type"]]):
                raise ValidationError(
                    "There is a problem of configuration, python code, domain or method is "
                    "missing to match the exception type."
                )

    def create_many(self, vals_list: list[dict]) -> list[int]:
        self._check_manager("create")
        ids = super().create_many(vals_list)
        self._check_consistency(ids)
        return ids

    @api_records
    def write(self, ids: Any, vals: dict) -> bool:
        self._check_manager("modify")
        super().write(ids, vals)
        self._check_consistency(as_ids(ids))
        return True

    @api_records
    def unlink(self, ids: Any) -> bool:
        self._check_manager("delete")
        for model in ("sale.order", "purchase.order", "stock.picking", "sale.order.line"):
            for row_id, row in self.env.db.tables[model].items():
                kept = [r for r in row.get("exception_ids") or [] if r not in as_ids(ids)]
                if kept != (row.get("exception_ids") or []):
                    self.env[model].store(row_id, {"exception_ids": kept})
        return super().unlink(ids)

    def _linked(self, row: dict, model: str) -> list[int]:
        table = self.env.db.tables[model]
        return sorted(i for i, r in table.items() if row["id"] in (r.get("exception_ids") or []))

    def _compute_sale_ids(self, row: dict) -> list[int]:
        return self._linked(row, "sale.order")

    def _compute_purchase_ids(self, row: dict) -> list[int]:
        return self._linked(row, "purchase.order")

    def _compute_picking_ids(self, row: dict) -> list[int]:
        return self._linked(row, "stock.picking")


def _rule_fails(env: Any, rule: dict, model: str, ids: list[int]) -> list[int]:
    """The records among ``ids`` (of ``model``, not ignored) that fail ``rule``."""
    obj = env[model]
    ids = [i for i in ids if not obj.get(obj.table[i], "ignore_exception")]
    if rule["exception_type"] == "by_domain":
        match = compile_domain(env, model, parse_domain(rule["domain"]))
        return [i for i in ids if match(obj.table[i])]
    if rule["exception_type"] == "by_method":  # no module here offers a method
        raise AttributeError(f"'{model}' object has no attribute {rule['method']!r}")
    tree = check_code(rule["code"] or "")
    failing = []
    for i in ids:
        record = Records(env, model, [i])
        scope = {"__builtins__": dict(SAFE_BUILTINS), "self": record, "object": record}
        scope["obj"] = record
        try:
            exec(compile(tree, "<exception rule>", "exec"), scope)  # noqa: S102 - safe_eval's
        except Exception as exc:  # noqa: BLE001 - Odoo wraps every failure the same way
            detail = exc.message if isinstance(exc, OdooError) else str(exc)
            raise UserError(
                "Error when evaluating the exception.rule rule:\n"
                f' {rule["name"]} \n({type(exc)}: "{detail}" while evaluating\n'
                f"{rule['code']!r})"
            ) from exc
        if scope.get("failed", False):
            failing.append(i)
    return failing


class ExceptionDocument:
    """``base.exception`` on a document (sale/purchase order, transfer) and its lines."""

    line_model = ""  # the lines' model, whose rules are linked to the document
    line_parent = ""  # the lines' field pointing to the document
    lines_keep_exceptions = False  # sale lines also carry their failing rules
    check_states: tuple[str, ...] = ()  # states in which a write re-checks exceptions
    check_fields: tuple[str, ...] = ("ignore_exception", "order_line", "state")

    def _detect_model(self, model: str, ids: list[int], to_doc: dict[int, int]) -> list[int]:
        env = self.env
        rules = env["exception.rule"]
        found: list[int] = []
        changes: list[tuple[int, list[int], list[int]]] = []
        docs = sorted(set(to_doc.values()))
        for rule_id in rules._search([("model", "=", model)]):
            rule = rules.table[rule_id]
            failing = _rule_fails(env, rule, model, ids)
            failing_docs = {to_doc[i] for i in failing}
            linked = {d for d in docs if rule_id in (self.table[d].get("exception_ids") or [])}
            changes.append((rule_id, sorted(linked - failing_docs), sorted(failing_docs - linked)))
            if self.lines_keep_exceptions and model == self.line_model:
                lines = env[model]
                for i in ids:
                    current = [r for r in lines.table[i].get("exception_ids") or [] if r != rule_id]
                    lines.store(i, {"exception_ids": current + ([rule_id] if i in failing else [])})
            if failing:
                found.append(rule_id)
        for rule_id, remove, _add in changes:
            if remove:
                self.write(remove, {"exception_ids": [(3, rule_id)]})
        for rule_id, _remove, add in changes:
            if add:
                self.write(add, {"exception_ids": [(4, rule_id)]})
        return found

    @api_records
    def detect_exceptions(self, ids: Any) -> list[int]:
        """The rules failing on the documents or their lines (a line's rule counts for its
        document), linked to the documents; rules no longer failing are unlinked."""
        ids = as_ids(ids)
        found = self._detect_model(self._name, ids, {i: i for i in ids})
        lines = self.env[self.line_model]
        line_ids = sorted(i for i, r in lines.table.items() if r.get(self.line_parent) in ids)
        to_doc = {i: lines.table[i][self.line_parent] for i in line_ids}
        return found + self._detect_model(self.line_model, line_ids, to_doc)

    def _blocked(self, ids: list[int]) -> dict:
        """The pop-up a blocked confirmation returns (``_popup_exceptions``)."""
        res_model, name = POPUP[self._name]
        return {
            "name": name,
            "type": "ir.actions.act_window",
            "res_model": res_model,
            "view_mode": "form",
            "target": "new",
            "views": [[False, "form"]],
            "context": {"active_id": ids[0], "active_ids": ids, "active_model": self._name},
        }

    def _check_exception(self, ids: list[int]) -> None:
        if not self.env.context.get("check_exception", True):
            return
        found = self.detect_exceptions(ids)
        if found and self.env.context.get("raise_exception", True):
            rules = self.env["exception.rule"]
            raise ValidationError(
                "\n".join(
                    f"{rules.table[r]['name']}: {rules.table[r]['description']}" for r in found
                )
            )

    def _recheck(self, ids: list[int], vals: dict) -> None:
        if any(f in vals for f in self.check_fields):
            todo = [i for i in ids if self.table[i]["state"] in self.check_states]
            if todo:
                self._check_exception(todo)

    @api_records
    def action_ignore_exceptions(self, ids: Any) -> bool:
        ids = as_ids(ids)
        rules = self.env["exception.rule"].table
        if any(rules[r]["is_blocking"] for i in ids for r in self.table[i]["exception_ids"]):
            raise UserError("The exceptions can not be ignored, because some of them are blocking.")
        self.write(ids, {"ignore_exception": True})
        return True

    def _compute_main_exception_id(self, row: dict) -> int | bool:
        if row.get("ignore_exception") or not row.get("exception_ids"):
            return False
        return self.env["exception.rule"].sorted_ids(row["exception_ids"])[0]

    def _compute_exceptions_summary(self, row: dict) -> str | bool:
        if row.get("ignore_exception") or not row.get("exception_ids"):
            return False
        rules = self.env["exception.rule"]
        items = "".join(
            f"<li>{r['name']}: <i>{r['description'] or ''}</i> "
            f"<b>{'(Blocking exception)' if r['is_blocking'] else ''}</b></li>"
            for r in (rules.table[i] for i in rules.sorted_ids(row["exception_ids"]))
        )
        return f"<ul>{items}</ul>"


class ExceptionLine:
    """A line: ``ignore_exception`` is its document's (a stored related field)."""

    parent_field = ""

    def _compute_ignore_exception(self, row: dict) -> bool:
        parent = self.env[self.fields[self.parent_field].relation]
        doc = parent.table.get(row.get(self.parent_field))
        return bool(doc and doc.get("ignore_exception"))
