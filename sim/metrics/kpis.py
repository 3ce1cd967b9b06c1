"""The KPI catalogue: what each number of a summary means, which way is good, what range it has.

A run summary (:func:`sim.metrics.summarize`) is a tree; a KPI is a dotted path into it
(``sla.by_category.picking_sla``). Every table and verdict that shows KPIs (the report, the
``compare``, ``staff`` and ``replay`` tables) reads labels, units and directions from here, so
"SLA attainment" is the same number, the same way up, everywhere.

The *range* matters for intervals. A Student t interval over a handful of replications can
reach past what the quantity can be: a share above 100%, a count below zero. The truth is in
the range, so intervals are shown clipped to it (:meth:`Kpi.clip`).

Units: ``"%"`` for shares (shown x100, their differences in points), ``"min"`` for durations,
``"count"`` for numbers of things (cases, alerts, orders), ``"h"`` for hours, ``"currency"``
for money, ``"1/h"`` for rates per hour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Lower and upper bound by unit (None: unbounded).
RANGES: dict[str, tuple[float | None, float | None]] = {
    "%": (0.0, 1.0),
    "min": (0.0, None),
    "count": (0.0, None),
    "currency": (0.0, None),
    "1/h": (0.0, None),
    "h": (0.0, None),
    "": (None, None),
}


@dataclass(frozen=True)
class Kpi:
    path: str  # dotted path in a summary
    label: str
    unit: str = ""  # see the module docstring
    better: str = ""  # "higher" | "lower" | "" (neither, e.g. utilisation or sample sizes)

    @property
    def sign(self) -> int:
        """+1 when more is better, -1 when less is better, 0 when neither."""
        return {"higher": 1, "lower": -1}.get(self.better, 0)

    def clip(self, lo: float, hi: float) -> tuple[float, float]:
        """An interval of this KPI's level clipped to the range the quantity can take."""
        low, high = RANGES.get(self.unit, (None, None))
        return _clip(lo, low, high), _clip(hi, low, high)

    def clip_diff(self, lo: float, hi: float) -> tuple[float, float]:
        """An interval of a difference of two values of this KPI, clipped to what it can be."""
        low, high = RANGES.get(self.unit, (None, None))
        if low is not None and high is not None:
            return _clip(lo, low - high, high - low), _clip(hi, low - high, high - low)
        return lo, hi


def _clip(x, low: float | None, high: float | None):
    """``x`` (a number or an array; None and NaN pass through) within [low, high]."""
    if isinstance(x, np.ndarray):
        return x if low is None and high is None else np.clip(x, low, high)
    if x is None or not math.isfinite(x):
        return x
    if low is not None:
        x = max(x, low)
    if high is not None:
        x = min(x, high)
    return x


#: The KPIs a person reads first, the headline (SLA attainment) first.
HEADLINE: tuple[Kpi, ...] = (
    Kpi("sla.overall", "SLA attainment", "%", "higher"),
    Kpi("cases.open", "open at horizon", "count", "lower"),
    Kpi("detection_latency_min.mean", "detection latency, mean", "min", "lower"),
    Kpi("time_to_acknowledge_min.mean", "time to acknowledge, mean", "min", "lower"),
    Kpi("queue_wait_min.mean", "queue wait, mean", "min", "lower"),
    Kpi("queue_wait_min.p90", "queue wait, p90", "min", "lower"),
    Kpi("time_to_resolve_min.mean", "time to resolve, mean", "min", "lower"),
    Kpi("time_to_resolve_min.p90", "time to resolve, p90", "min", "lower"),
    Kpi("backlog.mean", "backlog, time-average", "count", "lower"),
    Kpi("missed_detections", "missed detections", "count", "lower"),
    Kpi("escalations", "escalations", "count", "lower"),
    Kpi("alerts_per_agent_hour", "alerts per agent-hour", "1/h", "lower"),
    Kpi("labour.cost", "labour cost", "currency", "lower"),
    Kpi("labour.utilisation", "utilisation", "%", ""),
)

#: What the policy's levers did to the work itself: effort against elapsed time, holds,
#: reopens, and the wait of the most urgent cases (a priority discipline's effect).
LEVERS: tuple[Kpi, ...] = (
    Kpi("effort.effort_min.mean", "hands-on effort per case, mean", "min", "lower"),
    Kpi("effort.elapsed_min.mean", "elapsed per case, mean", "min", "lower"),
    Kpi("effort.hold_min.mean", "hold per held case, mean", "min", "lower"),
    Kpi("effort.reopen_rate", "reopen rate", "%", "lower"),
    Kpi("effort.first_time_fix_rate", "first-time fix rate", "%", "higher"),
    Kpi("queue_wait.by_severity.critical.mean", "queue wait, critical, mean", "min", "lower"),
    Kpi("queue_wait.by_severity.high.mean", "queue wait, high, mean", "min", "lower"),
    Kpi("queue_wait.by_severity.low.mean", "queue wait, low, mean", "min", "lower"),
)

#: Business outcomes of an operations-mode run (``summary['operations']``).
BUSINESS: tuple[Kpi, ...] = (
    Kpi("operations.on_time_rate", "orders on time", "%", "higher"),
    Kpi("operations.orders.late", "late orders", "count", "lower"),
    Kpi("operations.orders.partial", "partial orders", "count", "lower"),
    Kpi("operations.orders.missed_cutoffs", "missed carrier cutoffs", "count", "lower"),
    Kpi("operations.blocked_value.mean", "blocked shipment value, mean", "currency", "lower"),
    Kpi("operations.orders_at_risk.mean", "orders at risk, mean", "count", "lower"),
    Kpi("operations.costs.expedite", "expedite cost", "currency", "lower"),
    Kpi("operations.costs.late_penalty", "late-delivery penalties", "currency", "lower"),
)

#: What detection dropped on the way (``summary['detection']['dropped']``): the mechanisms'
#: own counters, over the whole run.
DROPPED: tuple[Kpi, ...] = (
    Kpi("detection.dropped.webhook.lost", "webhook pushes lost", "count", "lower"),
    Kpi(
        "detection.dropped.webhook.dead_lettered", "webhook events dead-lettered", "count", "lower"
    ),
    Kpi(
        "detection.dropped.time_rule.missed", "cases a time rule's window missed", "count", "lower"
    ),
)

#: Further KPIs tables show by name (replay's side-by-side table, the run summary).
MORE: tuple[Kpi, ...] = (
    Kpi("cases.generated", "cases", "count", ""),
    Kpi("cases.resolved", "resolved", "count", "higher"),
    Kpi("detection_latency_min.p90", "detection latency, p90", "min", "lower"),
    Kpi("backlog.max", "backlog, max", "count", "lower"),
    Kpi("alerts", "alerts", "count", "lower"),
    Kpi("waited_fraction", "waited in queue", "%", "lower"),
    Kpi("labour.work_hours", "hands-on hours", "h", ""),
    Kpi("labour.agent_hours", "agent hours", "h", "lower"),
    Kpi("effort.held", "cases put on hold", "count", ""),
    Kpi("effort.reopened", "cases reopened", "count", "lower"),
)

CATALOGUE: dict[str, Kpi] = {k.path: k for k in (*HEADLINE, *LEVERS, *BUSINESS, *DROPPED, *MORE)}

# Families of paths not listed one by one: (prefix, unit, better, label template).
_FAMILIES: tuple[tuple[str, str, str, str], ...] = (
    ("sla.by_category.", "%", "higher", "{} SLA"),
    ("sla.by_severity.", "%", "higher", "{}-severity SLA"),
    ("sla.met", "count", "higher", "deadlines met"),
    ("sla.breached", "count", "lower", "deadlines breached"),
    ("aging_open.", "count", "lower", "open aged {}"),
    ("escalations_by_tier.", "count", "lower", "escalations {}"),
    ("duplicates", "count", "lower", "duplicate detections"),
    ("suppression.rate", "%", "", "suppression rate"),
    ("approvals.", "count", "", "approvals {}"),
    ("detection.dropped.", "count", "lower", "dropped by {}"),
    ("detection.", "count", "", "detections {}"),
    ("queue_wait.by_severity.", "min", "lower", "queue wait, {}"),
    ("queue_wait.by_team.", "min", "lower", "queue wait, {}"),
    ("effort.hold_reasons.", "count", "", "holds waiting for {}"),
    ("escalation_actions.", "count", "", "escalation action {}"),
    ("on_call.", "count", "", "on-call {}"),
    ("operations.", "", "", "{}"),
)
_DURATIONS = (
    "detection_latency_min.",
    "time_to_acknowledge_min.",
    "queue_wait_min.",
    "time_to_resolve_min.",
)


def kpi(path: str) -> Kpi:
    """The catalogue entry of ``path``; paths not listed get one from their family."""
    if path in CATALOGUE:
        return CATALOGUE[path]
    if path.endswith(".n"):  # sample sizes: neither better nor worse
        return Kpi(path, path, "count", "")
    if path.startswith("escalation_actions.") and path.endswith(".min_to_resolve"):
        return Kpi(path, f"{path.split('.')[1]}: minutes to resolve after", "min", "lower")
    if path.startswith("on_call.") and path.endswith(".cost"):
        return Kpi(path, f"on-call cost, {path.split('.')[1]}", "currency", "lower")
    if path.startswith(_DURATIONS):
        head, _, stat = path.rpartition(".")
        return Kpi(path, f"{head.removesuffix('_min').replace('_', ' ')}, {stat}", "min", "lower")
    for prefix, unit, better, label in _FAMILIES:
        if path.startswith(prefix):
            rest = path[len(prefix) :].replace(".", " ")
            return Kpi(path, label.format(rest) if "{}" in label else label, unit, better)
    return Kpi(path, path, "", "")
