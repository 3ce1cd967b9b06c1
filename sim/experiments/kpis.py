"""KPIs as experiments handle them: flat dotted names, per-rep summaries folded into one.

A run summary is a tree (``sla.by_category.picking_sla``); tables of experiments want one
column or row per KPI, so :func:`flatten` turns the numeric leaves into dotted names that
``sim.metrics.get_path`` reads back. :func:`fold` turns the per-replication summaries the
workers sent back into the shape ``summarize_reps`` gives (means, a ``ci95`` tree, ``reps``).
:func:`better` says which way is good for a KPI, so a comparison can say who wins; labels,
units, directions and ranges come from the one catalogue, :mod:`sim.metrics.kpis`.
"""

from __future__ import annotations

from typing import Any

from sim.metrics.kpis import HEADLINE
from sim.metrics.kpis import kpi as kpi_of
from sim.metrics.summary import combine

__all__ = ["HEADLINE", "better", "flatten", "fold"]

_SKIP = ("ci95", "reps")


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
    return kpi_of(kpi).sign


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
    return combine(runs)
