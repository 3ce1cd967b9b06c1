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
from sim.metrics import summarize
from sim.metrics.kpis import BUSINESS, DROPPED, LEVERS, Kpi, kpi
from sim.metrics.kpis import HEADLINE as HEADLINE_KPIS
from sim.reports.rundir import RunDir

#: The KPIs a report compares, the headline one (SLA attainment) first, then what the levers
#: did to the work (effort vs elapsed, holds, reopens, wait by severity).
KPIS: tuple[Kpi, ...] = HEADLINE_KPIS + LEVERS
HEADLINE = KPIS[0]
#: Segments of the headline whose own SLA can move against it.
SEGMENTS = ("sla.by_category.", "sla.by_severity.")
#: A segment is named in the verdict when it moves significantly and by at least this much.
SEGMENT_MIN_PTS = 0.02
#: KPIs a log can only tell with a staffing record (a replay's as-is has none).
_NEED_STAFFING = ("labour.cost", "alerts_per_agent_hour")


@dataclass
class Cell:
    """One KPI of one run: mean and 95% CI over replications; against the reference (first)
    run, the difference."""

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
class RunComparison:
    labels: list[str]  # one per run, the first is the reference
    cells: dict[str, list[Cell]]  # KPI path -> one cell per run (KPIS and the SLA segments)
    paired: bool
    warnings: list[str] = field(default_factory=list)
    #: business outcomes (operations mode) per KPI path: each run's mean from its summary
    business: dict[str, list[float]] = field(default_factory=dict)
    #: what detection dropped (webhook pushes lost, dead-lettered, time-rule windows missed)
    dropped: dict[str, list[float]] = field(default_factory=dict)

    def better(self, kpi: Kpi, i: int) -> bool | None:
        """True if run i is significantly better than the reference (first run) on ``kpi``, False if
        significantly worse, None if the difference is not significant."""
        c = self.cells[kpi.path][i]
        if not kpi.sign or not c.significant or not math.isfinite(c.diff):
            return None
        return (c.diff > 0) == (kpi.sign > 0)

    def against(self, i: int) -> list[tuple[Kpi, Cell, Cell]]:
        """SLA segments (categories, severities) of run i that moved significantly, by at
        least :data:`SEGMENT_MIN_PTS`, the other way from its headline difference (all that
        fell when the headline rose or did not move; all that rose when it fell), largest
        move first, as (segment KPI, baseline cell, run i's cell)."""
        head = self.cells[HEADLINE.path][i]
        falling = not (head.significant and head.diff < 0)
        out = []
        for path, row in self.cells.items():
            if not path.startswith(SEGMENTS):
                continue
            c = row[i]
            if not c.significant or not math.isfinite(c.diff) or abs(c.diff) < SEGMENT_MIN_PTS:
                continue
            if (c.diff < 0) == falling:
                out.append((kpi(path), row[0], c))
        return sorted(out, key=lambda t: -abs(t[2].diff))

    def biggest_business_change(self, i: int) -> tuple[Kpi, float, float] | None:
        """The business outcome (operations mode) that changed most, relative to the
        baseline, in run i: (KPI, reference mean, run i's mean); None without outcomes."""
        best, size = None, 0.0
        for path, means in self.business.items():
            a, b = means[0], means[i]
            if not (math.isfinite(a) and math.isfinite(b)) or a == b:
                continue
            rel = abs(b - a) / abs(a) if a else math.inf
            if best is None or rel > size:
                best, size = (kpi(path), a, b), rel
        return best


def _leaves(tree: dict, prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_leaves(value, name + "."))
        elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            out[name] = math.nan if value is None else float(value)
    return out


def rep_values(run: RunDir) -> dict[str, list[float]]:
    """Per replication (in rep order), the value of each KPI of :data:`KPIS` and of each SLA
    segment (category, severity); NaN where a replication has no value."""
    df = run.log
    reps = []
    for _rep, rows in sorted(df.groupby("rep", sort=True).indices.items()):
        one = df.take(rows)
        one.attrs = df.attrs
        reps.append(_leaves(summarize(one, warmup_min=run.warmup_min)))
    if not run.meta.capacity_min:  # a recorded history without a staffing record:
        for r in reps:  # unknown, not 0
            r.update(dict.fromkeys(_NEED_STAFFING, math.nan))
    paths = [k.path for k in KPIS]
    paths += sorted({p for r in reps for p in r if p.startswith(SEGMENTS)})
    return {p: [r.get(p, math.nan) for r in reps] for p in paths}


def labels_of(runs: list[RunDir]) -> list[str]:
    """Policy names, made unique with the directory name where two runs share one."""
    names = [r.policy_name for r in runs]
    return [
        f"{n} ({r.path.name})" if names.count(n) > 1 else n
        for n, r in zip(names, runs, strict=True)
    ]


def compare_runs(runs: list[RunDir]) -> RunComparison:
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
                    f"{label} ran with {what} {s.get(key)!r}, the reference {labels[0]} with "
                    f"{base.get(key)!r}: the runs do not replay the same exceptions, so the "
                    "differences are unpaired (Welch) and less precise."
                )
    paired = not warnings
    values = [rep_values(r) for r in runs]
    paths = list(dict.fromkeys(p for v in values for p in v))
    cells: dict[str, list[Cell]] = {}
    for path in paths:
        row = []
        for i, v in enumerate(values):
            reps = v.get(path) or [math.nan] * len(next(iter(v.values()), []))
            ci = stats.mean_ci(reps)
            cell = Cell(ci.mean, *kpi(path).clip(ci.lo, ci.hi), n=ci.n)
            if i > 0:
                base = values[0].get(path) or [math.nan] * len(values[0][HEADLINE.path])
                if replayed:  # the record is one fixed replication: pair it with each
                    reps, base = _align(reps, base)
                d = stats.paired_diff(reps, base) if paired else _welch(reps, base)
                cell.diff = d.mean
                cell.diff_lo, cell.diff_hi = kpi(path).clip_diff(d.lo, d.hi)
                cell.p_value, cell.significant = d.p_value, bool(d.significant)
            row.append(cell)
        cells[path] = row
    business, dropped = _present(BUSINESS, runs), _present(DROPPED, runs)
    return RunComparison(labels, cells, paired, warnings, business, dropped)


def _present(kpis: tuple[Kpi, ...], runs: list[RunDir]) -> dict[str, list[float]]:
    """Each run's mean of every KPI of ``kpis`` some run's summary has."""
    out = {}
    for k in kpis:
        means = [_summary_value(r.summary, k.path) for r in runs]
        if any(math.isfinite(m) for m in means):
            out[k.path] = means
    return out


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


def _summary_value(summary: dict, path: str) -> float:
    node = summary
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else math.nan


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
    suffix = "" if unit in ("count", "currency", "") else f" {unit}"
    whole = unit == "count" and float(value).is_integer()
    digits = 0 if unit == "currency" or whole else 2 if abs(value) < 10 else 1
    return f"{value:{sign},.{digits}f}{suffix}"


def verdict(cmp: RunComparison) -> list[str]:
    """Plain-language sentences: who wins on the headline KPI, by how much, at what cost.

    A win on the overall SLA can hide a collapse in one category or severity (a policy that
    starves one desk to serve the others), so each sentence names the segments whose SLA moved
    significantly against the headline, and the business outcome that changed most.
    """
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
        head = f"{cmp.labels[best]} wins on {kpi.label}: {_diff_text(kpi, cells[best], how)}"
        lines.append(head + _but(cmp, best) + ".")
    elif losers and len(losers) == len(cells) - 1:
        lines.append(
            f"The reference {base} wins on {kpi.label}: every alternative is significantly worse."
        )
    else:
        lines.append(f"No policy is significantly better than {base} on {kpi.label}.")
    for i in range(1, len(cells)):
        c = cells[i]
        ups = [k.label for k in HEADLINE_KPIS[1:] if cmp.better(k, i)]
        downs = [k.label for k in HEADLINE_KPIS[1:] if cmp.better(k, i) is False]
        text = f"{cmp.labels[i]} vs {base}: {kpi.label} {fmt(c.mean, kpi.unit)} against "
        text += f"{fmt(cells[0].mean, kpi.unit)}, {_diff_text(kpi, c, how)}"
        text += ", a significant difference." if c.significant else ", not significant."
        moved = cmp.against(i)
        if moved:
            text += " Against the headline: " + _segments(moved) + "."
        if ups:
            text += f" Significantly better on {'; '.join(ups)}."
        if downs:
            text += f" Significantly worse on {'; '.join(downs)}."
        change = _business(cmp, i)
        if change:
            text += f" Biggest business-outcome change: {change}."
        lines.append(text)
    return lines


def _segment(k: Kpi, base: Cell, c: Cell) -> str:
    verb = "falls" if c.diff < 0 else "rises"
    return f"{k.label} {verb} from {fmt(base.mean, k.unit)} to {fmt(c.mean, k.unit)}"


def _segments(moved: list[tuple[Kpi, Cell, Cell]], most: int = 3) -> str:
    text = "; ".join(_segment(*m) for m in moved[:most])
    if len(moved) > most:
        text += f" (and {len(moved) - most} more)"
    return text


def _business(cmp: RunComparison, i: int) -> str:
    change = cmp.biggest_business_change(i)
    if change is None:
        return ""
    k, a, b = change
    rel = f" ({(b - a) / abs(a):+.0%})" if a and k.unit != "%" else ""
    return f"{k.label} {fmt(a, k.unit)} → {fmt(b, k.unit)}{rel}"


def _but(cmp: RunComparison, i: int) -> str:
    """What the headline win hides: ', but picking_sla falls from 96% to 39%; ...'."""
    moved = cmp.against(i)
    change = _business(cmp, i)
    text = f", but {_segments(moved)}" if moved else ""
    if change:
        text += f"; biggest business-outcome change: {change}"
    return text


def _diff_text(kpi: Kpi, c: Cell, how: str) -> str:
    p = f"p = {c.p_value:.3g}" if math.isfinite(c.p_value) else "p n/a"
    ci = f"{fmt(c.diff_lo, kpi.unit, True)} to {fmt(c.diff_hi, kpi.unit, True)}"
    return f"{fmt(c.diff, kpi.unit, True)} (95% CI {ci}, {p}, {how})"
