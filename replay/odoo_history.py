"""History from a live Odoo 17: records and their chatter turned into exception cases.

An Odoo database remembers what went wrong even if nobody logged "exceptions": a delivery
that sat *Ready* past its scheduled date, a receipt still not received after its planned
date, a confirmed order whose delivery waited for stock. The record's dates (scheduled,
done) and its chatter (``mail.message`` with ``mail.tracking.value`` rows for every state
change, with timestamps) tell when each condition started and ended; activities
(``mail.activity``, and the message Odoo posts when one is marked done) tell when people
took it up. This module applies the same rules the detection policies model:

- ``picking_sla``: an outgoing transfer still not done ``threshold`` minutes after its
  scheduled date, occurring then -- or when it became Ready, if later (its trigger date,
  the scheduled date, is then behind it: the time-rule blind spot);
- ``inbound_delay``: an incoming transfer not received ``threshold`` minutes after its
  scheduled date;
- ``stock_shortage``: a delivery of a confirmed order entering *Waiting* (no stock),
  resolved when it became Ready or was done.

Each case then gets ``occurred``, ``detected``/``assigned`` at the first activity created on
the record after the occurrence, ``work_started`` / ``resolved`` when that activity was marked
done or the condition ended, whichever first. The result goes through the same mapper as
any file (``replay.map_frame``). Only read methods are called: replay never writes to Odoo.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from replay import map_frame, parse_mapping
from replay.errors import ReplayInputError

#: The only methods this module calls.
READ_METHODS = frozenset({"search_read", "read", "read_group", "search", "search_count"})
ODOO_FORMAT = "%Y-%m-%d %H:%M:%S"


class OdooHistoryError(ReplayInputError):
    """The Odoo to pull from is not reachable or not configured."""


_MAPPING = parse_mapping(
    {
        "columns": {
            "case_id": "case",
            "timestamp": "ts",
            "activity": "event",
            "category": "category",
            "actor": "actor",
            "detail": "detail",
            "trigger": "trigger",
            "order_value": "value",
            "warehouse": "warehouse",
        },
        "timezone": "UTC",
        "dedupe": True,
    },
    "odoo history",
)


def connect_from_env():
    """An odoorpc client from the live backend's settings (the EXSIM_ODOO_* variables), logged
    in through its transport (``sim.odoo``): the same connection rules, errors and masking."""
    from sim.odoo.settings import SettingsError, resolve
    from sim.odoo.transport import OdooError, TransientError, connect

    try:
        settings = resolve()
    except SettingsError as exc:
        raise OdooHistoryError(f"--odoo: {exc}") from None
    try:
        return connect(settings, protocol="jsonrpc").client  # odoorpc: JSON-RPC (14-19)
    except (OdooError, TransientError) as exc:
        raise OdooHistoryError(
            f"EXSIM_ODOO_URL: cannot log in to {settings.url} db {settings.db}: {exc}"
        ) from None


def _call(client, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
    if method not in READ_METHODS:  # a guard, not a policy: replay never writes
        raise RuntimeError(f"odoo_history may not call {model}.{method}")
    return client.execute_kw(model, method, list(args), kwargs)


def _dt(value: Any) -> datetime | None:
    if not value:
        return None
    text = str(value)
    return datetime.strptime(text[:19], ODOO_FORMAT if len(text) > 10 else "%Y-%m-%d")


def _state_changes(client, model: str, ids: list[int]) -> dict[int, list[tuple[datetime, str]]]:
    """Per record, the (time, new state label) of each tracked state change, in time order."""
    if not ids:
        return {}
    field = _call(
        client, "ir.model.fields", "search", [("model", "=", model), ("name", "=", "state")]
    )
    msgs = _call(
        client,
        "mail.message",
        "search_read",
        [("model", "=", model), ("res_id", "in", ids), ("tracking_value_ids", "!=", False)],
        fields=["date", "res_id", "tracking_value_ids"],
    )
    value_ids = [v for m in msgs for v in m["tracking_value_ids"]]
    values = _call(
        client,
        "mail.tracking.value",
        "read",
        value_ids,
        fields=["field_id", "new_value_char", "mail_message_id"],
    )
    when = {m["id"]: (m["res_id"], _dt(m["date"])) for m in msgs}
    out: dict[int, list[tuple[datetime, str]]] = {}
    for v in values:
        fid = v["field_id"][0] if v["field_id"] else None
        mid = v["mail_message_id"][0] if v["mail_message_id"] else None
        if fid in field and mid in when:
            res_id, at = when[mid]
            out.setdefault(res_id, []).append((at, v["new_value_char"] or ""))
    for changes in out.values():
        changes.sort()
    return out


def _first(changes: list[tuple[datetime, str]], labels: tuple[str, ...], after=None):
    for at, label in changes:
        if label in labels and (after is None or at >= after):
            return at
    return None


def _activities(client, model: str, ids: list[int]) -> dict[int, list[tuple[datetime, str]]]:
    """Per record, activity events: ('created', user) from open activities and ('done', ...)
    from the message Odoo posts when one is marked done (done activities are deleted)."""
    out: dict[int, list[tuple[datetime, str, str]]] = {}
    if not ids:
        return out
    for a in _call(
        client,
        "mail.activity",
        "search_read",
        [("res_model", "=", model), ("res_id", "in", ids)],
        fields=["res_id", "create_date", "user_id"],
    ):
        user = a["user_id"][1] if a["user_id"] else "user"
        out.setdefault(a["res_id"], []).append((_dt(a["create_date"]), "created", user))
    for m in _call(
        client,
        "mail.message",
        "search_read",
        [("model", "=", model), ("res_id", "in", ids), ("mail_activity_type_id", "!=", False)],
        fields=["res_id", "date", "author_id"],
    ):
        who = m["author_id"][1] if m["author_id"] else "user"
        out.setdefault(m["res_id"], []).append((_dt(m["date"]), "done", who))
    for rows in out.values():
        rows.sort()
    return out


def pull_history(
    client,
    since: datetime,
    until: datetime,
    thresholds: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Exception cases of [since, until) as an exsim log (``df.attrs['meta']``), read-only.

    ``thresholds`` (minutes past the scheduled date before a transfer counts as late) by
    category, e.g. a policy's scan ``threshold_min``; default 0.
    """
    thresholds = {"picking_sla": 0.0, "inbound_delay": 0.0, **(thresholds or {})}
    lo, hi = since.strftime(ODOO_FORMAT), until.strftime(ODOO_FORMAT)
    pickings = _call(
        client,
        "stock.picking",
        "search_read",
        [
            ("picking_type_code", "in", ["outgoing", "incoming"]),
            ("scheduled_date", "<", hi),
            "|",
            ("date_done", "=", False),
            ("date_done", ">=", lo),
        ],
        fields=["name", "state", "scheduled_date", "date_done", "picking_type_code", "origin"],
    )
    ids = [p["id"] for p in pickings]
    changes = _state_changes(client, "stock.picking", ids)
    acts = _activities(client, "stock.picking", ids)
    rows: list[dict] = []
    for p in pickings:
        hist = changes.get(p["id"], [])
        scheduled, done = _dt(p["scheduled_date"]), _dt(p["date_done"])
        ended = done or _first(hist, ("Cancelled",))
        base = {"trigger": None, "value": None, "warehouse": None}
        cases = []
        if p["picking_type_code"] == "outgoing":
            waiting = _first(hist, ("Waiting", "Waiting Another Operation"))
            if waiting is not None:
                ready = _first(hist, ("Ready",), after=waiting)
                cases.append(
                    (
                        "stock_shortage",
                        waiting,
                        min(filter(None, [ready, ended]), default=None),
                        waiting,
                    )
                )
            late_at = scheduled + timedelta(minutes=thresholds["picking_sla"])
            ready = _first(hist, ("Ready",))
            if ready is not None and (ended is None or ended > max(late_at, ready)):
                cases.append(("picking_sla", max(late_at, ready), ended, scheduled))
        else:
            late_at = scheduled + timedelta(minutes=thresholds["inbound_delay"])
            if ended is None or ended > late_at:
                cases.append(("inbound_delay", late_at, ended, scheduled))
        for category, occurred, resolved, trigger in cases:
            if not since <= occurred < until:
                continue
            case = f"{p['name']}#{category}"
            ev = [(occurred, "occurred", "odoo", p["name"])]
            taken = [a for a in acts.get(p["id"], []) if a[0] >= occurred]
            created = next((a for a in taken if a[1] == "created"), None)
            if created is not None:
                ev += [(created[0], "detected", "activity", "mail.activity")]
                ev += [(created[0], "assigned", created[2], None)]
                done = next((a for a in taken if a[1] == "done" and a[0] >= created[0]), None)
                if done is not None and (resolved is None or done[0] < resolved):
                    resolved = done[0]
            if resolved is not None and resolved < until:
                ev.append((resolved, "resolved", "odoo", None))
            for at, event, actor, detail in ev:
                rows.append(
                    {
                        **base,
                        "case": case,
                        "ts": at.strftime(ODOO_FORMAT),
                        "event": event,
                        "category": category,
                        "actor": actor,
                        "detail": detail,
                        "trigger": trigger.strftime(ODOO_FORMAT) if trigger else None,
                    }
                )
    if not rows:
        raise OdooHistoryError(f"odoo: no exception cases between {lo} and {hi}")
    mapping = _MAPPING.model_copy(update={"start": since})
    df, _ = map_frame(pd.DataFrame(rows), mapping, "odoo")
    meta = df.attrs["meta"]
    meta.horizon_min = (until - since).total_seconds() / 60.0
    meta.source = "odoo"
    meta.extra["replay"]["until"] = until.isoformat()
    return df
