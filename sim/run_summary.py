"""The run summary: KPIs computed from the event log, plus what produced them.

``summary.json`` is the contract for everything that consumes a run without reading its log
(``exsim check``, dashboards, CI): the run's identity (scenario, policy, seed, days, reps), then
the metrics of :mod:`sim.metrics` (means across replications, with a parallel ``ci95`` tree of
95% confidence intervals when there are several), then ``events`` and ``wall_s``.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from sim.metrics import summarize_reps
from sim.metrics.kpis import BUSINESS, kpi
from sim.metrics.stream import summarize_file
from sim.policies.schema import Policy
from sim.runner import RunResult
from sim.scenarios.schema import Scenario


def build_summary(
    result: RunResult, scenario: Scenario, policy: Policy, warmup_min: float = 0.0
) -> dict[str, Any]:
    if result.path is not None:  # streamed to a file: read back a chunk of whole cases at a time
        metrics = summarize_file(result.path, warmup_min=warmup_min)
    else:
        metrics = summarize_reps(result.frame(), warmup_min=warmup_min)
    head = {
        "scenario": scenario.name,
        "policy": policy.name,
        "seed": result.meta.seed,
        "days": scenario.horizon_days,
        "reps": result.meta.reps,
        "start": result.meta.start,
        "warmup_days": warmup_min / 1440.0,
    }
    metrics.pop("reps", None)
    summary = {**head, **metrics}
    summary["events"] = int(result.rows)
    summary["wall_s"] = round(result.wall_s, 3)
    return summary


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if unit == "%":
            return f"{100 * value:.1f}%"
        if value.is_integer() and unit != " min":
            return f"{value:,.0f}{unit}"
        return f"{value:,.1f}{unit}"
    return f"{value:,}{unit}"


def _ci(summary: dict, *path: str, unit: str = "") -> str:
    node: Any = summary.get("ci95")
    for p in path:
        node = node.get(p) if isinstance(node, dict) else None
    if not isinstance(node, list | tuple) or node[0] is None:
        return ""
    lo, hi = kpi(".".join(path)).clip(float(node[0]), float(node[1]))
    return f"[{_fmt(lo, unit)} – {_fmt(hi, unit)}]"


def _get(summary: dict, path: str) -> Any:
    node: Any = summary
    for p in path.split("."):
        node = node.get(p) if isinstance(node, dict) else None
    return node


def render_summary(console: Console, s: dict[str, Any]) -> None:
    """The KPI table a supervisor reads: service, detection, load and, for an operations-mode
    scenario, the business outcomes (late orders, blocked value, expedite cost)."""
    reps = s.get("reps", 1)
    days = s["days"]
    title = (
        f"scenario {s['scenario']}, policy {s['policy']}\n"
        f"{days:g} day{'' if days == 1 else 's'}, seed {s['seed']}"
        + (f", {reps} replications (mean [95% CI])" if reps > 1 else "")
    )
    table = Table(title=title, title_justify="left")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    if reps > 1:
        table.add_column("95% CI", justify="right")

    def row(label: str, value: Any, *path: str, unit: str = "") -> None:
        cells = [label, _fmt(value, unit)]
        if reps > 1:
            cells.append(_ci(s, *path, unit=unit))
        table.add_row(*cells)

    def section(name: str) -> None:
        table.add_section()
        table.add_row(f"[bold]{name}[/]", *([""] * (2 if reps > 1 else 1)))

    cases = s["cases"]
    row("cases generated", cases["generated"], "cases", "generated")
    row("resolved", cases["resolved"], "cases", "resolved")
    row("open at horizon", cases["open"], "cases", "open")
    row("SLA attainment", s["sla"]["overall"], "sla", "overall", unit="%")
    section("detection")
    missed = s.get("missed_detections")
    generated = cases["generated"] or 0
    share = f" ({missed / generated:.1%} of cases)" if missed and generated else ""
    table.add_row(
        "missed detections" + share,
        _fmt(missed),
        *([_ci(s, "missed_detections")] if reps > 1 else []),
    )
    dropped = (s.get("detection") or {}).get("dropped") or {}
    for mech, counts in dropped.items():
        for name, n in counts.items():
            k = kpi(f"detection.dropped.{mech}.{name}")
            row(k.label, n, "detection", "dropped", mech, name)
    for key, label in (
        ("detection_latency_min", "detection latency"),
        ("queue_wait_min", "queue wait"),
        ("time_to_resolve_min", "time to resolve"),
    ):
        if key == "queue_wait_min":
            section("handling")
        stats = s[key]
        row(f"{label} mean (min)", stats["mean"], key, "mean")
        row(f"{label} p90 (min)", stats["p90"], key, "p90")
    row("waited in queue", s["waited_fraction"], "waited_fraction", unit="%")
    row("backlog mean", s["backlog"]["mean"], "backlog", "mean")
    row("backlog max", s["backlog"]["max"], "backlog", "max")
    row("escalations", s["escalations"], "escalations")
    row("alerts per agent-hour", s["alerts_per_agent_hour"], "alerts_per_agent_hour")
    effort = s.get("effort")
    if effort:
        section("effort and elapsed")
        row(
            "hands-on effort mean (min)",
            effort["effort_min"]["mean"],
            "effort",
            "effort_min",
            "mean",
        )
        row("elapsed mean (min)", effort["elapsed_min"]["mean"], "effort", "elapsed_min", "mean")
        if effort.get("held"):
            row("cases put on hold", effort["held"], "effort", "held")
            row("hold mean (min)", effort["hold_min"]["mean"], "effort", "hold_min", "mean")
        if effort.get("reopened"):
            row("reopen rate", effort["reopen_rate"], "effort", "reopen_rate", unit="%")
        row(
            "first-time fix rate",
            effort["first_time_fix_rate"],
            "effort",
            "first_time_fix_rate",
            unit="%",
        )
    if s.get("operations"):
        section("business outcomes")
        for k in BUSINESS:
            value = _get(s, k.path)
            if value is not None:
                unit = "%" if k.unit == "%" else ""
                row(k.label, value, *k.path.split("."), unit=unit)
    console.print(table)

    by_cat = s["sla"]["by_category"]
    if by_cat:
        cat_table = Table(title="SLA attainment by category", title_justify="left")
        cat_table.add_column("category")
        cat_table.add_column("SLA", justify="right")
        for cat, share in sorted(by_cat.items()):
            cat_table.add_row(cat, _fmt(share, "%"))
        console.print(cat_table)
    by_sev = (s.get("queue_wait") or {}).get("by_severity") or {}
    if by_sev:
        wait_table = Table(title="Queue wait by severity (min)", title_justify="left")
        for col in ("severity", "mean", "p90", "cases"):
            wait_table.add_column(col, justify="left" if col == "severity" else "right")
        for sev, w in by_sev.items():
            wait_table.add_row(sev, _fmt(w["mean"]), _fmt(w["p90"]), _fmt(w["n"]))
        console.print(wait_table)
    actions = s.get("escalation_actions") or {}
    if actions:
        act_table = Table(title="Escalation actions", title_justify="left")
        for col in ("tier:action", "cases", "resolved after", "in SLA", "min to resolve"):
            act_table.add_column(col, justify="left" if col == "tier:action" else "right")
        for label, a in actions.items():
            act_table.add_row(
                label,
                _fmt(a["cases"]),
                _fmt(a["resolved_after"]),
                _fmt(a["met_sla"]),
                _fmt(a["min_to_resolve"]),
            )
        console.print(act_table)
    ll = s.get("littles_law") or {}
    if ll.get("L") is not None:
        console.print(
            f"[dim]Little's law: mean backlog L = {ll['L']:.2f}, "
            f"λW = {ll['lambda_W']:.2f} (relative gap {ll['rel_error']:.2%}); "
            f"{s['events']:,} events in {s['wall_s']:.2f} s[/]",
            highlight=False,
        )
