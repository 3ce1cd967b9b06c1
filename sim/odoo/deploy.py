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

Each mechanism has one *deployer* (``DEPLOYERS``), registered under the mechanism's own name
(the names of ``sim.plugins`` kind ``mechanisms``; a test checks that the two registries agree):
it turns the category's settings into a ``Wanted`` record. A mechanism without a deployer (a
plug-in) is reported as not deployed, in one line. ``deploy_policy`` then makes Odoo match the
wanted records: create, update (the diff), remove.

With ``speed`` K, delays, intervals and thresholds are divided by K (Odoo counts whole
minutes, so at least 1), to match an ``inject --speed K``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sim.odoo.capabilities import detect
from sim.odoo.mapping import pattern_for, transition_pre_domain
from sim.odoo.plan import ODOO_DATETIME
from sim.odoo.seed import MODULE, tag, xmlids
from sim.odoo.transport import Transport
from sim.policies.schema import BUILTIN_MECHANISMS, Detection, Policy

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
#: the mechanisms whose deployed rules flag a record with an activity (what a scan skips)
MECHANISMS = BUILTIN_MECHANISMS


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
    """What a deployment did (or, dry, would do), by external id name."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # deployed as the policy says
    unsupported: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # deployed otherwise than asked, and why
    diff: list[str] = field(default_factory=list)  # one line per change, "+", "~" or "-"


@dataclass
class Wanted:
    """One record as the policy wants it: ``vals`` for the record itself (``ir.cron``,
    ``base.automation``...), ``action`` for a rule's server action, ``create_only`` values
    sent on creation only, ``refs`` fields that point at another wanted record (by name)."""

    name: str
    mech: str
    model: str
    vals: dict
    action: dict = field(default_factory=dict)
    new_rule: bool = False
    create_only: dict = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)


@dataclass
class Target:
    """What every deployer reads: the server, the run's speed and the ids rules refer to.

    ``models`` maps each model the policy's categories live on to its ``ir.model`` id;
    ``with_activities`` are those of them that can carry activities (``mail.activity.mixin``).
    A deployer that cannot deploy what it is given says why in ``out.unsupported``."""

    transport: Transport
    speed: float
    webhook_url: str | None
    uid: int
    activity_type: int | None
    models: dict[str, int]
    with_activities: set[str]
    out: Deployment

    def flags(self, name: str, model: str) -> bool:
        """Whether activities can flag records of ``model`` (else ``name`` is unsupported)."""
        if model in self.with_activities:
            return True
        self.out.unsupported.append(f"{name} ({model} has no activities)")
        return False

    def activity_action(self, text: str) -> dict:
        """A server action scheduling an activity summarised ``text`` on the record."""
        return {
            "state": "next_activity",
            "activity_type_id": self.activity_type,
            "activity_summary": text,
            "activity_user_type": "specific",
            "activity_user_id": self.uid,
        }


#: A deployer turns one category's settings of one mechanism into the record Odoo runs it
#: with, or None (having said why in ``target.out.unsupported``).
Deployer = Callable[[Target, str, str, Any], "Wanted | None"]
DEPLOYERS: dict[str, Deployer] = {}


def deployer(mechanism: str):
    """Register a deployer under the name of the detection mechanism it deploys
    (``sim.plugins`` kind ``mechanisms``; a test checks that the two registries agree)."""

    def add(fn: Deployer) -> Deployer:
        DEPLOYERS[mechanism] = fn
        return fn

    return add


def automation_rule(
    target: Target, name: str, mech: str, category: str, action: dict, **trigger
) -> Wanted:
    """An automation rule (``base.automation``) on the category's pattern, scoped to exsim."""
    pattern = pattern_for(category)
    model_id = target.models[pattern.model]
    rule = {
        "name": summary(mech, category),
        "model_id": model_id,
        "filter_domain": repr(pattern.rule_domain()),
        **trigger,
    }
    server_action = {"name": summary(mech, category), "model_id": model_id, **action}
    return Wanted(name, mech, "base.automation", rule, server_action)


@deployer("event_rule")
def deploy_event_rule(target: Target, name: str, category: str, params) -> Wanted | None:
    """An "on create and update" rule with a transition pre-domain, scheduling an activity."""
    return on_write_rule(target, name, "event_rule", category)


def on_write_rule(target: Target, name: str, mech: str, category: str) -> Wanted | None:
    """The event rule's record, deployed for mechanism ``mech`` (``None`` where the category's
    model cannot carry it)."""
    pattern = pattern_for(category)
    if not target.flags(name, pattern.model):
        return None
    action = target.activity_action(summary(mech, category))
    pre = repr(transition_pre_domain(pattern.rule_domain()))
    return automation_rule(
        target,
        name,
        mech,
        category,
        action,
        trigger="on_create_or_write",
        filter_pre_domain=pre,
    )


@deployer("time_rule")
def deploy_time_rule(target: Target, name: str, category: str, params) -> Wanted | None:
    """A rule "based on date field": the pattern's trigger date plus the delay (at ``speed``,
    whole minutes), scheduling an activity."""
    pattern = pattern_for(category)
    if not target.flags(name, pattern.model):
        return None
    field_id = target.transport.call(
        "ir.model.fields",
        "search",
        [["model", "=", pattern.model], ["name", "=", pattern.trigger_field]],
    )[0]
    delay, unit = params.delay, params.unit
    if target.speed != 1.0:
        delay, unit = scaled(params.delay_min, target.speed), "minutes"
    action = target.activity_action(summary("time_rule", category))
    wanted = automation_rule(
        target,
        name,
        "time_rule",
        category,
        action,
        trigger="on_time",
        trg_date_id=field_id,
        trg_date_range=delay,
        trg_date_range_type=unit,
    )
    wanted.new_rule = params.new_rule
    return wanted


@deployer("scan")
def deploy_scan(target: Target, name: str, category: str, params) -> Wanted | None:
    """A scheduled action running ``SCAN_CODE`` every ``interval_min`` (at ``speed``)."""
    pattern = pattern_for(category)
    if not target.flags(name, pattern.model):
        return None
    model_id = target.models[pattern.model]
    code = scan_code(
        {
            "model": pattern.model,
            "model_id": model_id,
            "domain": pattern.rule_domain(),
            "date_field": pattern.trigger_field,
            "threshold_min": params.threshold_min / target.speed,
            "summary": summary("scan", category),
            "skip": skip_summaries(category, params.only_undetected),
            "activity_type_id": target.activity_type,
            "user_id": target.uid,
        }
    )
    vals = {
        "name": summary("scan", category),
        "model_id": model_id,
        "state": "code",
        "code": code,
        "interval_number": scaled(params.interval_min, target.speed),
        "interval_type": "minutes",
        "active": True,
    }
    return Wanted(name, "scan", "ir.cron", vals)


@deployer("webhook")
def deploy_webhook(target: Target, name: str, category: str, params) -> Wanted | None:
    """An "on create and update" rule sending the record to exsim's receiver."""
    if not target.webhook_url:
        target.out.unsupported.append(f"{name} (no --webhook-url)")
        return None
    pattern = pattern_for(category)
    action = {"state": "webhook", "webhook_url": target.webhook_url}
    pre = repr(transition_pre_domain(pattern.rule_domain()))
    return automation_rule(
        target,
        name,
        "webhook",
        category,
        action,
        trigger="on_create_or_write",
        filter_pre_domain=pre,
    )


def scaled(minutes: float, speed: float) -> int:
    return max(1, round(minutes / speed))


def mechanisms_of(spec: Detection) -> list[tuple[str, Any]]:
    """The mechanisms a category's detection names, built in and plug-in, with settings."""
    found = [(m, getattr(spec, m)) for m in BUILTIN_MECHANISMS if getattr(spec, m) is not None]
    return found + sorted(spec.plugins.items())


def wanted_by_policy(
    transport: Transport,
    policy: Policy,
    categories: list[str],
    speed: float = 1.0,
    webhook_url: str | None = None,
    uid: int = 2,
    out: Deployment | None = None,
) -> dict[str, Wanted]:
    """Every record the policy asks for, as Odoo field values (reads only): each category's
    mechanisms through the deployer registered under their name. A mechanism nobody knows how
    to deploy is reported in ``out.unsupported`` (one line)."""
    out = out if out is not None else Deployment()
    specs = []
    for category in categories:
        spec = policy.detection.get(category) or policy.detection.get("*")
        if spec is not None:
            specs += [(mech, category, params) for mech, params in mechanisms_of(spec)]
    todo_type = xmlids(transport, ["mail_activity_data_todo"], module="mail")
    rows = transport.call(
        "ir.model",
        "search_read",
        [["model", "in", sorted({pattern_for(c).model for _, c, _ in specs})]],
        fields=["model", "is_mail_activity"],
    )
    target = Target(
        transport,
        speed,
        webhook_url,
        uid,
        todo_type.get("mail_activity_data_todo"),
        {r["model"]: r["id"] for r in rows},
        {r["model"] for r in rows if r["is_mail_activity"]},
        out,
    )
    wanted: dict[str, Wanted] = {}
    for mech, category, params in specs:
        name = f"{mech}_{category}"
        deploy = DEPLOYERS.get(mech)
        if deploy is None:
            out.unsupported.append(
                f"{name} (no deployer for mechanism {mech!r}: Odoo gets nothing for it)"
            )
            continue
        found = deploy(target, name, category, params)
        if found is not None:
            wanted[name] = found
    from sim.odoo.deploy_oca import wanted_approvals

    wanted.update(wanted_approvals(target, policy, categories))
    return wanted


def _plain(value):
    """A read value as written: many2one ``[id, name]`` -> id, ``False`` kept."""
    return value[0] if isinstance(value, list) and len(value) == 2 else value


def _changes(have: dict, want: dict) -> dict:
    return {k: v for k, v in want.items() if _plain(have.get(k)) != v}


def deploy_policy(
    transport: Transport,
    policy: Policy,
    categories: list[str],
    speed: float = 1.0,
    webhook_url: str | None = None,
    uid: int = 2,
    dry_run: bool = False,
) -> Deployment:
    """Make what is deployed in Odoo what the policy says for ``categories``.

    A redeploy is an update: a record that is missing is created, one whose settings differ
    is written (the diff names each field, old -> new), and one exsim deployed earlier that
    the policy no longer asks for is removed. ``dry_run`` only computes the diff. A webhook
    rule asked for without ``webhook_url`` is reported and, if deployed, kept."""
    out = Deployment()
    wanted = wanted_by_policy(transport, policy, categories, speed, webhook_url, uid, out)
    tagged = {r["name"]: r for r in deployed(transport)}
    no_url = {u.split(" ")[0] for u in out.unsupported if "no --webhook-url" in u}
    time_rules: list[int] = []
    ids: dict[str, int] = {}  # name -> id of what is deployed (for ``Wanted.refs``)
    for name, w in wanted.items():
        have = tagged.get(name)
        rid = _existing(transport, w.model, have)
        w.vals.update({f: ids.get(ref) for f, ref in w.refs.items()})
        if rid is None:
            out.diff.append(f"+ {name}: create {w.model} {w.vals['name']!r}")
            out.created.append(name)
            if not dry_run:
                rid = ids[name] = _create(transport, w, have)
                if w.mech == "time_rule":
                    time_rules.append(rid)
            continue
        ids[name] = rid
        if _update(transport, w, rid, out, dry_run):
            out.updated.append(name)
            if w.mech == "time_rule" and not dry_run:
                time_rules.append(rid)
        else:
            out.skipped.append(name)
    for name, t in sorted(tagged.items()):
        if name in wanted or name in no_url:
            continue
        out.diff.append(f"- {name}: remove {t['model']}")
        out.removed.append(name)
        if not dry_run:
            _remove(transport, t)
    if time_rules and not dry_run:
        _anchor_check_job(transport)
    return out


def _create(transport: Transport, w: Wanted, have: dict | None) -> int:
    """Create what ``w`` describes and tag it (or re-point the tag that outlived it)."""
    vals = {**w.vals, **w.create_only}
    if w.model == "ir.cron":
        vals.update(detect(transport).cron_values())
    if w.action:
        vals["action_server_ids"] = [(0, 0, w.action)]
    rid = transport.call(w.model, "create", [vals])[0]
    if have is not None:  # its tag outlived the record: point it at the new one
        transport.call("ir.model.data", "write", [have["id"]], {"res_id": rid})
    else:
        tag(transport, w.model, {w.name: rid})
    if w.mech == "time_rule" and not w.new_rule:
        now = transport.call("base.automation", "read", [rid], ["create_date"])
        transport.call("base.automation", "write", [rid], {"last_run": now[0]["create_date"]})
    return rid


def _update(transport: Transport, w: Wanted, rid: int, out: Deployment, dry_run: bool) -> bool:
    """Write the settings of a deployed record that differ from ``w`` (and its server
    action's); each change is a ``~`` line of the diff. Whether anything differed."""
    fields_ = sorted({*w.vals, *(["action_server_ids"] if w.action else [])} - {"name"})
    if not fields_:  # nothing but its name (a reviewer group): as deployed
        return False
    row = transport.call(w.model, "read", [rid], fields_)[0]
    changed = _changes(row, {k: v for k, v in w.vals.items() if k != "name"})
    action_changed: dict = {}
    action_id = None
    arow: dict = {}
    if w.action:
        action_ids = row.get("action_server_ids") or []
        action_id = action_ids[0] if action_ids else None
        if action_id is None:
            action_changed = dict(w.action)
        else:
            arow = transport.call(
                "ir.actions.server", "read", [action_id], sorted(set(w.action) - {"name"})
            )[0]
            action_changed = _changes(arow, {k: v for k, v in w.action.items() if k != "name"})
    if not changed and not action_changed:
        return False
    for k, v in changed.items():
        out.diff.append(f"~ {w.name}: {k} {_short(row.get(k))} -> {_short(v)}")
    for k, v in action_changed.items():
        out.diff.append(f"~ {w.name}: action {k} {_short(arow.get(k))} -> {_short(v)}")
    if dry_run:
        return True
    if changed:
        transport.call(w.model, "write", [rid], changed)
    if action_changed and action_id is not None:
        transport.call("ir.actions.server", "write", [action_id], action_changed)
    elif action_changed:
        transport.call(w.model, "write", [rid], {"action_server_ids": [(0, 0, w.action)]})
    return True


def _short(value) -> str:
    text = repr(_plain(value))
    return text if len(text) <= 60 else text[:57] + "..."


def _existing(transport: Transport, model: str, have: dict | None) -> int | None:
    if have is None:
        return None
    found = transport.call(model, "exists", [have["res_id"]])  # archived ones too
    return found[0] if found else None


def _remove(transport: Transport, tagged_row: dict) -> None:
    """Remove one deployed rule or scheduled action (and a cron's server action) and its tag."""
    model, rid = tagged_row["model"], tagged_row["res_id"]
    if _existing(transport, model, tagged_row) is not None:
        if model == "ir.cron":
            action = transport.call("ir.cron", "read", [rid], ["ir_actions_server_id"])[0]
            transport.call(model, "unlink", [rid])
            if action["ir_actions_server_id"]:
                transport.call("ir.actions.server", "unlink", [action["ir_actions_server_id"][0]])
        else:
            transport.call(model, "unlink", [rid])
    left = transport.call("ir.model.data", "search", [["id", "=", tagged_row["id"]]])
    if left:  # Odoo drops a record's external ids with it; a dangling tag goes here
        transport.call("ir.model.data", "unlink", left)


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


def align_schedules(
    transport: Transport, anchor: str, policy: Policy | None = None, speed: float = 1.0
) -> int:
    """Put every deployed schedule at the run's minute 0, as the simulator starts them.

    Each exsim scan's ``nextcall`` becomes the anchor (plus the policy's ``offset_min``, at
    ``speed``), the shared time-rule job's too, and each time rule's ``last_run`` the anchor
    (a rule marked ``new_rule`` keeps none: its go-live burst is part of the policy). Odoo
    wakes its cron threads when a ``nextcall`` is written, so from here on due times are the
    simulator's. Returns how many schedules were aligned."""
    offsets: dict[str, float] = {}
    new_rules: set[str] = set()
    if policy is not None:
        for cat, det in policy.detection.items():
            if det.scan is not None:
                offsets[f"scan_{cat}"] = det.scan.offset_min / speed
            if det.time_rule is not None and det.time_rule.new_rule:
                new_rules.add(f"time_rule_{cat}")
    start = datetime.fromisoformat(anchor)
    n = 0
    for row in deployed(transport):
        if row["model"] == "ir.cron":
            at = start + timedelta(minutes=offsets.get(row["name"], offsets.get("scan_*", 0.0)))
            transport.call(
                "ir.cron", "write", [row["res_id"]], {"nextcall": at.strftime(ODOO_DATETIME)}
            )
            n += 1
        elif row["name"].startswith("time_rule_"):
            transport.call(
                "base.automation",
                "write",
                [row["res_id"]],
                {"last_run": False if row["name"] in new_rules else start.strftime(ODOO_DATETIME)},
            )
            n += 1
    job = xmlids(transport, ["ir_cron_data_base_automation_check"], module="base_automation")
    cron = job.get("ir_cron_data_base_automation_check")
    if cron and any(r["name"].startswith("time_rule_") for r in deployed(transport)):
        transport.call("ir.cron", "write", [cron], {"nextcall": start.strftime(ODOO_DATETIME)})
        n += 1
    return n


CRON_PERIOD_S = 60.0  # Odoo's cron thread sleeps SLEEP_INTERVAL (60 s) between passes
# the cron thread as a run started in step with it sees it: each pass comes up to
# SYNCED_WAKE_LAG_S after its due time, plus SYNCED_WAKE_DRIFT_S more per pass than the one
# before (the thread sleeps 60 s *after* a pass, so its phase drifts by the passes' duration).
# Measured on a real Odoo 17, 12-minute runs at speed 120 with jobs every wall minute:
# 2.0 s + 1.7 s per pass (11 scans), lag p50 5 s / max 16 s (the time-rule job alone).
SYNCED_WAKE_LAG_S = 3.0
SYNCED_WAKE_DRIFT_S = 1.5


def probe_cron_wake(
    transport: Transport,
    now,
    sleep,
    timeout_s: float = 75.0,
) -> datetime | None:
    """Catch a pass of Odoo's cron thread: make a deployed job due and wait until it ran.

    Its new ``lastcall`` is when the thread woke (to the second). The thread's phase drifts
    and jumps (a write to a job can wake it), so a run started in step with it is timed from
    a fresh pass, not from an old ``lastcall``. The job is the shared time-rule job when time
    rules are deployed, else one of exsim's scans. None when there is none, or no pass came
    within ``timeout_s``."""
    ids = [r["res_id"] for r in deployed(transport) if r["model"] == "ir.cron"]
    check = xmlids(transport, ["ir_cron_data_base_automation_check"], module="base_automation")
    if any(r["name"].startswith("time_rule_") for r in deployed(transport)):
        ids = [check.get("ir_cron_data_base_automation_check"), *ids]
    ids = [i for i in ids if i]
    if not ids:
        return None
    job = ids[0]

    def lastcall():
        rows = transport.call("ir.cron", "search_read", [["id", "=", job]], fields=["lastcall"])
        return rows[0]["lastcall"] if rows else None

    before = lastcall()
    start = now()
    transport.call("ir.cron", "write", [job], {"nextcall": start.strftime(ODOO_DATETIME)})
    while (now() - start).total_seconds() < timeout_s:
        sleep(1.0)
        last = lastcall()
        if last and last != before:
            return datetime.fromisoformat(last)
    return None


#: the models of what deploy-policy makes (rules, jobs, and on OCA modules exception rules,
#: tier definitions and their reviewer groups)
DEPLOYED_MODELS = (
    "base.automation",
    "ir.cron",
    "exception.rule",
    "tier.definition",
    "res.groups",
)


def deployed(transport: Transport) -> list[dict]:
    """What exsim deployed: its tagged rules, crons and OCA records (``ir.model.data`` rows)."""
    return transport.call(
        "ir.model.data",
        "search_read",
        [["module", "=", MODULE], ["model", "in", list(DEPLOYED_MODELS)]],
        fields=["name", "model", "res_id"],
    )


from sim.odoo import deploy_oca  # noqa: E402,F401  (registers exception_rule)
