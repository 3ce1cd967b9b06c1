"""KPIs as experiments handle them: flat dotted names, per-rep summaries folded into one.

A run summary is a tree (``sla.by_category.picking_sla``); tables of experiments want one
column or row per KPI, so :func:`flatten` turns the numeric leaves into dotted names that
``sim.metrics.get_path`` reads back. :func:`fold` turns the per-replication summaries the
workers sent back into the shape ``summarize_reps`` gives (means, a ``ci95`` tree, ``reps``).
:func:`better` says which way is good for a KPI, so a comparison can say who wins.
"""

from __future__ import annotations

from typing import Any

from sim import stats
from sim.metrics.summary import jsonable

_SKIP = ("ci95", "reps")
_HIGHER = ("sla.overall", "sla.by_category.", "sla.by_severity.", "sla.met", "cases.resolved")
_LOWER = (
    "sla.breached",
    "cases.open",
    "detection_latency_min.",
    "time_to_acknowledge_min.",
    "queue_wait_min.",
    "time_to_resolve_min.",
    "waited_fraction",
    "backlog.",
    "aging_open.",
    "escalations",
    "alerts",
    "missed_detections",
    "duplicates",
    "labour.cost",
    "labour.agent_hours",
)
_COUNTS = (".n",)  # sample sizes: neither better nor worse

#: The KPIs a person reads first, with a label and a unit ('%' for shares).
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("sla.overall", "SLA attainment", "%"),
    ("cases.open", "open at horizon", ""),
    ("detection_latency_min.mean", "detection latency mean (min)", ""),
    ("queue_wait_min.mean", "queue wait mean (min)", ""),
    ("queue_wait_min.p90", "queue wait p90 (min)", ""),
    ("time_to_resolve_min.mean", "time to resolve mean (min)", ""),
    ("time_to_resolve_min.p90", "time to resolve p90 (min)", ""),
    ("backlog.mean", "backlog mean", ""),
    ("escalations", "escalations", ""),
    ("alerts_per_agent_hour", "alerts per agent-hour", ""),
    ("missed_detections", "missed detections", ""),
    ("labour.cost", "labour cost", ""),
    ("labour.utilisation", "utilisation", "%"),
)


def flatten(summary: dict, prefix: str = "") -> dict[str, float | None]:
    """Numeric leaves of a summary as ``{dotted name: value}`` (intervals and ``reps`` left out)."""
    out: dict[str, float | None] = {}
    for key, value in summary.items():
        if not prefix and key in _SKIP:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            out[name] = None if value is None else float(value)
    return out


def better(kpi: str) -> int:
    """+1 when more is better, -1 when less is better, 0 when neither (counts, utilisation)."""
    if kpi.endswith(_COUNTS):
        return 0
    if kpi.startswith(_HIGHER) or kpi in _HIGHER:
        return 1
    if kpi.startswith(_LOWER):
        return -1
    return 0


def fold(runs: list[dict]) -> dict[str, Any]:
    """Per-replication summaries (in replication order) as one ``summarize_reps``-shaped dict.

    Escalation tiers absent from a replication had no escalations there: they count as 0 (as
    in ``summarize_reps``), not as a missing value.
    """
    tiers = sorted({t for r in runs for t in r.get("escalations_by_tier", {})})
    runs = [
        {**r, "escalations_by_tier": {t: r["escalations_by_tier"].get(t, 0) for t in tiers}}
        if "escalations_by_tier" in r
        else r
        for r in runs
    ]
    means, cis = stats.aggregate(runs)
    if len(runs) == 1:
        means = runs[0]
    return {**jsonable(means), "ci95": jsonable(cis), "reps": len(runs)}
