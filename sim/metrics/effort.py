"""Effort against elapsed time: hands-on work, waiting on others, work that came back.

A case's *elapsed* time (occurred to resolved) is not the work it took. Hands-on *effort* is the
sum of its work pieces: each ``work_started`` row (an agent, a swarm helper, an on-call
responder) runs until the case's next ``on_hold``, ``approval_requested``, ``reassigned`` or
``resolved`` row, or the horizon; two people working together count twice. *Hold* time runs
from ``on_hold`` to ``resumed`` (or the resolution, if the case cleared meanwhile). A case is
*reopened* when a ``reopened`` row follows its resolution; it is a *first-time fix* when it was
resolved and neither reopened nor reassigned. Escalation actions are attributed by their
``detail`` (``tier<N>:<action>``): cases each tier's action touched, how many of them were
resolved afterwards and in time, and how long that took from the action.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from sim.eventlog import EVENT_CODE, SEVERITIES
from sim.metrics.cases import as_category, codes_of, event_codes
from sim.metrics.latency import describe
from sim.metrics.sla import MET, sla_outcome

_WORK_ENDS = [EVENT_CODE[e] for e in ("on_hold", "approval_requested", "reassigned", "resolved")]
_HOLD_ENDS = [EVENT_CODE[e] for e in ("resumed", "resolved")]
#: ``detail`` of a row an escalation action wrote: tier and action (not the tier's own rows)
ACTION_DETAIL = re.compile(r"^(tier\d+):(?!unacknowledged$|unresolved$|repeat\d+$)(.+)$")


def _spans(key, pos, ts, starts, ends, actor=None) -> pd.DataFrame:
    """Each start row with the time of its case's next end row (NaN when none)."""
    left = pd.DataFrame({"key": key[starts], "pos": pos[starts], "t0": ts[starts]})
    if actor is not None:
        left["actor"] = actor[starts]
    right = pd.DataFrame({"key": key[ends], "pos": pos[ends], "t1": ts[ends]})
    return pd.merge_asof(
        left, right, on="pos", by="key", direction="forward", allow_exact_matches=False
    )


def work_spans(
    df: pd.DataFrame,
    ev: np.ndarray,
    starts=("work_started",),
    ends=_WORK_ENDS,
    actors: bool = True,
):
    """Pieces of work (or holds): ``key`` (rep * span + case_id), ``t0``, ``t1`` (NaN while
    unfinished), ``actor`` (unless ``actors`` is false); and the key span.

    Only the start and end rows are taken out of the columns (never a whole column's copy)."""
    case = df["case_id"].to_numpy()
    span = int(case.max()) + 1 if len(case) else 1
    start_codes = [EVENT_CODE[e] for e in starts]
    rows = np.flatnonzero(np.isin(ev, start_codes) | np.isin(ev, ends))  # only these matter
    rep = df["rep"].to_numpy()[rows].astype(np.int64)
    ts = df["ts"].to_numpy(float)[rows]
    key = rep * span + case[rows].astype(np.int64)
    order = np.lexsort((np.arange(len(ts)), ts, rep))
    del rep
    pos = np.empty(len(ts), np.int64)
    pos[order] = np.arange(len(ts))  # a row's place in time; ties keep the written order
    sort = order  # rows in time order, so merge_asof sees sorted positions
    actor = as_category(df["actor"]).iloc[rows].astype(str).to_numpy()[sort] if actors else None
    key, pos, ts, ev = key[sort], pos[sort], ts[sort], ev[rows][sort]
    start = np.isin(ev, start_codes)
    return _spans(key, pos, ts, start, np.isin(ev, ends), actor), span


def effort_table(df: pd.DataFrame, ev: np.ndarray, horizon: float) -> pd.DataFrame:
    """Per (rep, case_id) with any work or hold: ``effort`` minutes (finished pieces of work),
    ``hold`` minutes (a hold still on at the horizon counts up to it) and ``holds``."""
    work, span = work_spans(df, ev, actors=False)
    hold, _ = work_spans(df, ev, ("on_hold",), _HOLD_ENDS, actors=False)
    hold["t1"] = hold["t1"].fillna(horizon)
    effort = (work["t1"] - work["t0"]).groupby(work["key"]).sum()
    held = (hold["t1"] - hold["t0"]).groupby(hold["key"])
    out = pd.DataFrame({"effort": effort, "hold": held.sum(), "holds": held.size()})
    out = out.fillna({"effort": 0.0, "hold": 0.0, "holds": 0})
    out["rep"] = out.index.to_numpy() // span
    out["case_id"] = out.index.to_numpy() % span
    return out.reset_index(drop=True)


def cases_with_rows(df: pd.DataFrame, rows: np.ndarray, cases: pd.DataFrame) -> np.ndarray:
    """Per case of ``cases``, whether any of the masked rows belongs to it."""
    hit = pd.MultiIndex.from_arrays([df["rep"].to_numpy()[rows], df["case_id"].to_numpy()[rows]])
    mine = pd.MultiIndex.from_arrays([cases["rep"].to_numpy(), cases["case_id"].to_numpy()])
    return mine.isin(hit)


def effort_summary(df: pd.DataFrame, ev: np.ndarray, cases: pd.DataFrame, table: pd.DataFrame):
    """``effort_min``, ``hold_min`` (held cases), ``elapsed_min``, hold reasons, reopen rate,
    first-time-fix rate, over ``cases`` (the case table of the cases judged); ``table`` is
    :func:`effort_table` of the log."""
    merged = cases[["rep", "case_id", "occurred", "resolved"]].merge(
        table, on=["rep", "case_id"], how="left"
    )
    resolved = merged["resolved"].notna().to_numpy()
    effort = merged["effort"].fillna(0.0).to_numpy()
    hold = merged["hold"].fillna(0.0).to_numpy()
    held = merged["holds"].fillna(0).to_numpy() > 0
    reopened = cases_with_rows(df, ev == EVENT_CODE["reopened"], cases)
    reassigned = cases_with_rows(df, ev == EVENT_CODE["reassigned"], cases)
    rows = ev == EVENT_CODE["on_hold"]
    reasons = as_category(df["detail"])[rows].astype(str).value_counts().sort_index()
    n_resolved = int(resolved.sum())
    return {
        "effort_min": describe(effort[resolved]),
        "hold_min": describe(hold[held]),
        "elapsed_min": describe((merged["resolved"] - merged["occurred"]).to_numpy()),
        "held": int(held.sum()),
        "hold_reasons": {str(k): int(v) for k, v in reasons.items()},
        "reopened": int(reopened.sum()),
        "reopen_rate": float(reopened[resolved].mean()) if n_resolved else None,
        "first_time_fix_rate": (
            float((~reopened & ~reassigned)[resolved].mean()) if n_resolved else None
        ),
    }


def escalation_action_summary(
    df: pd.DataFrame, cases: pd.DataFrame, horizon: float
) -> dict[str, dict]:
    """Per ``tier<N>:<action>``: ``cases`` it touched, ``resolved_after`` it, ``met_sla`` of
    those, and ``min_to_resolve`` from the action (mean)."""
    return escalation_action_totals(escalation_action_rows(df, cases), horizon)


def escalation_action_rows(df: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """Per (``label``, rep, case_id) of ``cases`` an escalation action touched: the first
    action's ``ts``, the case's ``final`` resolution and its ``due`` time, sorted by the first
    three. A case's row needs only that case's rows of the log."""
    detail = as_category(df["detail"])
    names = [str(c) for c in detail.cat.categories]
    labels = {i: n for i, n in enumerate(names) if ACTION_DETAIL.match(n)}
    if not labels:
        return pd.DataFrame(columns=["label", "rep", "case_id", "ts", "due", "final"])
    codes = codes_of(detail)
    rows = np.isin(codes, list(labels))
    acted = pd.DataFrame(
        {
            "rep": df["rep"].to_numpy()[rows],
            "case_id": df["case_id"].to_numpy()[rows],
            "label": [labels[c] for c in codes[rows]],
            "ts": df["ts"].to_numpy(float)[rows],
        }
    )
    first = acted.groupby(["label", "rep", "case_id"], as_index=False)["ts"].min()
    last_resolved = _last_resolved(df)
    judged = cases[["rep", "case_id", "due"]].assign(
        final=lambda c: last_resolved.reindex(
            pd.MultiIndex.from_frame(c[["rep", "case_id"]])
        ).to_numpy()
    )
    return first.merge(judged, on=["rep", "case_id"], how="inner")


def escalation_action_totals(first: pd.DataFrame, horizon: float) -> dict[str, dict]:
    """:func:`escalation_action_summary` of the rows of :func:`escalation_action_rows`."""
    out: dict[str, dict] = {}
    for label, g in first.groupby("label", sort=True):
        after = g["final"].to_numpy() >= g["ts"].to_numpy()
        outcome = sla_outcome(g["final"].to_numpy(), g["due"].to_numpy(), horizon)
        out[str(label)] = {
            "cases": len(g),
            "resolved_after": int(after.sum()),
            "met_sla": int(((outcome == MET) & after).sum()),
            "min_to_resolve": describe((g["final"] - g["ts"]).to_numpy()[after])["mean"],
        }
    return out


def _last_resolved(df: pd.DataFrame) -> pd.Series:
    rows = event_codes(df) == EVENT_CODE["resolved"]  # codes: no string per row
    sub = pd.DataFrame(
        {
            "rep": df["rep"].to_numpy()[rows],
            "case_id": df["case_id"].to_numpy()[rows],
            "ts": df["ts"].to_numpy(float)[rows],
        }
    )
    return sub.groupby(["rep", "case_id"])["ts"].max()


def wait_by(df: pd.DataFrame, ev: np.ndarray, cases: pd.DataFrame) -> dict[str, dict]:
    """Queue wait (assigned to first work: mean, p90, n) by final severity and by the team the
    case was first assigned to (escalation rows name the alerted role, not an owner)."""
    wait = cases["work_started"].to_numpy() - cases["assigned"].to_numpy()
    rows = ev == EVENT_CODE["assigned"]
    first = (
        pd.DataFrame(
            {
                "rep": df["rep"].to_numpy()[rows],
                "case_id": df["case_id"].to_numpy()[rows],
                "team": as_category(df["team"])[rows].astype(object).to_numpy(),
            }
        )
        .drop_duplicates(["rep", "case_id"])
        .set_index(["rep", "case_id"])["team"]
    )
    index = pd.MultiIndex.from_frame(cases[["rep", "case_id"]])
    columns = {
        "severity": (cases["severity"].astype(object).to_numpy(), list(SEVERITIES)),
        "team": (first.reindex(index).to_numpy(), None),
    }
    out: dict[str, dict] = {}
    for col, (values, order) in columns.items():
        keys = order or sorted({v for v in values if isinstance(v, str)})
        out[f"by_{col}"] = {
            k: {key: describe(wait[values == k])[key] for key in ("mean", "p90", "n")}
            for k in keys
            if (values == k).any()
        }
    return out


def on_call_summary(df: pd.DataFrame, ev: np.ndarray, rotas: dict[str, dict], t0: float) -> dict:
    """Per on-call rota: ``pages`` sent, responder ``hours`` hands-on, and their ``cost``."""
    if not rotas:
        return {}
    team = as_category(df["team"])
    team_code = {str(name): i for i, name in enumerate(team.cat.categories)}
    team = codes_of(team)  # codes: no string per row
    paged = (ev == EVENT_CODE["notified"]) & (df["ts"].to_numpy(float) >= t0)
    work, _ = work_spans(df, ev)
    work = work[work["t0"] >= t0]
    out = {}
    for name, rates in rotas.items():
        pages = int((paged & (team == team_code.get(name, -2))).sum())
        mine = work[work["actor"].str.startswith(f"{name}/")]
        hours = float((mine["t1"] - mine["t0"]).sum()) / 60.0
        cost = pages * rates.get("cost_per_page", 0.0) + hours * rates.get("cost_per_hour", 0.0)
        out[name] = {"pages": pages, "hours": hours, "cost": cost}
    return out
