"""Deploying a policy's detection into Odoo: the simulated mechanisms as real automations.

Each detection block of the policy becomes what an Odoo consultant would configure, on the
category's record pattern (``mapping.py``), all tagged ``exsim.*`` so ``cleanup`` finds them:

- ``event_rule`` -> an automation rule "on create and update" (``on_create_or_write``) with
  the pattern's domain as ``filter_domain``; it fires inside the write that makes a record
  match. Its action schedules a ``mail.activity`` whose summary names mechanism and category
  (``exsim event_rule stock_shortage``); the record it lands on names the case.
- ``time_rule`` -> an automation rule "based on date field" (``on_time``) with
  ``trg_date_id`` = the trigger field, ``trg_date_range``/``trg_date_range_type`` = the delay,
  and the domain. Unless the policy marks it ``new_rule``, its ``last_run`` is set to the
  deployment time so it starts like the simulator's rule (no go-live burst); the shared check
  job is re-anchored to start now.
- ``scan`` -> a scheduled action (``ir.cron``, every ``interval_min``) running a code server
  action that searches the pattern past ``threshold_min`` and flags what it has not flagged
  yet (the exact code is ``SCAN_CODE``); with ``only_undetected`` it also skips what another
  mechanism flagged (``skip_summaries``). Odoo runs it with ``safe_eval``: restricted
  builtins, so its parameters are written as Python literals (``repr``: ``False``, not JSON's
  ``false``, which would be a ``NameError`` on every run).
- ``webhook`` -> an event rule whose action is "Send Webhook Notification" to ``webhook_url``
  (exsim's receiver, ``receiver.py``).

With ``speed`` K, delays, intervals and thresholds are divided by K (Odoo counts whole
minutes, so at least 1), to match an ``inject --speed K``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.odoo.capabilities import detect
from sim.odoo.mapping import pattern_for, transition_pre_domain
from sim.odoo.seed import MODULE, tag, xmlids
from sim.odoo.transport import Transport
from sim.policies.schema import Policy

SCAN_HEADER = "# exsim-scan v2"
SCAN_CODE = """# exsim-scan v2
params = {params}
cutoff = datetime.datetime.now() - datetime.timedelta(minutes=params["threshold_min"])
found = env[params["model"]].search(params["domain"] + [(params["date_field"], "<=", \
cutoff.strftime("%Y-%m-%d %H:%M:%S"))])
flagged = env["mail.activity"].search([("res_model", "=", params["model"]), \
("res_id", "in", found.ids), ("summary", "in", params["skip"])]).mapped("res_id")
env["mail.activity"].create([{{"res_model_id": params["model_id"], "res_id": r.id, \
"activity_type_id": params["activity_type_id"], "summary": params["summary"], \
"user_id": params["user_id"], "automated": True}} for r in found if r.id not in flagged])
"""
MECHANISMS = ("event_rule", "time_rule", "scan", "webhook")


def scan_code(params: dict) -> str:
    """The scan's server-action code with ``params`` as a Python literal (``repr``).

    Only plain values go in (str, int, float, bool, None, lists and dicts of them), so the
    literal is valid Python that ``safe_eval`` accepts as is."""
    return SCAN_CODE.format(params=repr(params))


def summary(mechanism: str, category: str) -> str:
    """The activity summary that tells observe which mechanism flagged which category."""
    return f"exsim {mechanism} {category}"


def skip_summaries(category: str, only_undetected: bool) -> list[str]:
    """What a scan treats as already flagged: its own activities, and with
    ``only_undetected`` (a reconciliation scan) every mechanism's, including the webhook's
    (written back by the receiver, as the middleware would)."""
    if only_undetected:
        return [summary(m, category) for m in MECHANISMS]
    return [summary("scan", category)]


@dataclass
class Deployment:
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)


def scaled(minutes: float, speed: float) -> int:
    return max(1, round(minutes / speed))


def deploy_policy(
    transport: Transport,
    policy: Policy,
    categories: list[str],
    speed: float = 1.0,
    webhook_url: str | None = None,
    uid: int = 2,
) -> Deployment:
    """Install the policy's detection for ``categories``; idempotent by external id."""
    out = Deployment()
    todo_type = xmlids(transport, ["mail_activity_data_todo"], module="mail")
    activity_type = todo_type.get("mail_activity_data_todo")
    wanted = {}
    for category in categories:
        spec = policy.detection.get(category) or policy.detection.get("*")
        if spec is None:
            continue
        for mech in MECHANISMS:
            params = getattr(spec, mech)
            if params is not None:
                wanted[f"{mech}_{category}"] = (mech, category, params)
    have = xmlids(transport, list(wanted))
    rows = transport.call(
        "ir.model",
        "search_read",
        [["model", "in", sorted({pattern_for(c).model for _, c, _ in wanted.values()})]],
        fields=["model", "is_mail_activity"],
    )
    with_activities = {r["model"] for r in rows if r["is_mail_activity"]}
    models = {r["model"]: r["id"] for r in rows}
    time_rules: list[int] = []
    for name, (mech, category, params) in wanted.items():
        if name in have:
            out.skipped.append(name)
            continue
        pattern = pattern_for(category)
        model_id = models[pattern.model]
        domain = pattern.rule_domain()
        text = summary(mech, category)
        if mech != "webhook" and pattern.model not in with_activities:
            out.unsupported.append(f"{name} ({pattern.model} has no activities)")
            continue
        if mech in ("event_rule", "time_rule", "webhook"):
            if mech == "webhook":
                if not webhook_url:
                    out.unsupported.append(f"{name} (no --webhook-url)")
                    continue
                action = {"state": "webhook", "webhook_url": webhook_url}
            else:
                action = {
                    "state": "next_activity",
                    "activity_type_id": activity_type,
                    "activity_summary": text,
                    "activity_user_type": "specific",
                    "activity_user_id": uid,
                }
            rule = {
                "name": f"exsim {mech} {category}",
                "model_id": model_id,
                "filter_domain": repr(domain),
                **(
                    {}
                    if mech == "time_rule"
                    else {"filter_pre_domain": repr(transition_pre_domain(domain))}
                ),
                "action_server_ids": [(0, 0, {"name": text, "model_id": model_id, **action})],
            }
            if mech == "time_rule":
                field_id = transport.call(
                    "ir.model.fields",
                    "search",
                    [["model", "=", pattern.model], ["name", "=", pattern.trigger_field]],
                )[0]
                delay, unit = params.delay, params.unit
                if speed != 1.0:
                    delay, unit = scaled(params.delay_min, speed), "minutes"
                rule.update(
                    trigger="on_time",
                    trg_date_id=field_id,
                    trg_date_range=delay,
                    trg_date_range_type=unit,
                )
            else:
                rule["trigger"] = "on_create_or_write"
            rid = transport.call("base.automation", "create", [rule])[0]
            if mech == "time_rule":
                time_rules.append(rid)
                if not params.new_rule:
                    now = transport.call("base.automation", "read", [rid], ["create_date"])
                    transport.call(
                        "base.automation", "write", [rid], {"last_run": now[0]["create_date"]}
                    )
            tag(transport, "base.automation", {name: rid})
        else:  # scan
            code = scan_code(
                {
                    "model": pattern.model,
                    "model_id": model_id,
                    "domain": domain,
                    "date_field": pattern.trigger_field,
                    "threshold_min": params.threshold_min / speed,
                    "summary": text,
                    "skip": skip_summaries(category, params.only_undetected),
                    "activity_type_id": activity_type,
                    "user_id": uid,
                }
            )
            cid = transport.call(
                "ir.cron",
                "create",
                [
                    {
                        "name": f"exsim scan {category}",
                        "model_id": model_id,
                        "state": "code",
                        "code": code,
                        "interval_number": scaled(params.interval_min, speed),
                        "interval_type": "minutes",
                        "active": True,
                        **detect(transport).cron_values(),
                    }
                ],
            )[0]
            tag(transport, "ir.cron", {name: cid})
        out.created.append(name)
    if time_rules:
        _anchor_check_job(transport)
    return out


def _anchor_check_job(transport: Transport) -> None:
    """Start Odoo's shared time-rule job now, as the simulator's job starts at minute 0."""
    job = xmlids(transport, ["ir_cron_data_base_automation_check"], module="base_automation")
    cron = job.get("ir_cron_data_base_automation_check")
    if cron:
        rows = transport.call(
            "base.automation",
            "search_read",
            [["trigger", "=", "on_time"]],
            fields=["last_run", "create_date"],
            order="id desc",
            limit=1,
        )
        if rows:
            transport.call("ir.cron", "write", [cron], {"nextcall": rows[0]["create_date"]})


def deployed(transport: Transport) -> list[dict]:
    """What exsim deployed: its tagged rules and crons."""
    return transport.call(
        "ir.model.data",
        "search_read",
        [["module", "=", MODULE], ["model", "in", ["base.automation", "ir.cron"]]],
        fields=["name", "model", "res_id"],
    )
