"""Simulator versus live Odoo: the same cases, read from two event logs.

``exsim odoo observe`` reads back what a live Odoo did as an event log in exsim's schema, with
the simulator's case ids, so the prediction (the simulated log of the same plan) and the
observation can be matched case by case. For each case the first detection that is not a
duplicate says which mechanism caught it (or none: a miss) and how long after it occurred.
``sim_vs_live`` then compares the two sides per category: miss rate, detections by mechanism,
latency p50/p90, and agreement, the share of cases where both sides name the same first
detecting mechanism (a miss on both sides agrees). Where the live run had approvals (OCA tier
reviews, read back as ``approval_requested`` / ``approved`` / ``rejected``), ``approvals``
compares them: requests, decisions and the approval cycle time (decision minus request, the
approver's part: auto-approvals excluded), over the cases both logs hold.
"""

from __future__ import annotations

import pandas as pd

from sim.metrics.cases import case_table

KEY = ["rep", "case_id"]


def detections_by_case(log: pd.DataFrame) -> pd.DataFrame:
    """Per case that occurred, indexed by (rep, case_id): category, first detecting mechanism
    (None when missed) and its latency, read off the case table."""
    cases = case_table(log)
    cases = cases[cases["occurred"].notna()].set_index(["rep", "case_id"])
    mechanism = cases["detected_by"].astype(object)
    return pd.DataFrame(
        {
            "category": cases["category"].astype(str),
            "occurred": cases["occurred"],
            "mechanism": mechanism.where(mechanism.notna(), None),
            "latency": cases["detected"] - cases["occurred"],
        }
    )


def approvals_by_case(log: pd.DataFrame) -> pd.DataFrame:
    """Per case with an approval request, indexed by (rep, case_id): category, approver level
    (the request's team), the first request's time, the first decision's time and outcome
    (``approved``/``rejected``; None while pending) and the cycle time between them. An
    auto-approval (actor ``auto``) has no cycle time: nobody decided."""
    events = log["event"].astype(str)
    rows = log[events.isin(["approval_requested", "approved", "rejected"])]
    cols = ["category", "approver", "requested", "decided", "outcome", "cycle"]
    if rows.empty:
        return pd.DataFrame(columns=cols, index=pd.MultiIndex.from_tuples([], names=KEY))
    rows = rows.sort_values("ts", kind="stable")
    ev = rows["event"].astype(str)
    asked = rows[ev == "approval_requested"].drop_duplicates(KEY).set_index(KEY)
    done = rows[ev != "approval_requested"].drop_duplicates(KEY).set_index(KEY)
    out = pd.DataFrame(
        {
            "category": asked["category"].astype(str),
            "approver": asked["team"].astype(object),
            "requested": asked["ts"],
        }
    )
    out["decided"] = done["ts"].reindex(out.index)
    outcome = done["event"].astype(object).reindex(out.index)
    out["outcome"] = outcome.where(outcome.notna(), None)
    auto = (done["actor"].astype(object) == "auto").reindex(out.index, fill_value=False)
    out["cycle"] = (out["decided"] - out["requested"]).where(~auto.astype(bool))
    return out[cols]


def _approval_side(a: pd.DataFrame) -> dict:
    cycle = a["cycle"].dropna()
    return {
        "requested": int(len(a)),
        "approved": int((a["outcome"] == "approved").sum()),
        "rejected": int((a["outcome"] == "rejected").sum()),
        "pending": int(a["outcome"].isna().sum()),
        "cycle_p50": float(cycle.quantile(0.5)) if len(cycle) else None,
        "cycle_p90": float(cycle.quantile(0.9)) if len(cycle) else None,
        "cycle_mean": float(cycle.mean()) if len(cycle) else None,
    }


def approvals_sim_vs_live(sim_log: pd.DataFrame, live_log: pd.DataFrame) -> dict | None:
    """Approvals predicted versus observed, over the cases both logs hold (None when the live
    log has none: nothing in Odoo requested a review)."""
    live = approvals_by_case(live_log)
    if live.empty:
        return None
    sim = approvals_by_case(sim_log)
    common = detections_by_case(sim_log).index.intersection(detections_by_case(live_log).index)
    sim, live = sim[sim.index.isin(common)], live[live.index.isin(common)]
    out: dict = {"sim": _approval_side(sim), "live": _approval_side(live), "by_category": {}}
    for cat in sorted(set(sim["category"]) | set(live["category"])):
        out["by_category"][cat] = {
            "sim": _approval_side(sim[sim["category"] == cat]),
            "live": _approval_side(live[live["category"] == cat]),
        }
    both = sim.join(live, lsuffix="_sim", rsuffix="_live", how="inner")
    out["same_approver"] = (
        float((both["approver_sim"] == both["approver_live"]).mean()) if len(both) else None
    )
    return out


def sim_vs_live(sim_log: pd.DataFrame, live_log: pd.DataFrame) -> dict:
    """Sim versus live on the same cases: miss rate, latency and per-case agreement."""
    s, v = detections_by_case(sim_log), detections_by_case(live_log)
    both = s.join(v, lsuffix="_sim", rsuffix="_live", how="inner")
    out: dict = {"cases": int(len(both)), "by_category": {}}
    for cat, g in both.groupby("category_sim"):
        entry = {"cases": int(len(g))}
        for side in ("sim", "live"):
            lat = g[f"latency_{side}"].dropna()
            entry[side] = {
                "miss_rate": float(g[f"mechanism_{side}"].isna().mean()),
                "by_mechanism": {
                    str(k): int(n) for k, n in g[f"mechanism_{side}"].value_counts().items()
                },
                "latency_p50": float(lat.quantile(0.5)) if len(lat) else None,
                "latency_p90": float(lat.quantile(0.9)) if len(lat) else None,
            }
        same = g["mechanism_sim"].fillna("-") == g["mechanism_live"].fillna("-")
        entry["agreement"] = float(same.mean())
        out["by_category"][str(cat)] = entry
    same = both["mechanism_sim"].fillna("-") == both["mechanism_live"].fillna("-")
    out["agreement"] = float(same.mean()) if len(both) else None
    approvals = approvals_sim_vs_live(sim_log, live_log)
    if approvals is not None:
        out["approvals"] = approvals
    return out
