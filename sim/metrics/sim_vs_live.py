"""Simulator versus live Odoo: the same cases, read from two event logs.

``exsim odoo observe`` reads back what a live Odoo did as an event log in exsim's schema, with
the simulator's case ids, so the prediction (the simulated log of the same plan) and the
observation can be matched case by case. For each case the first detection that is not a
duplicate says which mechanism caught it (or none: a miss) and how long after it occurred.
``sim_vs_live`` then compares the two sides per category: miss rate, detections by mechanism,
latency p50/p90, and agreement, the share of cases where both sides name the same first
detecting mechanism (a miss on both sides agrees).
"""

from __future__ import annotations

import pandas as pd

from sim.metrics.cases import case_table


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
    return out
