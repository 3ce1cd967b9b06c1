"""What the what-if page computes, without any web framework: pinned start, edited runs.

A :class:`Session` pins a starting point (a scenario, a policy, a seed, a number of
replications, a short horizon) and answers "what if" by running the edited policy (and the
edited scenario) on the *same* replications of the same seed: common random numbers, so the
exceptions in front of both are the same and the paired difference shows the edit's effect
alone. Runs are the experiment layer's units (:class:`sim.experiments.jobs.Unit`, run by
:func:`sim.experiments.backends.map_runs`, in parallel processes when there are several);
each unit's outcome is cached by what it depends on, so the starting point is simulated once
per session and an edit tried before comes back at once.

The numbers shown are the HTML report's own: the runs become in-memory run directories
(:class:`sim.reports.rundir.RunDir`) and :func:`sim.reports.comparison.compare_runs` pairs them,
:func:`~sim.reports.comparison.verdict` words the outcome, and saving a run writes the very
report ``exsim report`` writes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim import config, eventlog
from sim.experiments.backends import map_runs
from sim.experiments.compare import Comparison as RunSet
from sim.experiments.compare import comparison_table
from sim.experiments.jobs import Outcome, Unit
from sim.experiments.kpis import fold
from sim.exports.atomic import atomic_text
from sim.metrics import backlog_series
from sim.policies.schema import Policy
from sim.reports import comparison as report_cmp
from sim.reports.html import write_report
from sim.reports.rundir import RunDir
from sim.runner import RunSettings
from sim.scenarios.schema import Scenario

#: The horizon a what-if runs over unless told otherwise: two weeks, long enough for a weekly
#: pattern, short enough to redraw in seconds.
DEFAULT_DAYS = 14.0
START = "starting point"


@dataclass
class Choice:
    """A scenario or policy on offer: its name, where it comes from, its model."""

    name: str
    source: str  # 'shipped' or the file's path
    model: Scenario | Policy


def offered(kind: str, folder: Path | None = None) -> dict[str, Choice]:
    """The shipped scenarios or policies, then those of ``folder`` (YAML files of that kind;
    files of the other kind are left out, a bad file raises ConfigError)."""
    load = config.load_scenario if kind == "scenarios" else config.load_policy
    out = {name: Choice(name, "shipped", load(name)) for name in config.library(kind)}
    if folder is not None:
        for path in sorted(folder.glob("*.y*ml")):
            data = config.read_yaml(path)
            if config.detect_kind(data, path) != kind:
                continue
            model = load(path)
            name = path.stem if path.stem not in out else f"{path.stem} ({path.name})"
            out[name] = Choice(name, str(path), model)
    return out


@dataclass
class Run:
    """One what-if: the edited scenario and policy against the starting point."""

    number: int
    scenario: Scenario
    policy: Policy
    runs: list[RunDir]  # [starting point, this run]
    comparison: report_cmp.RunComparison
    wall_s: float
    demand: float = 1.0
    edits: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.runs[1].policy_name

    def verdict(self) -> list[str]:
        return report_cmp.verdict(self.comparison)

    def kpi_rows(self) -> list[dict[str, str]]:
        """The headline KPIs as the report's table shows them: start, this run, difference."""
        return [_row(k, self.comparison.cells[k.path]) for k in report_cmp.KPIS]

    def sla_rows(self) -> list[dict[str, str]]:
        """SLA attainment by category and by severity, start and this run."""
        paths = [p for p in self.comparison.cells if p.startswith(report_cmp.SEGMENTS)]
        return [_row(report_cmp.kpi(p), self.comparison.cells[p]) for p in sorted(paths)]

    def summary(self) -> dict:
        """The run's summary.json (as ``exsim run`` writes it)."""
        return self.runs[1].summary

    def policy_yaml(self) -> str:
        return yaml.safe_dump(self.policy.model_dump(mode="json"), sort_keys=False)

    def save_policy(self, out: Path) -> Path:
        """The edited policy as YAML, loadable by ``exsim run -p``; written atomically."""
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_text(out) as fh:
            fh.write(self.policy_yaml())
        return out

    def save_report(self, out: Path) -> Path:
        """The self-contained HTML report of the starting point against this run."""
        return write_report(self.runs, out)

    def backlog(self, step_min: float = 60.0) -> pd.DataFrame:
        """Open cases over time, mean over replications: columns ``ts`` (minutes from the
        start), one column per run (starting point, this run)."""
        cols = {}
        for r in self.runs:
            s = backlog_series(r.log, step_min=step_min)
            cols[r.policy_name] = s.groupby("ts")["open"].mean()
        return pd.DataFrame(cols).rename_axis("ts").reset_index()


def _fmt(kpi, value: float, signed: bool = False) -> str:
    return report_cmp.fmt(value, kpi.unit, signed=signed)


def _row(kpi, cells: list[report_cmp.Cell]) -> dict[str, str]:
    base, new = cells[0], cells[1]
    lo, hi = kpi.clip_diff(new.diff_lo, new.diff_hi)
    ci = (
        f"[{_fmt(kpi, lo, True)}, {_fmt(kpi, hi, True)}]"
        if np.isfinite(lo) and np.isfinite(hi)
        else "n/a"
    )
    sign = ""
    if new.significant and kpi.sign and np.isfinite(new.diff):
        sign = "better" if (new.diff > 0) == (kpi.sign > 0) else "worse"
    return {
        "kpi": kpi.label,
        "path": kpi.path,
        "start": _fmt(kpi, base.mean),
        "run": _fmt(kpi, new.mean),
        "diff": _fmt(kpi, new.diff, True) if np.isfinite(new.diff) else "n/a",
        "ci": ci,
        "verdict": sign,
    }


def _key(*models: Any) -> str:
    text = "\n".join(
        m.model_dump_json() if hasattr(m, "model_dump_json") else repr(m) for m in models
    )
    return hashlib.sha256(text.encode()).hexdigest()


class Session:
    """A pinned starting point and the what-ifs tried against it."""

    def __init__(
        self,
        scenario: Scenario,
        policy: Policy,
        seed: int = 1,
        reps: int = 2,
        days: float = DEFAULT_DAYS,
        workers: int | None = None,
    ) -> None:
        self.scenario = config.validate(
            Scenario, {**scenario.model_dump(mode="json"), "horizon_days": days}, scenario.name
        )
        self.policy = policy
        self.settings = RunSettings(seed, reps, workers=workers).check(self.scenario)
        self.seed, self.reps, self.workers = seed, reps, workers
        self.runs: list[Run] = []
        self._cache: dict[tuple[str, int], Outcome] = {}
        self._start: RunDir | None = None

    def _outcomes(self, scen: Scenario, pol: Policy, progress) -> list[Outcome]:
        key = _key(scen, pol, self.seed, self.reps)
        todo = [
            Unit(key, scen, pol, self.settings, r, keep_log=True)
            for r in range(self.reps)
            if (key, r) not in self._cache
        ]
        backend = "processes" if len(todo) > 1 else "serial"
        for o in map_runs(todo, replace(self.settings, backend=backend), progress):
            self._cache[(key, o.rep)] = o
        return [self._cache[(key, r)] for r in range(self.reps)]

    def _run_dir(self, label: str, scen: Scenario, pol: Policy, outs: list[Outcome]) -> RunDir:
        """Outcomes as an in-memory run directory, summary as ``exsim run`` writes it."""
        per_rep = {label: [o.summary for o in outs]}
        tables = [o.table for o in outs]
        meta = eventlog.joined_meta(
            [eventlog.LogMeta.from_bytes(t.schema.metadata[b"exsim"]) for t in tables]
        )
        table = eventlog.concat(tables, meta)
        named = pol.model_copy(update={"name": label})
        runset = RunSet(
            scenario=scen,
            policies={label: named},
            seed=self.seed,
            reps=self.reps,
            warmup_min=0.0,
            table=comparison_table(per_rep),
            summaries={label: fold(per_rep[label])},
            per_rep=per_rep,
            logs={label: table},
        )
        return RunDir(
            path=Path(label),
            log=eventlog.to_pandas(table),
            summary=runset.run_summary(label),
            scenario_yaml=yaml.safe_dump(scen.model_dump(mode="json"), sort_keys=False),
            policy_yaml=yaml.safe_dump(named.model_dump(mode="json"), sort_keys=False),
            policy=named,
        )

    def start(self, progress: Callable[[float], None] | None = None) -> RunDir:
        """The starting point's runs (simulated the first time)."""
        if self._start is None:
            outs = self._outcomes(self.scenario, self.policy, progress)
            self._start = self._run_dir(self.policy.name, self.scenario, self.policy, outs)
        return self._start

    def pair(self, a: int, b: int) -> Run:
        """Run ``b`` against run ``a`` (0: the starting point), paired like any two runs of
        the session (same seed and replications): the report's comparison of the two."""
        dirs = [self.start()] + [r.runs[1] for r in self.runs]
        for n in (a, b):
            if not 0 <= n < len(dirs):
                raise ValueError(f"no run {n} (runs 0 to {len(dirs) - 1})")
        runs = [dirs[a], dirs[b]]
        other = self.runs[b - 1] if b else None
        return Run(
            number=b,
            scenario=other.scenario if other else self.scenario,
            policy=runs[1].policy,
            runs=runs,
            comparison=report_cmp.compare_runs(runs),
            wall_s=0.0,
            demand=other.demand if other else 1.0,
            edits=other.edits if other else {},
        )

    def run(
        self,
        policy: Policy,
        demand: float = 1.0,
        edits: dict[str, Any] | None = None,
        progress: Callable[[float], None] | None = None,
        scenario: Scenario | None = None,
    ) -> Run:
        """Simulate ``policy`` (on the scenario with demand times ``demand``) against the
        starting point, on the same replications; the run joins :attr:`runs`. ``scenario``
        is the session's scenario with scenario levers moved (an outage, a supplier delay;
        see :mod:`sim.ui.levers`), None for the session's own."""
        from sim.ui.levers import scaled_demand

        t0 = time.perf_counter()
        world = scenario if scenario is not None else self.scenario
        scen = scaled_demand(world, demand, self.scenario.name)
        config.check_fits(scen, policy, policy.name)
        start = self.start()
        number = len(self.runs) + 1
        label = f"{self.policy.name} (run {number})"
        outs = self._outcomes(scen, policy, progress)
        mine = self._run_dir(label, scen, policy, outs)
        runs = [start, mine]
        run = Run(
            number=number,
            scenario=scen,
            policy=mine.policy,
            runs=runs,
            comparison=report_cmp.compare_runs(runs),
            wall_s=time.perf_counter() - t0,
            demand=demand,
            edits=dict(edits or {}),
        )
        self.runs.append(run)
        return run
