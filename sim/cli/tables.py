"""Terminal tables of the experiment verbs (compare, sweep, check, staff), readable at 80
columns, and the same results as JSON (``--json``).

The verbs in :mod:`sim.cli.experiments` compute; this module only shows. The rules, so that a
table tells the truth at a glance on a narrow terminal:

- numbers are never cut: a cell that does not fit wraps (``overflow="fold"``) and an interval
  goes on its own line under the mean, so no column needs to be wide;
- whole numbers print as integers (``15``, not ``15.0``);
- intervals are clipped to the range the quantity can take (:meth:`sim.metrics.kpis.Kpi.clip`),
  since a Student t interval over few replications can reach a share above 100% or a count
  below zero;
- long dotted parameter paths get a short column header and a legend line below the table.
"""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table

from sim.cli.common import out_console
from sim.metrics import get_path
from sim.metrics.kpis import HEADLINE, Kpi, kpi

#: What the marks after a difference mean (printed under the compare table).
MARKS = (
    "✔/✘: significantly better/worse than the reference policy (paired t test, p < 0.05); "
    "*: significant, but the KPI has no better direction (e.g. utilisation); "
    "grey: not significant."
)


def table(title: str, columns: list[tuple[str, str]], **style: Any) -> Table:
    """A table whose cells wrap instead of being cut: columns are (header, 'left'|'right');
    right-aligned (number) columns never split a number, they wrap between words only."""
    t = Table(title=title, title_justify="left", **style)
    for header, justify in columns:
        t.add_column(header, justify=justify, overflow="fold", no_wrap=justify == "right")
    return t


def num(value: Any, unit: str = "", signed: bool = False) -> str:
    """A value for people: shares in %, differences of shares in points, whole numbers as ints."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, str):
        return value
    sign = "+" if signed else ""
    if unit == "%":
        return f"{100 * value:{sign},.1f}{' pts' if signed else '%'}"
    if float(value).is_integer():
        return f"{value:{sign},.0f}"
    return f"{value:{sign},.2f}" if abs(value) < 100 else f"{value:{sign},.0f}"


def interval(k: Kpi, lo: Any, hi: Any, diff: bool = False) -> str:
    """``[lo, hi]`` clipped to the KPI's range, in the unit of the value beside it."""
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    lo, hi = k.clip_diff(lo, hi) if diff else k.clip(lo, hi)
    if k.unit == "%":
        sign = "+" if diff else ""
        return f"[{100 * lo:{sign}.1f}, {100 * hi:{sign}.1f}]"
    return f"[{num(lo, k.unit, diff)}, {num(hi, k.unit, diff)}]"


def _get(summary: dict, path: str) -> Any:
    try:
        return get_path(summary, path)
    except KeyError:
        return None


# -- compare ------------------------------------------------------------------------------------
def render_comparison(res, kpis: list[Kpi]) -> None:
    """KPI rows, one column per policy: mean [CI], and under it the paired difference."""
    names = list(res.policies)
    title = (
        f"scenario {res.scenario.name}: {len(names)} policies × {res.reps} replications on the "
        f"same exceptions (seed {res.seed}); mean [95% CI], Δ vs {names[0]} (reference, paired)"
    )
    t = table(title, [("KPI", "left"), *((n, "right") for n in names)])
    wins: dict[str, list[int]] = {n: [0, 0] for n in names[1:]}
    for k in kpis:
        cells = []
        for name in names:
            hit = res.table[(res.table["policy"] == name) & (res.table["kpi"] == k.path)]
            if hit.empty:
                cells.append("–")
                continue
            r = hit.iloc[0]
            cell = f"{num(r['mean'], k.unit)}\n{interval(k, r['lo'], r['hi'])}".strip()
            if name != names[0] and not math.isnan(r["diff"]):
                ci = interval(k, r["diff_lo"], r["diff_hi"], True)
                d = f"Δ {num(r['diff'], k.unit, True)}\n{ci}"
                verdict = r["better"] * r["diff"]
                if r["significant"] and verdict > 0:
                    d, wins[name][0] = f"[green]{d} ✔[/]", wins[name][0] + 1
                elif r["significant"] and verdict < 0:
                    d, wins[name][1] = f"[red]{d} ✘[/]", wins[name][1] + 1
                elif r["significant"]:
                    d += " *"
                else:
                    d = f"[dim]{d}[/]"
                cell += "\n" + d
            cells.append(cell)
        t.add_row(k.label, *cells, end_section=True)
    out_console.print(t)
    out_console.print(f"[dim]{MARKS}[/]")
    for name, (better, worse) in wins.items():
        out_console.print(
            f"{name} vs {names[0]}: significantly better on {better}, worse on {worse} of "
            f"{len(kpis)} KPIs shown."
        )


# -- sweep --------------------------------------------------------------------------------------
#: KPIs every sweep table shows (the Pareto axes are added).
SWEEP_KPIS = ("sla.overall", "alerts_per_agent_hour", "labour.cost")


def short_names(paths: list[str]) -> dict[str, str]:
    """Shortest distinct tails of dotted paths: ``detection.picking_sla.scan.interval_min`` →
    ``interval_min`` (or ``scan.interval_min`` when two paths end alike)."""
    out = {}
    for p in paths:
        parts = p.split(".")
        for n in range(1, len(parts) + 1):
            tail = ".".join(parts[-n:])
            if sum(q == tail or q.endswith("." + tail) for q in paths) == 1:
                out[p] = tail
                break
        else:
            out[p] = p
    return out


def render_sweep(sw, params: dict, front, x: str, y: str, scenario: str, policy: str, n: int):
    shown = list(dict.fromkeys([*SWEEP_KPIS, x, y]))
    heads = short_names(list(params))
    columns = [(heads[p], "right") for p in params]
    columns += [(kpi(k).label, "right") for k in shown] + [("★", "left")]
    t = table(
        f"sweep of scenario {scenario}, policy {policy}: {n} runs, mean [95% CI]; "
        f"★ = Pareto front of {kpi(y).label} against {kpi(x).label}",
        columns,
    )
    on_front = set(front["point"])
    for _, row in sw.points.iterrows():
        cells = [num(row[p]) for p in params]
        for k in shown:
            cells.append(
                f"{num(row[k], kpi(k).unit)}\n{interval(kpi(k), row[f'{k}_lo'], row[f'{k}_hi'])}"
            )
        cells.append("★" if row["point"] in on_front else "")
        t.add_row(*cells)
    out_console.print(t)
    legend = [f"{h} = {p}" for p, h in heads.items() if h != p]
    if legend:
        out_console.print(f"[dim]columns: {'; '.join(legend)}[/]", highlight=False)


# -- check --------------------------------------------------------------------------------------
def requirement_value(value: float | None, path: str = "") -> str:
    """An observed value next to its requirement: shares also in percent (0.9024 (90.2%))."""
    if value is None:
        return "undefined"
    pct = f" ({100 * value:.1f}%)" if kpi(path).unit == "%" else ""
    return f"{value:.4g}{pct}"


def render_check(
    verdicts, scenario: str, policy: str, reps: int, seed: int, show_ci: bool = False
) -> None:
    show_ci = show_ci or reps > 1
    columns = [("requirement", "left"), ("observed", "right")]
    columns += [("95% CI", "right")] if show_ci else []
    t = table(
        f"scenario {scenario}, policy {policy}, {reps} replication(s), seed {seed}",
        [*columns, ("result", "left")],
    )
    for v in verdicts:
        cells = [str(v.requirement), requirement_value(v.observed, v.requirement.path)]
        if show_ci:
            lo, hi = kpi(v.requirement.path).clip(v.lo, v.hi) if v.lo is not None else (None, None)
            cells.append(
                f"[{requirement_value(lo)}, {requirement_value(hi)}]" if lo is not None else ""
            )
        on = {"ci_lo": " (on CI low)", "ci_hi": " (on CI high)"}.get(v.judged_on, "")
        cells.append(
            "[bold red]FAIL[/]" + on
            if not v.passed
            else "[yellow]pass on the mean, not the whole CI[/]"
            if _mean_only(v)
            else "[green]pass[/]" + on
        )
        t.add_row(*cells)
    out_console.print(t)


# -- staff --------------------------------------------------------------------------------------
def render_plan(plan, names: dict[str, list[str]], reps: int) -> None:
    """Headcount per team and shift, the KPIs it gives, and each target: met, met on the mean
    only (its interval still reaches below the target), or not met."""
    verb = "recommended" if plan.met else "best found (target NOT met)"
    columns = [("team", "left"), ("shift", "left"), ("arrivals/h", "right")]
    columns += [("offered load", "right"), ("Erlang C", "right"), (verb, "right")]
    t = table(f"headcount ({plan.evaluations} evaluations × {reps} replications)", columns)
    loads = {(ld.team, ld.shift): ld for ld in plan.loads}
    for team, counts in plan.headcount.items():
        for shift, n in zip(names[team], counts, strict=True):
            ld = loads.get((team, shift))
            t.add_row(
                team,
                shift,
                f"{ld.arrivals_per_hour:.2f}" if ld else "",
                f"{ld.offered_load:.2f}" if ld else "",
                str(ld.erlang) if ld else "",
                f"[bold]{n}[/]",
            )
    out_console.print(t)
    k_table = table("KPIs of this headcount (mean [95% CI])", [("KPI", "left"), ("value", "right")])
    ci = plan.summary.get("ci95") or {}
    for k in HEADLINE:
        lohi = _get(ci, k.path)
        lohi = lohi if isinstance(lohi, list) else [None, None]
        k_table.add_row(k.label, f"{num(_get(plan.summary, k.path), k.unit)} {interval(k, *lohi)}")
    out_console.print(k_table)
    for v in plan.verdicts:
        out_console.print(f"target {v.requirement}: {target_status(v)}", highlight=False)
    if plan.cost is not None:
        out_console.print(f"labour cost over the horizon: {plan.cost:,.0f}")


def _mean_only(v) -> bool:
    """Met on the mean while the 95% CI still reaches past the target."""
    if not v.passed or v.lo is None or v.hi is None:
        return False
    return not (v.requirement.holds(v.lo) and v.requirement.holds(v.hi))


def target_status(v) -> str:
    """'met', 'met on the mean, not on the 95% CI [84.7, 95.7]' or 'NOT met'."""
    observed = requirement_value(v.observed, v.requirement.path)
    if not v.passed:
        return f"observed {observed} — [bold red]NOT met[/]"
    if _mean_only(v):
        lo, hi = kpi(v.requirement.path).clip(v.lo, v.hi)
        return (
            f"observed {observed} — [yellow]met on the mean, not on the whole 95% CI "
            f"[{requirement_value(lo)}, {requirement_value(hi)}][/] (more replications, or a "
            "margin in the target, would settle it)"
        )
    return f"observed {observed} — [green]met[/]"


# -- the same results as JSON (``--json``) ------------------------------------------------------
def records(frame) -> list[dict]:
    """A frame's rows as dicts, NaN as None."""
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in frame.to_dict(orient="records")
    ]


def sweep_json(sw, params: dict, front, x: str, y: str) -> dict:
    cols = ["point", *params, x, y]
    return {
        "params": params,
        "reps": sw.reps,
        "seed": sw.seed,
        "points": records(sw.points),
        "pareto": {"x": x, "y": y, "points": records(front[cols])},
    }


def check_json(scenario: str, policy: str, settings, on_ci: bool, verdicts) -> dict:
    return {
        "scenario": scenario,
        "policy": policy,
        "seed": settings.seed,
        "reps": settings.reps,
        "judged_on": "ci" if on_ci else "mean",
        "passed": all(v.passed for v in verdicts),
        "requirements": [v.to_json() for v in verdicts],
    }


def plan_json(plan, scenario: str, policy: str, names: dict[str, list[str]], written) -> dict:
    return {
        "scenario": scenario,
        "policy": policy,
        "met": plan.met,
        "headcount": {t: dict(zip(names[t], n, strict=True)) for t, n in plan.headcount.items()},
        "erlang": {t: {ld.shift: ld.erlang for ld in plan.loads if ld.team == t} for t in names},
        "cost": plan.cost,
        "evaluations": plan.evaluations,
        "requirements": [v.to_json() for v in plan.verdicts],
        "kpis": {k.path: _get(plan.summary, k.path) for k in HEADLINE},
        "written": None if written is None else str(written),
    }
