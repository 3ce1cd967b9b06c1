"""Server actions (``ir.actions.server``) and scheduled actions (``ir.cron``).

Server actions are what automation rules run.  Supported types: ``object_write`` (set the
field named by ``update_path`` -- Odoo 17 needs the path, ``update_field_id`` alone fails --
to ``value``), ``next_activity`` (schedule a ``mail.activity``: type, summary, note, deadline
= today + range, user specific or from a field of the record), ``webhook`` (POST
``{_model, _id, _action, <webhook_field_ids>}`` as JSON with a 1 s timeout; a timeout or an
HTTP error is logged and dropped, never retried), ``multi`` and ``code``: Python run as
Odoo's ``safe_eval`` runs it (restricted builtins, the action's eval context; ``safe_eval.py``).

A cron is due when ``nextcall <= now``; running it advances ``nextcall`` by whole intervals
past now.  ``method_direct_trigger`` runs a job at once (public on a real Odoo too) without
touching ``nextcall``.
"""

from __future__ import annotations

import ast
import json
from datetime import timedelta
from typing import Any

from .clock import format_datetime, parse_datetime
from .errors import UserError, ValidationError
from .models import context_today
from .orm import Model, api_records, as_ids, register
from .safe_eval import check_code, safe_exec

INTERVALS = {
    "minutes": timedelta(minutes=1),
    "hours": timedelta(hours=1),
    "days": timedelta(days=1),
    "weeks": timedelta(weeks=1),
}


@register("ir.actions.server")
class ServerAction(Model):
    _order = "sequence,name"
    _defaults = {
        "type": "ir.actions.server",
        "usage": "ir_actions_server",
        "state": "object_write",
        "binding_type": "action",
        "sequence": 5,
        "evaluation_type": "value",
        "activity_user_type": "specific",
        "activity_date_deadline_range_type": "days",
        "update_m2m_operation": "add",
        "update_boolean_value": "true",
    }

    def _prepare_create(self, row: dict, vals: dict) -> None:
        if row.get("base_automation_id"):
            row["usage"] = "base_automation"
        self._derive(row)

    def _post_write(self, ids: list[int], vals: dict) -> None:
        for i in ids:
            row = dict(self.table[i])
            self._derive(row)
            self.store(i, row)

    def _derive(self, row: dict) -> None:
        if row.get("code"):  # Odoo's _check_python_code: test_python_expr at create/write
            try:
                check_code(row["code"].strip())
            except (ValueError, SyntaxError, NameError) as exc:
                raise ValidationError(str(exc)) from None
        model = self.env.row("ir.model", row.get("model_id"))
        row["model_name"] = model["model"] if model else False
        labels = []
        if row.get("update_path") and model:
            current, field_id = model["model"], False
            for part in row["update_path"].split("."):
                found = self.env["ir.model.fields"]._search(
                    [("model", "=", current), ("name", "=", part)], limit=1
                )
                if not found:
                    raise ValidationError(f"Invalid field path {row['update_path']!r}")
                field_id = found[0]
                field = self.env.row("ir.model.fields", field_id)
                labels.append(field["field_description"])
                current = field["relation"] or current
            row["update_field_id"] = field_id
        if row.get("state") == "next_activity" and model and not model.get("is_mail_activity"):
            raise ValidationError(
                "A next activity can only be planned on models that use activities."
            )
        rule = self.env.row("base.automation", row.get("base_automation_id"))
        if rule:
            if rule["model_id"] != row.get("model_id"):
                raise ValidationError(
                    f"Model of action {row['name']} should match the one "
                    f"from automated rule {rule['name']}."
                )
            row["name"] = self._automatic_name(row, labels)

    def _automatic_name(self, row: dict, path_labels: list[str]) -> str:
        """Odoo 17 names the actions of automation rules itself, whatever name was given."""
        state = row["state"]
        if state == "object_write":
            verb = "Update" if row.get("evaluation_type") == "value" else "Compute"
            return f"{verb} {' > '.join(path_labels)}"
        if state == "webhook":
            return "Send Webhook Notification"
        if state == "next_activity":
            atype = self.env.row("mail.activity.type", row.get("activity_type_id"))
            return f"Create activity: {row.get('activity_summary') or (atype or {}).get('name')}"
        return dict(self.fields["state"].describe()["selection"])[state]

    @api_records
    def run(self, ids: Any) -> bool:
        """Run on ``active_id``/``active_ids`` of the context, as the web client does."""
        ctx = self.env.context
        records = ctx.get("active_ids") or ([ctx["active_id"]] if ctx.get("active_id") else [])
        for action_id in as_ids(ids):
            for record_id in records:
                self.run_one(
                    action_id,
                    ctx.get("active_model") or self.table[action_id]["model_name"],
                    record_id,
                )
        return False

    def run_one(self, action_id: int, model: str, record_id: int) -> None:
        action = self.table[action_id]
        runner = getattr(self, f"_run_{action['state']}", None)
        if runner is None:
            raise UserError(
                f"exsim test server: server action type {action['state']!r} is not supported"
            )
        runner(action, model, record_id)

    def _run_object_write(self, action: dict, model: str, record_id: int) -> None:
        if not action.get("update_path"):  # Odoo 17: _traverse_path splits update_path
            raise AttributeError("'bool' object has no attribute 'split'")
        field = self.env.row("ir.model.fields", action["update_field_id"])
        value: Any = action.get("value")
        if action.get("evaluation_type") == "equation":
            value = ast.literal_eval(value)
        elif field["ttype"] == "boolean":
            value = action.get("update_boolean_value") == "true"
        elif field["ttype"] in ("many2one", "integer"):
            value = int(value) if str(value).lstrip("-").isdigit() else value
        elif field["ttype"] == "many2many":
            value = {
                "add": [(4, int(value or 0))],
                "remove": [(3, int(value or 0))],
                "set": [(6, 0, [int(value or 0)])],
                "clear": [(5,)],
            }[action["update_m2m_operation"]]
        targets = [record_id]
        current = model
        for part in action["update_path"].split(".")[:-1]:
            obj = self.env[current]
            nxt = []
            for t in targets:
                got = obj.get(obj.table[t], part)
                nxt += got if isinstance(got, list) else ([got] if got else [])
            current, targets = obj.fields[part].relation, nxt
        self.env[current].write(targets, {field["name"]: value})

    def _run_next_activity(self, action: dict, model: str, record_id: int) -> None:
        if not action.get("activity_type_id"):
            return
        deadline = context_today(self)
        amount = action.get("activity_date_deadline_range") or 0
        if amount > 0:
            unit = action.get("activity_date_deadline_range_type") or "days"
            start = parse_datetime(deadline)
            if unit == "months":
                month = start.month - 1 + amount
                start = start.replace(year=start.year + month // 12, month=month % 12 + 1)
            else:
                start += timedelta(days=amount * (7 if unit == "weeks" else 1))
            deadline = start.strftime("%Y-%m-%d")
        atype = self.env.row("mail.activity.type", action["activity_type_id"])
        user = False
        if action.get("activity_user_type") == "specific":
            user = action.get("activity_user_id")
        elif action.get("activity_user_field_name"):
            obj = self.env[model]
            if action["activity_user_field_name"] in obj.fields:
                user = obj.get(obj.table[record_id], action["activity_user_field_name"])
        self.env["mail.activity"].create_many(
            [
                {
                    "activity_type_id": atype["id"],
                    "summary": action.get("activity_summary") or atype.get("summary") or False,
                    "note": action.get("activity_note") or atype.get("default_note") or False,
                    "automated": True,
                    "date_deadline": deadline,
                    "res_model_id": action["model_id"],
                    "res_id": record_id,
                    "user_id": user or atype.get("default_user_id") or self.env.uid,
                }
            ]
        )

    def _run_webhook(self, action: dict, model: str, record_id: int) -> None:
        if not action.get("webhook_url"):
            raise UserError(
                "I'll be happy to send a webhook for you, but you really need to "
                "give me a URL to reach out to..."
            )
        payload: dict[str, Any] = {
            "_model": model,
            "_id": record_id,
            "_action": f"{action['name']}(#{action['id']})",
        }
        names = [self.env.row("ir.model.fields", f)["name"] for f in action["webhook_field_ids"]]
        if names:
            payload.update(self.env[model].read([record_id], names, load=None)[0])
        self.env.server.post_webhook(
            action["webhook_url"], json.dumps(payload, sort_keys=True, default=str)
        )

    def _run_multi(self, action: dict, model: str, record_id: int) -> None:
        for child in self.sorted_ids(action.get("child_ids") or []):
            self.run_one(child, model, record_id)

    def _run_code(self, action: dict, model: str, record_id: int) -> None:
        run_code(self.env, action.get("code") or "", model, [record_id])


def run_code(env: Any, code: str, model: str, ids: list[int]) -> None:
    """Execute server-action Python as Odoo does (``safe_eval`` in exec mode, see
    ``safe_eval.py``): restricted builtins, the action's eval context, nothing else."""
    safe_exec(env, code or "pass", model, ids)


@register("ir.cron")
class Cron(Model):
    _order = "cron_name"
    _rec_name = "cron_name"
    _defaults = {
        "interval_number": 1,
        "interval_type": "months",
        "numbercall": -1,
        "priority": 5,
        "doall": False,
        "user_id": 1,
        "state": "code",
        "type": "ir.actions.server",
        "usage": "ir_cron",
        "binding_type": "action",
        "nextcall": lambda self: self.env.now(),
    }

    def _prepare_create(self, row: dict, vals: dict) -> None:
        if not row.get("ir_actions_server_id"):
            row["ir_actions_server_id"] = self.env["ir.actions.server"].create_many(
                [
                    {
                        "name": row.get("name") or "Cron",
                        "model_id": row.get("model_id"),
                        "state": "code",
                        "code": row.get("code") or "",
                        "usage": "ir_cron",
                    }
                ]
            )[0]
        action = self.env.row("ir.actions.server", row["ir_actions_server_id"])
        row.update(
            cron_name=row.get("name") or action["name"],
            name=action["name"],
            model_id=action["model_id"],
            model_name=action["model_name"],
            code=action["code"],
        )

    @api_records
    def method_direct_trigger(self, ids: Any) -> bool:
        for cron_id in as_ids(ids):
            self._run_job(cron_id)
            self.store(cron_id, {"lastcall": self.env.now()})
        return True

    def _run_job(self, cron_id: int) -> None:
        row = self.table[cron_id]
        run_code(self.env, row["code"] or "", row["model_name"], [])

    def run_due(self) -> list[int]:
        """Run every active job whose ``nextcall`` has come, like a cron worker's pass."""
        now = parse_datetime(self.env.now())
        ran = []
        for cron_id in self._search([("nextcall", "<=", format_datetime(now))]):
            row = self.table[cron_id]
            try:
                self._run_job(cron_id)
            except Exception as exc:  # noqa: BLE001 - a failing job is logged, then rescheduled
                self.env.server.automation.log.append(f"cron {row['cron_name']}: {exc!r}")
            step = INTERVALS.get(row["interval_type"], timedelta(days=30)) * row["interval_number"]
            nextcall = parse_datetime(row["nextcall"])
            while nextcall <= now:
                nextcall += step
            self.store(
                cron_id, {"nextcall": format_datetime(nextcall), "lastcall": format_datetime(now)}
            )
            ran.append(cron_id)
        return ran
