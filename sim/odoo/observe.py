"""Reading back what Odoo did, as an exsim event log.

For every case ``inject`` tagged, ``observe`` finds the record that matches its category
(``mapping.py``), reads when it was created and its trigger date, and collects the signals of
detection: activities whose summary exsim's deployed rules write (``exsim <mechanism>
<category>``; creation time and, by the summary, which rule made them) and webhook deliveries
recorded by exsim's receiver. Times become simulated minutes through the run's anchor and
speed (system parameter ``exsim.inject.run``). The result is a log in exsim's schema with
``source='odoo'``: an ``occurred`` row per case, a ``detected`` row for the first mechanism
that fired, and ``detected`` rows with detail ``duplicate:<mechanism>`` for later ones, as the
simulator writes them. Case ids are the simulator's, so ``sim.metrics.sim_vs_live`` can
match them one to one.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from sim import eventlog
from sim.odoo.capabilities import detect
from sim.odoo.deploy_oca import document_of, parse_definition_name
from sim.odoo.mapping import parse_key, pattern_for
from sim.odoo.plan import TimeMap
from sim.odoo.seed import MODULE
from sim.odoo.transport import Transport

KEY_FIELD = {
    "stock.picking": "origin",
    "sale.order": "name",
    "purchase.order": "name",
    "res.partner": "ref",
    "product.product": "default_code",
}


@dataclass
class Observed:
    rep: int
    case_id: int
    category: str
    model: str
    res_id: int
    occurred: float
    trigger: float
    detections: list[tuple[float, int, str]]  # (minute, order within a tie, mechanism)
    resolved: float = math.nan
    how: str | None = None  # activity_done, done, cancelled, cleared
    due: float | None = None
    documents: dict[str, int] = field(default_factory=dict)  # every tagged record, by model
    # (minute, event, actor, detail, team): approval_requested / approved / rejected
    approvals: list[tuple[float, str, str | None, str | None, str | None]] = field(
        default_factory=list
    )

    @property
    def on_pattern(self) -> bool:
        """Whether the case's record is its pattern's (not the document standing in)."""
        return self.model == pattern_for(self.category).model


def _chunks(ids: list[int], n: int = 1000):
    for i in range(0, len(ids), n):
        yield ids[i : i + n]


def read_cases(transport: Transport, time_map: TimeMap) -> list[Observed]:
    """The tagged cases and their matching records, with creation and trigger times."""
    tags = transport.call(
        "ir.model.data",
        "search_read",
        [["module", "=", MODULE], ["name", "=like", "case_%"]],
        fields=["name", "model", "res_id"],
    )
    by_model: dict[str, dict[int, str]] = defaultdict(dict)
    case_records: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    for t in tags:
        _, rep, cid, *_ = t["name"].split("_")
        case_records[(int(rep), int(cid))][t["model"]] = t["res_id"]
        by_model[t["model"]][t["res_id"]] = t["name"]
    keys: dict[tuple[int, int], str] = {}
    for model, fname in KEY_FIELD.items():
        ids = list(by_model.get(model, {}))
        for chunk in _chunks(ids):
            for row in transport.call(model, "read", chunk, [fname]):
                parsed = parse_key(row[fname] or "")
                if parsed:
                    keys[(parsed[1], parsed[2])] = parsed[0]
    cases = []
    wanted: dict[str, set[int]] = defaultdict(set)
    for (rep, cid), records in case_records.items():
        category = keys.get((rep, cid))
        if category is None:
            continue
        pattern = pattern_for(category)
        model, res_id = pattern.model, records.get(pattern.model)
        if res_id is None:  # e.g. an order an exception rule kept from making its delivery
            doc = document_of(category)
            model, res_id = (doc[0], records.get(doc[0])) if doc else (model, None)
        if res_id is None:
            continue
        wanted[model].add(res_id)
        cases.append(
            Observed(rep, cid, category, model, res_id, math.nan, math.nan, [], documents=records)
        )
    info: dict[tuple[str, int], dict] = {}
    for model, ids in wanted.items():
        trigger_fields = sorted(
            {
                pattern_for(c.category).trigger_field
                for c in cases
                if c.model == model and c.on_pattern
            }
        )
        for chunk in _chunks(sorted(ids)):
            for row in transport.call(model, "read", chunk, ["create_date", *trigger_fields]):
                info[(model, row["id"])] = row
    for c in cases:
        row = info.get((c.model, c.res_id))
        if row is None:
            continue
        c.occurred = time_map.minutes(row["create_date"])
        trig = row.get(pattern_for(c.category).trigger_field) if c.on_pattern else None
        c.trigger = time_map.minutes(trig) if trig else c.occurred
    return sorted(cases, key=lambda c: (c.rep, c.case_id))


def read_activities(transport: Transport, cases: list[Observed], time_map: TimeMap) -> None:
    index = {(c.model, c.res_id): c for c in cases}
    rows = transport.call(
        "mail.activity",
        "search_read",
        [["summary", "=like", "exsim %"]],
        fields=["res_model", "res_id", "summary", "create_date"],
        order="id",
    )
    for row in rows:
        case = index.get((row["res_model"], row["res_id"]))
        parts = (row["summary"] or "").split()
        if case is None or len(parts) != 3 or parts[2] != case.category:
            continue
        # create_date is read back to the second (at speed 60, a simulated minute); within a
        # second the activity ids give the order in which Odoo made them
        case.detections.append((time_map.minutes(row["create_date"]), row["id"], parts[1]))


def read_reviews(transport: Transport, cases: list[Observed], time_map: TimeMap) -> None:
    """Tier reviews (OCA ``base_tier_validation``) of exsim's approval matrix on the cases'
    documents, as the simulator logs approvals: ``approval_requested`` when the review was
    created (detail: the decision, team: the approver level), then ``approved`` or
    ``rejected`` at its ``reviewed_date`` by whoever did it (``done_by``). A review still
    waiting or pending is a request without an answer."""
    models = detect(transport).tier_models
    index = {(m, i): c for c in cases for m, i in c.documents.items() if m in models}
    if not index:
        return
    by_model: dict[str, list[int]] = defaultdict(list)
    for model, res_id in index:
        by_model[model].append(res_id)
    for model, ids in by_model.items():
        for chunk in _chunks(sorted(ids)):
            rows = transport.call(
                "tier.review",
                "search_read",
                [["model", "=", model], ["res_id", "in", chunk]],
                fields=[
                    "res_id",
                    "name",
                    "status",
                    "requested_by",
                    "done_by",
                    "reviewed_date",
                    "create_date",
                ],
                order="id",
            )
            for row in rows:
                parsed = parse_definition_name(row["name"])
                case = index.get((model, row["res_id"]))
                if parsed is None or case is None:
                    continue  # a review of someone else's definition
                decision, approver = parsed
                asked = time_map.minutes(row["create_date"])
                who = row["requested_by"][1] if row["requested_by"] else None
                case.approvals.append((asked, "approval_requested", who, decision, approver))
                if row["status"] in ("approved", "rejected") and row["reviewed_date"]:
                    by = row["done_by"][1] if row["done_by"] else None
                    at = time_map.minutes(row["reviewed_date"])
                    case.approvals.append((at, row["status"], by, None, approver))


def read_exceptions(transport: Transport, cases: list[Observed], time_map: TimeMap) -> None:
    """Detections by exsim's exception rules (OCA ``base_exception``): a document whose
    ``exception_ids`` holds the category's rule, or whose exception was waived
    (``ignore_exception``, which also clears the link once the document is confirmed).

    Odoo keeps no time for the link. The rule is checked when the injector confirms the
    document, right after creating it, and nothing else writes a document blocked in draft:
    its ``write_date`` is the detection time while it is still linked and a draft; otherwise
    (confirmed after a waiver) its ``create_date``."""
    rows = transport.call(
        "ir.model.data",
        "search_read",
        [["module", "=", MODULE], ["model", "=", "exception.rule"]],
        fields=["name", "res_id"],
    )
    rules = {r["name"].removeprefix("exception_rule_"): r["res_id"] for r in rows}
    wanted: dict[str, dict[int, Observed]] = defaultdict(dict)
    for c in cases:
        doc = document_of(c.category) if c.category in rules else None
        if doc and doc[0] in c.documents:
            wanted[doc[0]][c.documents[doc[0]]] = c
    for model, index in wanted.items():
        for chunk in _chunks(sorted(index)):
            fields = ["exception_ids", "ignore_exception", "state", "write_date", "create_date"]
            for row in transport.call(model, "read", chunk, fields):
                case = index[row["id"]]
                linked = rules[case.category] in (row["exception_ids"] or [])
                if not (linked or row["ignore_exception"]):
                    continue
                draft = row["state"] == "draft"
                at = row["write_date"] if linked and draft else row["create_date"]
                case.detections.append((time_map.minutes(at), 0, "exception_rule"))


class ObserveError(Exception):
    """What observe needs is not there (e.g. the receiver's log of webhook deliveries)."""


def deployed_webhooks(transport: Transport) -> list[str]:
    """The webhook rules exsim deployed (their deliveries are only in the receiver's log)."""
    rows = transport.call(
        "ir.model.data",
        "search_read",
        [
            ["module", "=", MODULE],
            ["model", "=", "base.automation"],
            ["name", "=like", "webhook_%"],
        ],
        fields=["name"],
    )
    return sorted(r["name"] for r in rows)


def read_webhooks(path: Path | None, cases: list[Observed], time_map: TimeMap) -> None:
    """Deliveries the receiver logged (JSON lines ``{"at": ..., "body": {_model, _id}}``).

    Their times carry microseconds, so a delivery and an activity made in the same second are
    ordered by time; an activity (stamped at the start of its transaction) wins an exact tie."""
    if path is None:
        return
    index = {(c.model, c.res_id): c for c in cases}
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            entry = None  # a torn or foreign line: not a delivery
        body = entry.get("body") if isinstance(entry, dict) else None
        if not isinstance(body, dict) or not isinstance(entry.get("at"), str):
            continue
        key = (body.get("_model"), body.get("_id"))
        case = index.get(key) if all(isinstance(k, str | int) for k in key) else None
        if case is not None:
            case.detections.append((time_map.minutes(entry["at"]), 1 << 62, "webhook"))


# tracked state labels (Odoo tracks a selection by its label) that end a case's record
ENDING_STATES = {"done": "done", "cancelled": "cancelled", "cancel": "cancelled"}


def read_resolutions(transport: Transport, cases: list[Observed], time_map: TimeMap) -> None:
    """When each case was resolved, from the record's chatter.

    Two things end a case in Odoo: someone marks its activity done (Odoo posts a message with
    the activity's type, ``mail_activity_type_id``, and in 17 deletes the activity; 18 keeps it
    archived with ``date_done``), or its record reaches an end state (``done``/``cancel``,
    which ``mail.thread`` tracks as a ``mail.tracking.value`` on the ``state`` field). The
    first after the case occurred counts. A record cancelled before anything detected it is
    the case clearing by itself (``cleared``, as the simulator logs it)."""
    by_model: dict[str, dict[int, Observed]] = defaultdict(dict)
    for c in cases:
        by_model[c.model][c.res_id] = c
    ends: dict[tuple[str, int], list[tuple[float, str]]] = defaultdict(list)
    for model, index in by_model.items():
        ids = sorted(index)
        for chunk in _chunks(ids):
            done = transport.call(
                "mail.message",
                "search_read",
                [
                    ["model", "=", model],
                    ["res_id", "in", chunk],
                    ["mail_activity_type_id", "!=", False],
                ],
                fields=["res_id", "date"],
            )
            for m in done:
                ends[(model, m["res_id"])].append((time_map.minutes(m["date"]), "activity_done"))
            tracked = transport.call(
                "mail.tracking.value",
                "search_read",
                [
                    ["mail_message_id.model", "=", model],
                    ["mail_message_id.res_id", "in", chunk],
                    ["field_id.name", "=", "state"],
                ],
                fields=["new_value_char", "mail_message_id"],
            )
            if not tracked:
                continue
            msgs = {
                m["id"]: m
                for m in transport.call(
                    "mail.message",
                    "read",
                    sorted({t["mail_message_id"][0] for t in tracked}),
                    ["res_id", "date"],
                )
            }
            for t in tracked:
                state = ENDING_STATES.get(str(t["new_value_char"] or "").strip().lower())
                msg = msgs.get(t["mail_message_id"][0])
                if state and msg:
                    ends[(model, msg["res_id"])].append((time_map.minutes(msg["date"]), state))
    for c in cases:
        after = sorted(e for e in ends.get((c.model, c.res_id), []) if e[0] >= c.occurred)
        if not after:
            continue
        c.resolved, c.how = after[0]
        first_detection = min((d[0] for d in c.detections), default=math.inf)
        if c.how == "cancelled" and first_detection > c.resolved:
            c.how = "cleared"


def to_table(cases: list[Observed], meta: eventlog.LogMeta) -> pa.Table:
    """The observed cases as an exsim log (occurred, detected, approval and resolved rows,
    schema ``SCHEMA``)."""
    cols: dict[str, list] = {c.name: [] for c in eventlog.COLUMNS}

    def row(c: Observed, ts: float, event: str, actor=None, detail=None, team=None) -> None:
        values = {
            "rep": c.rep,
            "case_id": c.case_id,
            "ts": ts,
            "event": event,
            "category": c.category,
            "severity": None,
            "team": team,
            "actor": actor,
            "detail": detail,
            "due_ts": c.due,
            "trigger_ts": c.trigger,
            "promise_ts": None,
            "order_value": None,
            "customer_tier": None,
            "warehouse": None,
            "site": None,
            "parent_case_id": None,
        }
        for k, v in values.items():
            cols[k].append(v)

    for c in cases:
        rows: list[tuple] = [(c.occurred, "occurred", None, None, None)]
        seen: set[str] = set()
        for ts, _, mech in sorted(c.detections):
            if mech in seen:
                continue
            detail = mech if not seen else f"duplicate:{mech}"
            seen.add(mech)
            rows.append((ts, "detected", mech, detail, None))
        rows += c.approvals
        if not math.isnan(c.resolved):
            rows.append((c.resolved, "resolved", "odoo", c.how, None))
        # in time order; at one time in the order of a case's life (EVENTS)
        for ts, event, actor, detail, team in sorted(
            rows, key=lambda r: (r[0], eventlog.EVENT_CODE[r[1]])
        ):
            row(c, ts, event, actor, detail, team)
    plain = pa.table(
        {
            c.name: pa.array(
                cols[c.name],
                type=pa.string() if pa.types.is_dictionary(c.type) else c.type,
            )
            for c in eventlog.COLUMNS
        }
    )
    table = plain.cast(eventlog.SCHEMA)
    return table.replace_schema_metadata(eventlog.schema_metadata(meta))


def observe(
    transport: Transport,
    run: dict,
    webhooks: Path | None = None,
    since: float | None = None,
    sla_min: dict[str, float] | None = None,
) -> pa.Table:
    """Read the live run described by ``run`` (the ``exsim.inject.run`` parameter).

    ``sla_min`` (category -> minutes, the policy's SLA targets) gives each case its due
    time, so SLA attainment is measured on the live log as on a simulated one."""
    hooks = deployed_webhooks(transport)
    if webhooks is not None and not Path(webhooks).is_file():
        raise ObserveError(f"{webhooks}: no such file (the receiver's log of webhook deliveries)")
    if hooks and webhooks is None:
        raise ObserveError(
            f"webhook rules are deployed ({', '.join(hooks)}) but the receiver's log is "
            "not given: pass --webhooks <the file `exsim odoo receive --out` writes>, or their "
            "detections would silently count as misses"
        )
    time_map = TimeMap(datetime.fromisoformat(run["anchor"]), float(run.get("speed", 1.0)))
    cases = read_cases(transport, time_map)
    if since is not None:
        cases = [c for c in cases if c.occurred >= since]
    read_activities(transport, cases, time_map)
    read_exceptions(transport, cases, time_map)
    read_webhooks(webhooks, cases, time_map)
    read_reviews(transport, cases, time_map)
    read_resolutions(transport, cases, time_map)
    for c in cases:
        if sla_min and c.category in sla_min:
            c.due = c.occurred + sla_min[c.category]
    horizon = run.get("horizon_min")
    if horizon is not None:
        # the simulation stops at its horizon: what Odoo did later is not comparable
        cases = [c for c in cases if c.occurred < horizon]
        for c in cases:
            c.detections = [d for d in c.detections if d[0] < horizon]
            c.approvals = [a for a in c.approvals if a[0] < horizon]
            if c.resolved >= horizon:
                c.resolved, c.how = math.nan, None
    else:
        horizon = max(
            [0.0]
            + [c.occurred for c in cases]
            + [t for c in cases for t, *_ in c.detections]
            + [t for c in cases for t, *_ in c.approvals]
        )
    meta = eventlog.LogMeta(
        start=run["anchor"],
        horizon_min=float(horizon),
        scenario=str(run.get("scenario", "")),
        policy=str(run.get("policy", "")),
        seed=int(run.get("seed", 0)),
        reps=1,
        source="odoo",
        extra={"speed": time_map.speed},
    )
    return to_table(cases, meta)
