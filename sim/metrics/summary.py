"""One replication's KPIs as a plain dict, and the mean with 95% intervals over replications.

Two bases, on purpose. Per-case KPIs (case counts, SLA, latencies, missed detections,
duplicates) cover the cases that occurred after the warm-up, so the empty desk at time 0 does
not flatter them. State and workload KPIs (backlog, aging, alerts, escalations, events) observe
the window [warm-up, horizon] as it was, carried-over cases included.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim import stats
from sim.eventlog import LogMeta, rep_meta
from sim.metrics.backlog import aging, backlog_stats, littles_law, open_interval
from sim.metrics.cases import case_table, event_codes, log_meta
from sim.metrics.effort import (
    effort_summary,
    effort_table,
    escalation_action_summary,
    on_call_summary,
    wait_by,
)
from sim.metrics.handling import (
    approval_summary,
    detection_summary,
    dropped_summary,
    labour_summary,
    suppression_summary,
)
from sim.metrics.kpis import RANGES, kpi
from sim.metrics.latency import latency_summary, waited_fraction
from sim.metrics.sla import sla_summary
from sim.metrics.workload import escalation_tiers, workload_summary


def summarize(df: pd.DataFrame, warmup_min: float = 0.0) -> dict:
    """KPIs of one replication's log (JSON-ready: plain numbers, None for undefined)."""
    reps = pd.unique(df["rep"])
    if len(reps) > 1:
        raise ValueError(f"summarize takes one replication, got {len(reps)}; use summarize_reps")
    return summarize_run(df, log_meta(df), warmup_min, None)


def summarize_reps(df: pd.DataFrame, warmup_min: float = 0.0) -> dict:
    """Mean over replications of each KPI of :func:`summarize`, plus ``ci95`` and ``reps``.

    ``ci95`` mirrors the KPI tree with ``[lo, hi]`` Student t 95% intervals across replications
    (None with fewer than two values), so ``summary['sla']['overall']`` reads the same whether
    there was one run or thirty.
    """
    meta = log_meta(df)
    tiers = escalation_tiers(df, event_codes(df))
    groups = df.groupby("rep", sort=True).indices
    runs = [summarize_run(df.take(rows), meta, warmup_min, tiers) for rows in groups.values()]
    if not runs:
        runs = [summarize_run(df, meta, warmup_min, tiers)]
    return combine(runs, reps=len(groups))


def kpi_range(path: str, values: np.ndarray) -> tuple[float, float] | None:
    """The range a KPI cannot leave: its catalogue range (:mod:`sim.metrics.kpis`: [0, 1] for a
    share, [0, inf) for counts, durations, money), else [0, inf) for a KPI that is never
    negative in any replication, else none."""
    low, high = RANGES.get(kpi(path).unit, (None, None))
    if low is not None or high is not None:
        return (-math.inf if low is None else low), (math.inf if high is None else high)
    if values.size and (values >= 0).all():
        return 0.0, math.inf
    return None


def combine(runs: list[dict], reps: int | None = None) -> dict:
    """Per-replication summaries as one: means, ``ci95`` (Student t across replications, cut
    to each KPI's range) and ``reps``. One run keeps its own numbers (counts stay integers);
    its only interval is the SLA share's Wilson interval over the cases judged."""
    means, cis = stats.aggregate(runs, ranges=kpi_range)
    if len(runs) == 1:
        means = runs[0]
        sla = means.get("sla") or {}
        if "met" in sla and "breached" in sla and isinstance(cis.get("sla"), dict):
            cis["sla"]["overall"] = stats.wilson(sla["met"], sla["met"] + sla["breached"])
    return {**jsonable(means), "ci95": jsonable(cis), "reps": len(runs) if reps is None else reps}


def get_path(summary: dict, path: str) -> Any:
    """Value at a dotted path such as ``'sla.by_category.stock_shortage'``.

    A key may itself contain dots (a category name); the longest matching key wins.
    """
    node: Any = summary
    parts = path.split(".")
    i = 0
    while i < len(parts):
        if not isinstance(node, dict):
            raise KeyError(f"{path!r}: {'.'.join(parts[:i])!r} is a value, not a group")
        for j in range(len(parts), i, -1):
            key = ".".join(parts[i:j])
            if key in node:
                node, i = node[key], j
                break
        else:
            raise KeyError(f"{path!r}: no {parts[i]!r}; available: {', '.join(map(str, node))}")
    return node


def summarize_run(
    df: pd.DataFrame,
    meta: LogMeta,
    warmup: float,
    tiers: list[str] | None,
    cases: pd.DataFrame | None = None,
    events: int | None = None,
) -> dict:
    """One replication's KPIs. ``cases`` (its case table) and ``events`` (its rows in the
    window) are given by the streamed path (:mod:`sim.metrics.stream`), whose ``df`` holds only
    the rows and columns the row-level KPIs read; otherwise they come from ``df``."""
    horizon = meta.horizon_min
    if not 0 <= warmup <= horizon:
        raise ValueError(f"warmup_min must lie in [0, horizon={horizon}], got {warmup}")
    ev = event_codes(df)
    cases = case_table(df) if cases is None else cases
    start, end = open_interval(cases)
    after_warmup = cases["occurred"].to_numpy() >= warmup
    generated = cases if after_warmup.all() else cases[after_warmup]  # no copy without warm-up
    resolved = int(generated["resolved"].notna().sum())
    backlog = backlog_stats(start, end, warmup, horizon)
    detections = generated["n_detected"].to_numpy()
    work = workload_summary(df, ev, meta, warmup, tiers)
    effort = effort_table(df, ev, horizon)
    on_call = on_call_summary(df, ev, (meta.extra or {}).get("on_call", {}), warmup)
    out = {
        "cases": {
            "generated": len(generated),
            "resolved": resolved,
            "open": int(generated["resolved"].isna().sum()),
        },
        "sla": sla_summary(generated, horizon),
        **latency_summary(generated),
        "waited_fraction": waited_fraction(generated),
        "queue_wait": wait_by(df, ev, generated),
        "backlog": backlog,
        "aging_open": aging(start, end, horizon),
        "escalations": work["escalations"],
        "escalations_by_tier": work["escalations_by_tier"],
        "escalation_actions": escalation_action_summary(df, generated, horizon),
        "alerts": work["alerts"],
        "alerts_per_agent_hour": work["alerts_per_agent_hour"],
        "littles_law": littles_law(backlog["mean"], start, end, warmup, horizon),
        "events": work["events"] if events is None else events,
        "missed_detections": int((detections == 0).sum()),
        "duplicates": int(np.maximum(detections - 1, 0).sum()),
        "detection": detection_summary(df, ev, generated, meta),
        "suppression": suppression_summary(df, ev, warmup),
        "approvals": approval_summary(df, ev, generated),
        "labour": labour_summary(generated, meta, warmup, effort, on_call),
        "on_call": on_call,
        "effort": effort_summary(df, ev, generated, effort),
    }
    return jsonable(with_meta(out, meta, int(df["rep"].iloc[0]) if len(df) else None))


def with_meta(out: dict, meta: LogMeta, rep: int | None) -> dict:
    """A replication's KPIs plus what its log's metadata says: what detection dropped, and the
    business outcomes of an operations-mode run (of replication ``rep``, when known)."""
    if rep is not None:  # a log of several replications keeps each one's business outcomes
        meta = rep_meta(meta, rep)
    dropped = dropped_summary(meta)
    if dropped:  # what the detectors lost on the way (their counters, in the log's metadata)
        out["detection"]["dropped"] = dropped
    ops = (meta.extra or {}).get("operations")
    if ops:  # business outcomes of an operations-mode run (hourly series stay in the log)
        out["operations"] = {
            k: ({kk: vv for kk, vv in v.items() if kk != "hourly"} if isinstance(v, dict) else v)
            for k, v in ops.items()
        }
    return out


def jsonable(value: Any) -> Any:
    """Plain Python numbers all the way down; NaN and inf become None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value
