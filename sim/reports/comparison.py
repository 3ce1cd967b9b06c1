"""Which policy wins, and by how much: paired differences over replications.

Runs made with the same scenario, seed and number of replications replay the very same
exceptions (common random numbers), so replication r of policy B is compared with
replication r of policy A and the noise of the world cancels out of the difference
(:func:`sim.stats.paired_diff`). Each replication's KPIs come from
:func:`sim.metrics.summarize` on that replication's rows of the log. Runs that cannot be paired
(other seed, other replication count, other scenario) are still compared, with Welch's
unpaired interval on the replications, and a warning that says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as sps

from sim import stats
from sim.metrics import get_path, summarize
from sim.reports.rundir import RunDir


@dataclass(frozen=True)
class Kpi:
    path: str  # dotted path in a summary
    label: str
    unit: str  # "%" for shares (shown x100, differences in points)
    better: str  # "higher" | "lower"


#: The KPIs a report compares, the headline one first.
KPIS: tuple[Kpi, ...] = (
    Kpi("sla.overall", "SLA attainment", "%", "higher"),
    Kpi("detection_latency_min.mean", "detection latency, mean", "min", "lower"),
    Kpi("time_to_acknowledge_min.mean", "time to acknowledge, mean", "min", "lower"),
    Kpi("time_to_resolve_min.mean", "time to resolve, mean", "min", "lower"),
    Kpi("time_to_resolve_min.p90", "time to resolve, p90", "min", "lower"),
    Kpi("backlog.mean", "backlog, time-average", "cases", "lower"),
    Kpi("missed_detections", "missed detections", "cases", "lower"),
    Kpi("escalations", "escalations", "count", "lower"),
    Kpi("alerts_per_agent_hour", "alerts per agent-hour", "1/h", "lower"),
    Kpi("labour.cost", "labour cost", "currency", "lower"),
)
HEADLINE = KPIS[0]
#: KPIs a log can only tell with a staffing record (a replay's as-is has none).
_NEED_STAFFING = ("labour.cost", "alerts_per_agent_hour")


@dataclass
class Cell:
    """One KPI of one run: mean and 95% CI over replications; vs the baseline, the difference."""

    mean: float
    lo: float
    hi: float
    diff: float = math.nan
    diff_lo: float = math.nan
    diff_hi: float = math.nan
    p_value: float = math.nan
    significant: bool = False
    n: int = 0


@dataclass
class Comparison:
    labels: list[str]  # one per run, the first is the baseline
    cells: dict[str, list[Cell]]  # KPI path -> one cell per run
    paired: bool
    warnings: list[str] = field(default_factory=list)

    def better(self, kpi: Kpi, i: int) -> bool | None:
        """True if run i is significantly better than the baseline on ``kpi``, False if
        significantly worse, None if the difference is not significant."""
        c = self.cells[kpi.path][i]
        if not c.significant or not math.isfinite(c.diff):
            return None
        return (c.diff > 0) == (kpi.better == "higher")


def rep_values(run: RunDir) -> dict[str, list[float]]:
    """Per replication (in rep order), the value of each KPI of :data:`KPIS`."""
    df = run.log
    values: dict[str, list[float]] = {k.path: [] for k in KPIS}
    for _rep, rows in sorted(df.groupby("rep", sort=True).indices.items()):
        one = df.take(rows)
        one.attrs = df.attrs
        summary = summarize(one, warmup_min=run.warmup_min)
        for kpi in KPIS:
            try:
                v = get_path(summary, kpi.path)
            except KeyError:
                v = None
            if kpi.path in _NEED_STAFFING and not run.meta.capacity_min:
                v = None  # a recorded history without a staffing record: unknown, not 0
            values[kpi.path].append(math.nan if v is None else float(v))
    return values


def labels_of(runs: list[RunDir]) -> list[str]:
    """Policy names, made unique with the directory name where two runs share one."""
    names = [r.policy_name for r in runs]
    return [
        f"{n} ({r.path.name})" if names.count(n) > 1 else n
        for n, r in zip(names, runs, strict=True)
    ]


def compare(runs: list[RunDir]) -> Comparison:
    """KPI means with CIs for every run, and differences of each run from the first."""
    labels = labels_of(runs)
    base = runs[0].summary
    warnings = []
    # replays of one history share their exceptions by construction: the recorded as-is run
    # (one replication, no seed) pairs with every replication of each policy
    replayed = all("replay" in r.summary for r in runs)
    for run, label in zip(runs[1:], labels[1:], strict=True):
        s = run.summary
        if replayed and (_is_record(s) or _is_record(base)):
            continue
        for key, what in (("scenario", "scenario"), ("seed", "seed"), ("reps", "replications")):
            if s.get(key) != base.get(key):
                warnings.append(
                    f"{label} ran with {what} {s.get(key)!r}, the baseline {labels[0]} with "
                    f"{base.get(key)!r}: the runs do not replay the same exceptions, so the "
                    "differences are unpaired (Welch) and less precise."
                )
    paired = not warnings
    values = [rep_values(r) for r in runs]
    cells: dict[str, list[Cell]] = {}
    for kpi in KPIS:
        row = []
        for i, v in enumerate(values):
            ci = stats.mean_ci(v[kpi.path])
            cell = Cell(ci.mean, ci.lo, ci.hi, n=ci.n)
            if i > 0:
                a, b = v[kpi.path], values[0][kpi.path]
                if replayed:  # the record is one fixed replication: pair it with each
                    a, b = _align(a, b)
                d = stats.paired_diff(a, b) if paired else _welch(a, b)
                cell.diff, cell.diff_lo, cell.diff_hi = d.mean, d.lo, d.hi
                cell.p_value, cell.significant = d.p_value, bool(d.significant)
            row.append(cell)
        cells[kpi.path] = row
    return Comparison(labels, cells, paired, warnings)


def _is_record(summary: dict) -> bool:
    """A replay's as-is column: the recorded history, not a simulation."""
    return summary.get("seed") is None and "replay" in summary


def _align(a: list[float], b: list[float]) -> tuple[list[float], list[float]]:
    """Repeat a single recorded value to pair with every replication of the other run."""
    if len(a) == 1 and len(b) > 1:
        return a * len(b), b
    if len(b) == 1 and len(a) > 1:
        return a, b * len(a)
    return a, b


def _welch(a: list[float], b: list[float], confidence: float = 0.95) -> stats.PairedDiff:
    xa, xb = stats.finite(a), stats.finite(b)
    if xa.size < 2 or xb.size < 2:
        mean = float(xa.mean() - xb.mean()) if xa.size and xb.size else math.nan
        return stats.PairedDiff(mean, math.nan, math.nan, math.nan, False, min(xa.size, xb.size))
    mean = float(xa.mean() - xb.mean())
    if np.ptp(xa) == 0 and np.ptp(xb) == 0:
        return stats.PairedDiff(mean, mean, mean, float(mean == 0), mean != 0, xa.size)
    res = sps.ttest_ind(xa, xb, equal_var=False)
    ci = res.confidence_interval(confidence)
    p = float(res.pvalue)
    return stats.PairedDiff(mean, float(ci.low), float(ci.high), p, p < 1 - confidence, xa.size)


def fmt(value: float, unit: str, signed: bool = False) -> str:
    """A KPI value for people: shares as %, differences of shares in points."""
    if value is None or not math.isfinite(value):
        return "–"
    sign = "+" if signed else ""
    if unit == "%":
        return f"{100 * value:{sign}.1f} pts" if signed else f"{100 * value:.1f}%"
    suffix = "" if unit in ("count", "cases", "currency") else f" {unit}"
    digits = 0 if unit == "currency" else 2 if abs(value) < 10 else 1
    return f"{value:{sign},.{digits}f}{suffix}"


def verdict(cmp: Comparison) -> list[str]:
    """Plain-language sentences: who wins on the headline KPI, by how much, at what cost."""
    if len(cmp.labels) < 2:
        return []
    kpi = HEADLINE
    cells = cmp.cells[kpi.path]
    base = cmp.labels[0]
    how = (
        f"paired over {cells[1].n} replications" if cmp.paired else "unpaired (Welch), see warning"
    )
    lines = []
    winners = [i for i in range(1, len(cells)) if cmp.better(kpi, i)]
    losers = [i for i in range(1, len(cells)) if cmp.better(kpi, i) is False]
    if winners:
        best = max(winners, key=lambda i: cells[i].diff)
        lines.append(
            f"{cmp.labels[best]} wins on {kpi.label}: {_diff_text(kpi, cells[best], how)}."
        )
    elif losers and len(losers) == len(cells) - 1:
        lines.append(
            f"The baseline {base} wins on {kpi.label}: every alternative is significantly worse."
        )
    else:
        lines.append(f"No policy is significantly better than {base} on {kpi.label}.")
    for i in range(1, len(cells)):
        c = cells[i]
        ups = [k.label for k in KPIS[1:] if cmp.better(k, i)]
        downs = [k.label for k in KPIS[1:] if cmp.better(k, i) is False]
        text = f"{cmp.labels[i]} vs {base}: {kpi.label} {fmt(c.mean, kpi.unit)} against "
        text += f"{fmt(cells[0].mean, kpi.unit)}, {_diff_text(kpi, c, how)}"
        text += ", a significant difference." if c.significant else ", not significant."
        if ups:
            text += f" Significantly better on {', '.join(ups)}."
        if downs:
            text += f" Significantly worse on {', '.join(downs)}."
        lines.append(text)
    return lines


def _diff_text(kpi: Kpi, c: Cell, how: str) -> str:
    p = f"p = {c.p_value:.3g}" if math.isfinite(c.p_value) else "p n/a"
    ci = f"{fmt(c.diff_lo, kpi.unit, True)} to {fmt(c.diff_hi, kpi.unit, True)}"
    return f"{fmt(c.diff, kpi.unit, True)} (95% CI {ci}, {p}, {how})"
