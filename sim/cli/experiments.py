"""The experiment verbs: compare, sweep, check, staff.

Each loads and validates all its input first (scenario, policies, parameters, requirements,
backend), so bad input ends with one line on stderr and exit 2 before any run starts; then the
runs go to the chosen backend (local processes by default, ``--backend serial``, or a Dask
cluster with ``--dask tcp://scheduler:8786``) behind a progress bar of finished runs.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from sim.cli.common import (
    ForceOpt,
    app,
    checked_out_dir,
    fail,
    out_console,
    progress_bar,
)
from sim.cli.runflags import RunFlags, run_flags
from sim.lazy import lazy

# imported when a verb first uses them, not for ``exsim --help``
config = lazy("sim.config")
comparison = lazy("sim.experiments.compare")
evaluation = lazy("sim.experiments.evaluation")
kpis = lazy("sim.metrics.kpis")
requirements = lazy("sim.experiments.requirements")
staffing = lazy("sim.experiments.staffing")
sweeping = lazy("sim.experiments.sweep")
tables = lazy("sim.cli.tables")
yaml = lazy("yaml")

ScenarioArg = Annotated[str, typer.Argument(help="Scenario: library name or YAML path.")]
PolicyOpt = Annotated[str, typer.Option("--policy", "-p", help="Library name or YAML path.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON only.")]


def _checked(fn, *args, **kwargs):
    """Call ``fn``; bad input (ConfigError, ValueError, KeyError) becomes a one-line exit 2."""
    try:
        return fn(*args, **kwargs)
    except (config.ConfigError, ValueError) as exc:
        fail(str(exc))
    except KeyError as exc:
        fail(str(exc.args[0]))


# -- compare ----------------------------------------------------------------------------------
@app.command()
@run_flags(reps=5, reps_help="Replications per policy.")
def compare(
    scenario: ScenarioArg = "default",
    policy: Annotated[
        list[str] | None,
        typer.Option("--policy", "-p", help="A policy (repeat; the first is the baseline)."),
    ] = None,
    kpi: Annotated[
        list[str] | None, typer.Option("--kpi", help="Extra KPI path to show (repeat).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Directory to write: one run directory per policy (for `exsim report`), "
            "comparison.csv and comparison.json."
        ),
    ] = None,
    as_json: JsonOpt = False,
    force: ForceOpt = False,
    *,
    flags: RunFlags,
) -> None:
    """Compare policies on the same exceptions: KPIs with 95% CIs and paired differences."""
    policies = policy or ["default"]
    try:
        scen = flags.scenario(scenario)
        pols = [config.load_policy(p) for p in policies]
        for ref, pol in zip(policies, pols, strict=True):
            config.check_fits(scen, pol, ref)
    except config.ConfigError as exc:
        fail(str(exc))
    settings = flags.settings(scen)
    if out is not None:
        checked_out_dir(out, force)
    with progress_bar(f"{len(pols) * flags.reps} runs") as bar:
        res = comparison.compare(scen, pols, settings, progress=bar, keep_logs=out is not None)
    extra = [kpis.kpi(k) for k in (kpi or [])]
    known = set(res.table["kpi"])
    for k in extra:
        if k.path not in known:
            fail(f"--kpi {k.path}: no such KPI (e.g. sla.overall, queue_wait_min.p90, labour.cost)")
    if out is not None:
        res.write(out, force=force)
    if as_json:
        sys.stdout.write(json.dumps(res.to_json(), indent=2) + "\n")
        return
    tables.render_comparison(res, [*kpis.HEADLINE, *extra])
    if out is not None:
        out_console.print(f"[dim]wrote {out}/<policy>/ run directories and {out}/comparison.csv[/]")


# -- sweep ------------------------------------------------------------------------------------
def parse_param(text: str) -> tuple[str, list[Any]]:
    """``PATH=v1,v2,...`` with YAML scalar values; ValueError with a one-line message."""
    path, sep, raw = text.partition("=")
    path = path.strip()
    if not sep or not path or not raw.strip():
        raise ValueError(f"--param {text!r}: expected PATH=v1,v2,... (e.g. {_PARAM_EXAMPLE})")
    values = []
    for item in raw.split(","):
        if not item.strip():
            raise ValueError(f"--param {text!r}: empty value in the list")
        try:
            value = yaml.safe_load(item)
        except yaml.YAMLError:
            raise ValueError(f"--param {text!r}: {item!r} is not a YAML scalar") from None
        if isinstance(value, dict | list) or value is None:
            raise ValueError(f"--param {text!r}: {item!r} is not a single value")
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        values.append(value)
    return path, values


_PARAM_EXAMPLE = "detection.picking_sla.scan.interval_min=15,30,60"


@app.command()
@run_flags(reps=3, reps_help="Replications per grid point.")
def sweep(
    scenario: ScenarioArg = "default",
    policy: PolicyOpt = "default",
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help=f"PATH=v1,v2,... (repeat), e.g. {_PARAM_EXAMPLE}."),
    ] = None,
    pareto_x: Annotated[str, typer.Option(help="Pareto front: KPI to minimise.")] = (
        "alerts_per_agent_hour"
    ),
    pareto_y: Annotated[str, typer.Option(help="Pareto front: KPI to maximise.")] = ("sla.overall"),
    out: Annotated[
        Path | None, typer.Option(help="Tidy results, one row per run (.parquet or .csv).")
    ] = None,
    as_json: JsonOpt = False,
    *,
    flags: RunFlags,
) -> None:
    """Run a grid over policy/scenario parameters; print the points and the Pareto front."""
    if not param:
        fail(f"sweep: give at least one --param PATH=v1,v2,... (e.g. {_PARAM_EXAMPLE})")
    params: dict[str, list[Any]] = {}
    for text in param:
        path, values = _checked(parse_param, text)
        if path in params:
            fail(f"--param {path}: given twice")
        params[path] = values
    if out is not None and out.suffix.lower() not in (".parquet", ".csv"):
        fail(f"--out {out}: write a .parquet or .csv file")
    try:
        scen = flags.scenario(scenario)
        pol = config.load_policy(policy)
        config.check_fits(scen, pol, policy)
    except config.ConfigError as exc:
        fail(str(exc))
    _checked(sweeping.grid_points, scen, pol, params)
    settings = flags.settings(scen)
    n = math.prod(len(v) for v in params.values()) * flags.reps
    with progress_bar(f"{n} runs") as bar:
        sw = sweeping.sweep(scen, pol, params, settings, progress=bar)
    front = _checked(sw.pareto, x=pareto_x, y=pareto_y)
    if out is not None:
        sw.write(out)
    if as_json:
        _print_json(tables.sweep_json(sw, params, front, pareto_x, pareto_y))
        return
    tables.render_sweep(sw, params, front, pareto_x, pareto_y, scen.name, pol.name, n)
    if out is not None:
        out_console.print(f"[dim]wrote {out} ({len(sw.results)} rows)[/]")


def _print_json(doc: dict) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")


# -- check ------------------------------------------------------------------------------------
@app.command()
@run_flags(reps=1, reps_help="Replications (judged on the mean).")
def check(
    scenario: ScenarioArg = "default",
    policy: PolicyOpt = "default",
    require: Annotated[
        list[str] | None,
        typer.Option("--require", "-r", help="PATH OP NUMBER, e.g. 'sla.overall>=0.95'."),
    ] = None,
    on_ci: Annotated[
        bool,
        typer.Option(
            "--ci",
            help="Judge on the 95% interval's bound (lower for >=, upper for <=), not the mean.",
        ),
    ] = False,
    as_json: JsonOpt = False,
    *,
    flags: RunFlags,
) -> None:
    """Run and judge requirements: exit 0 when all pass, 1 when any fails, 2 on bad input.

    With --ci a requirement must hold for its whole 95% interval (across replications; with
    one run only the SLA share has one, its Wilson interval).
    """
    if not require:
        fail("check: give at least one --require PATH OP NUMBER (e.g. 'sla.overall>=0.95')")
    reqs = [_checked(requirements.parse, r) for r in require]
    try:
        scen = flags.scenario(scenario)
        pol = config.load_policy(policy)
        config.check_fits(scen, pol, policy)
    except config.ConfigError as exc:
        fail(str(exc))
    settings = flags.settings(scen)
    with progress_bar(f"{flags.reps} runs") as bar:
        judged = _checked(evaluation.evaluate_policy, scen, pol, reqs, settings, bar, on_ci)
    verdicts, passed = judged.verdicts, judged.passed
    if as_json:
        _print_json(tables.check_json(scen.name, pol.name, settings, on_ci, verdicts))
    else:
        tables.render_check(verdicts, scen.name, pol.name, flags.reps, flags.seed, show_ci=on_ci)
        failed = sum(not v.passed for v in verdicts)
        out_console.print(
            "[green]all requirements met[/]"
            if passed
            else f"[bold red]{failed} of {len(verdicts)} requirements failed[/]"
        )
    if not passed:
        raise typer.Exit(1)


# -- staff ------------------------------------------------------------------------------------
@app.command()
@run_flags(reps=3, reps_help="Replications per evaluation.")
def staff(
    scenario: ScenarioArg = "default",
    policy: PolicyOpt = "default",
    target: Annotated[
        list[str] | None,
        typer.Option("--target", "-t", help="Requirement to meet, e.g. 'sla.overall>=0.95'."),
    ] = None,
    max_steps: Annotated[int, typer.Option(min=1, help="Most agents to add.")] = 60,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the recommended policy YAML (only when every target is met)."),
    ] = None,
    write_unmet: Annotated[
        bool,
        typer.Option(
            "--write-unmet",
            help="Write --out even when the target is not met (the best headcount found).",
        ),
    ] = False,
    as_json: JsonOpt = False,
    *,
    flags: RunFlags,
) -> None:
    """Smallest headcount per team and shift meeting the target (Erlang C, then simulation).

    Exit 0 when the target is met, 1 when no headcount within --max-steps met it; then the
    table says "not met" and --out is not written unless --write-unmet asks for it. A target
    met on the mean whose 95% CI still reaches past it is reported as such.
    """
    reqs = [_checked(requirements.parse, t) for t in (target or ["sla.overall>=0.95"])]
    try:
        scen = flags.scenario(scenario)
        pol = config.load_policy(policy)
        config.check_fits(scen, pol, policy)
    except config.ConfigError as exc:
        fail(str(exc))
    settings = flags.settings(scen)
    with progress_bar("staffing search") as bar:
        plan = _checked(
            staffing.recommend, scen, pol, reqs, settings, progress=bar, max_steps=max_steps
        )
    written = out is not None and (plan.met or write_unmet)
    if written:
        tmp = out.with_name(out.name + ".partial")
        tmp.write_text(
            yaml.safe_dump(plan.policy.model_dump(mode="json", exclude_unset=True), sort_keys=False)
        )
        os.replace(tmp, out)
    names = plan.shift_names()
    if as_json:
        _print_json(tables.plan_json(plan, scen.name, pol.name, names, out if written else None))
    else:
        tables.render_plan(plan, names, flags.reps)
        if written:
            out_console.print(f"[dim]wrote {out}[/]")
        elif out is not None:
            out_console.print(
                f"[bold red]target not met[/]: {out} not written (--write-unmet writes the best "
                "headcount found anyway)"
            )
    if not plan.met:
        raise typer.Exit(1)
