"""The core verbs: run, validate, scenarios, policies, schema."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import (
    ForceOpt,
    app,
    checked_out_dir,
    err_console,
    fail,
    out_console,
    progress_bar,
)
from sim.cli.runflags import RunFlags, run_flags
from sim.lazy import lazy

# imported when a verb first uses them, not for ``exsim --help``
config = lazy("sim.config")
eventlog = lazy("sim.eventlog")
outdir = lazy("sim.outdir")
runner = lazy("sim.runner")
run_summary = lazy("sim.run_summary")
yaml = lazy("yaml")


@app.command()
@run_flags(reps=1, reps_help="Independent replications.", experiment=False)
def run(
    scenario: Annotated[str, typer.Argument(help="Library name or YAML path.")] = "default",
    policy: Annotated[str, typer.Option("--policy", "-p", help="Library name or YAML path.")] = (
        "default"
    ),
    out: Annotated[
        Path | None,
        typer.Option(
            help="Run directory to write (events.parquet, summary.json, scenario.yaml, "
            "policy.yaml). Default: runs/SCENARIO--POLICY.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print summary JSON only.")] = False,
    force: ForceOpt = False,
    *,
    flags: RunFlags,
) -> None:
    """Run a scenario under a policy; write events.parquet and summary.json."""
    try:
        scen = flags.scenario(scenario)
        pol = config.load_policy(policy)
        config.check_fits(scen, pol, policy)
    except config.ConfigError as exc:
        fail(str(exc))
    settings = flags.settings(scen)
    out = out or Path("runs") / f"{scen.name}--{pol.name}"
    checked_out_dir(out, force)
    stream = outdir.temp_sibling(out, "events.parquet")
    try:
        with progress_bar(f"{scen.name} x {pol.name}") as bar:
            result = runner.run(
                scen,
                pol,
                settings,
                progress=bar,
                stream_to=stream,
            )
        summary = run_summary.build_summary(result, scen, pol, warmup_min=settings.warmup_min)
    except BaseException:
        if stream is not None:
            stream.unlink(missing_ok=True)
        raise

    def write_events(path: Path) -> None:
        if result.path is not None:
            os.replace(result.path, path)
        else:
            eventlog.write_table(result.table, path)

    try:
        outdir.write_run_dir(
            out,
            {
                "events.parquet": write_events,
                "summary.json": lambda p: p.write_text(json.dumps(summary, indent=2) + "\n"),
                "scenario.yaml": lambda p: p.write_text(_dump(scen)),
                "policy.yaml": lambda p: p.write_text(_dump(pol)),
            },
            force=force,
        )
    finally:
        if stream is not None:
            stream.unlink(missing_ok=True)
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    else:
        run_summary.render_summary(out_console, summary)
        out_console.print(f"[dim]wrote {out}/events.parquet and summary.json[/]")


def _dump(model) -> str:
    return yaml.safe_dump(model.model_dump(mode="json"), sort_keys=False)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario or policy YAML files.")],
) -> None:
    """Check scenario and policy files; exit 0 when all are valid, 2 otherwise."""
    bad = 0
    for path in files:
        try:
            kind = config.detect_kind(config.read_yaml(path), path)
            data = config.read_document(path, kind)
            model = config.Scenario if kind == "scenarios" else config.Policy
            config.validate(model, data, str(path))
            what = "scenario" if kind == "scenarios" else "policy"
            out_console.print(f"[green]ok[/]  {path} ({what})", highlight=False)
        except config.ConfigError as exc:
            bad += 1
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    if bad:
        raise typer.Exit(2)


def _listing(kind: str) -> None:
    from rich.table import Table

    table = Table(title=f"shipped {kind}", title_justify="left")
    table.add_column("name", style="bold")
    table.add_column("description")
    for name, path in config.library(kind).items():
        desc = (config.read_yaml(path).get("description") or "").strip()
        table.add_row(name, desc)
    out_console.print(table)


@app.command()
def scenarios() -> None:
    """List the shipped scenarios."""
    _listing("scenarios")


@app.command()
def policies() -> None:
    """List the shipped policies."""
    _listing("policies")


@app.command()
def schema() -> None:
    """Print the event-log schema."""
    out_console.print(eventlog.describe_schema(), highlight=False)
