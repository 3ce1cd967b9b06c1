"""Parameter sweeps: a grid over policy and scenario settings, every point on the same seeds.

A parameter is a dotted path into the policy document (``detection.picking_sla.scan.
interval_min``, ``staffing.teams.warehouse.shifts[0].agents``) or, with a ``scenario.``
prefix, into the scenario (``scenario.horizon_days``). Every grid point is built and
validated before anything runs, so a path that does not fit fails at once, naming it. All
points run the same replications of the master seed (common random numbers), so the
differences between neighbouring points are the parameter's doing, not noise.
"""

from __future__ import annotations

import copy
import itertools
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel

from sim import config, stats
from sim.experiments.backends import map_runs
from sim.experiments.compare import as_policy, as_scenario
from sim.experiments.jobs import Unit
from sim.experiments.kpis import flatten, fold
from sim.pareto import pareto_front
from sim.policies.schema import Policy
from sim.runner import RunSettings
from sim.scenarios.schema import Scenario

Progress = Callable[[float], None]
SCENARIO_PREFIX = "scenario."
POLICY_PREFIX = "policy."


@dataclass
class Sweep:
    """The outcome of a sweep.

    ``results``: one row per (point, rep): ``point``, ``rep``, the parameter columns (named by
    their paths), then one column per KPI (dotted names such as ``sla.overall``).
    ``points``: one row per grid point: parameters, then per KPI its mean (``sla.overall``)
    and 95% interval (``sla.overall_lo``, ``sla.overall_hi``).
    """

    params: dict[str, list[Any]]
    seed: int
    reps: int
    results: pd.DataFrame
    points: pd.DataFrame
    summaries: list[dict]
    wall_s: float = 0.0

    def pareto(
        self,
        x: str = "alerts_per_agent_hour",
        y: str = "sla.overall",
        maximize_y: bool = True,
        minimize_x: bool = True,
    ) -> pd.DataFrame:
        """The points on the Pareto front of ``y`` against ``x`` (means over replications)."""
        return pareto_front(self.points, x, y, minimize_x=minimize_x, maximize_y=maximize_y)

    def write(self, path: str | Path) -> Path:
        """The tidy per-run table as ``.parquet`` or ``.csv`` (by the suffix), atomically."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".parquet", ".csv"):
            raise ValueError(f"{path}: write a .parquet or .csv file")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial")
        try:
            if suffix == ".csv":
                self.results.to_csv(tmp, index=False)
            else:
                self.results.to_parquet(tmp, index=False)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path


def sweep(
    scenario: Scenario | str | Path,
    policy: Policy | str | Path,
    params: Mapping[str, Sequence[Any]],
    settings: RunSettings = RunSettings(reps=3),
    progress: Progress | None = None,
) -> Sweep:
    """Run the full grid of ``params`` (path -> values) × ``settings.reps`` replications."""
    t0 = time.perf_counter()
    scen, pol = as_scenario(scenario), as_policy(policy)
    params = {str(k): list(v) for k, v in params.items()}
    for path, values in params.items():
        if not values:
            raise config.ConfigError(f"param {path}: needs at least one value")
    grid = grid_points(scen, pol, params)
    settings.check(scen)
    for s, _ in grid:
        settings.check(s)
    units = [
        Unit(i, s, p, settings, r) for i, (s, p) in enumerate(grid) for r in range(settings.reps)
    ]
    outcomes = sorted(map_runs(units, settings, progress), key=lambda o: (o.key, o.rep))
    combos = list(itertools.product(*params.values()))
    rows = []
    for o in outcomes:
        rows.append(
            {
                "point": o.key,
                "rep": o.rep,
                **dict(zip(params, combos[o.key], strict=True)),
                **flatten(o.summary),
            }
        )
    results = pd.DataFrame(rows)
    summaries = [fold([o.summary for o in outcomes if o.key == i]) for i in range(len(grid))]
    return Sweep(
        params=params,
        seed=settings.seed,
        reps=settings.reps,
        results=results,
        points=point_table(results, list(params)),
        summaries=summaries,
        wall_s=time.perf_counter() - t0,
    )


def grid_points(
    scenario: Scenario, policy: Policy, params: dict[str, list[Any]]
) -> list[tuple[Scenario, Policy]]:
    """Every (scenario, policy) of the grid, validated; ConfigError names the bad parameter."""
    out = []
    for combo in itertools.product(*params.values()):
        s_over: dict[str, Any] = {}
        p_over: dict[str, Any] = {}
        for path, value in zip(params, combo, strict=True):
            if path.startswith(SCENARIO_PREFIX):
                s_over[path.removeprefix(SCENARIO_PREFIX)] = (path, value)
            else:
                p_over[path.removeprefix(POLICY_PREFIX)] = (path, value)
        out.append(
            (
                variant(scenario, s_over, f"scenario {scenario.name}"),
                variant(policy, p_over, f"policy {policy.name}"),
            )
        )
    return out


def variant(model: BaseModel, overrides: dict[str, tuple[str, Any]], source: str):
    """``model`` with dotted-path overrides applied to its document, validated again.

    A path must lead through levels the document has (in full, defaults included), so a typo
    such as ``staffing.teams.warehous.agents`` is an error rather than a new team.
    """
    if not overrides:
        return model
    full = model.model_dump(mode="json")
    doc = model.model_dump(mode="json", exclude_unset=True)
    for dotted, (name, value) in overrides.items():
        try:
            config.set_path(copy.deepcopy(full), dotted, value, create=False)
            config.set_path(doc, dotted, value)
        except config.ConfigError as exc:
            raise config.ConfigError(f"param {name}={value!r}: {exc}") from None
    try:
        return config.validate(type(model), doc, source)
    except config.ConfigError as exc:
        shown = ", ".join(f"{name}={value!r}" for name, value in overrides.values())
        raise config.ConfigError(f"param {shown}: {exc}") from None


def point_table(results: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    """Per grid point: parameters, then each KPI's mean, ``_lo`` and ``_hi`` (95% CI)."""
    fixed = {"point", "rep", *params}
    kpis = [c for c in results.columns if c not in fixed]
    rows = []
    for point, group in results.groupby("point", sort=True):
        row = {"point": point, **{p: group[p].iloc[0] for p in params}}
        for kpi in kpis:
            ci = stats.mean_ci(group[kpi].tolist())
            row[kpi] = ci.mean
            row[f"{kpi}_lo"] = ci.lo
            row[f"{kpi}_hi"] = ci.hi
        rows.append(row)
    return pd.DataFrame(rows)
