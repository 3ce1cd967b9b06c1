"""The replay verbs: ``replay`` (history through candidate policies) and ``calibrate``.

Both read a recorded log (CSV, Parquet, XES, OCEL 2.0; a mapping file for foreign ones) or,
for ``replay --odoo``, pull the history from a live Odoo (read-only). Bad input ends like
everywhere else in exsim: one line naming the file and the field, exit 2, nothing written.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from sim.cli.common import (
    ForceOpt,
    app,
    check_seed,
    checked_out_dir,
    checked_out_file,
    err_console,
    fail,
    out_console,
    progress_bar,
)
from sim.lazy import lazy

if TYPE_CHECKING:
    from replay.history import History

# imported when a verb first uses them, not for ``exsim --help``
replay_pkg = lazy("replay")
calibration = lazy("replay.calibrate")
histories = lazy("replay.history")
replaying = lazy("replay.run")
validating = lazy("replay.validation")
config = lazy("sim.config")
metrics = lazy("sim.metrics")
kpis = lazy("sim.metrics.kpis")
tables = lazy("sim.cli.tables")
yaml = lazy("yaml")

#: KPI rows of the side-by-side table (labels and units from ``sim.metrics.kpis``).
KPIS: tuple[str, ...] = (
    "cases.generated",
    "cases.resolved",
    "cases.open",
    "sla.overall",
    "missed_detections",
    "detection_latency_min.mean",
    "detection_latency_min.p90",
    "queue_wait_min.mean",
    "time_to_resolve_min.mean",
    "time_to_resolve_min.p90",
    "backlog.mean",
    "backlog.max",
    "escalations",
    "alerts",
    "labour.work_hours",
    "labour.agent_hours",
)

LogArg = Annotated[
    Path | None,
    typer.Argument(help="Event log: .csv(.gz), .parquet, .xes(.gz), .jsonocel/.json(.gz)."),
]
MappingOpt = Annotated[
    Path | None, typer.Option("--mapping", "-m", help="Mapping YAML for a foreign log.")
]
SinceOpt = Annotated[
    str | None,
    typer.Option(help="Only the whole cases whose first row is on or after this (ISO date)."),
]
UntilOpt = Annotated[
    str | None, typer.Option(help="Only the whole cases whose first row is before this.")
]


def _load(log: Path | None, mapping: Path | None, odoo: bool, since, until) -> History:
    """The history to replay, from a file or a live Odoo; bad input exits 2."""
    try:
        if odoo:
            if log is not None:
                fail("give either a LOG file or --odoo, not both")
            df = _pull_odoo(since, until)
        else:
            if log is None:
                fail("missing LOG (an event log file), or --odoo --since ... --until ...")
            df, report = replay_pkg.load_log(log, mapping, since, until)
            if report.rows_dropped or report.warnings:
                err_console.print(report.summary(), highlight=False, soft_wrap=True)
    except replay_pkg.ReplayInputError as exc:
        fail(str(exc))
    return histories.history_of(df)


def _pull_odoo(since: str | None, until: str | None):
    """History pulled read-only from the Odoo named by the EXSIM_ODOO_* variables."""
    from replay.odoo_history import OdooHistoryError, connect_from_env, pull_history

    if not since or not until:
        fail("--odoo needs --since and --until (dates, e.g. 2024-01-01)")
    try:
        start, end = datetime.fromisoformat(since), datetime.fromisoformat(until)
    except ValueError as exc:
        fail(f"--since/--until: not an ISO date: {exc}")
    if end <= start:
        fail("--until: must be after --since")
    try:
        client = connect_from_env()
        return pull_history(client, start, end)
    except OdooHistoryError as exc:
        fail(str(exc))


def _policies(refs: list[str]) -> list:
    try:
        return [config.load_policy(r) for r in refs]
    except config.ConfigError as exc:
        fail(str(exc))


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "%":
        return f"{100 * value:.1f}%"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def render_side_by_side(summaries: dict[str, dict]) -> Table:
    """KPI rows, one column per run (as-is first)."""
    table = Table(title="replay: history as-is and under each policy", title_justify="left")
    table.add_column("KPI")
    for name in summaries:
        table.add_column(name, justify="right")
    for path in KPIS:
        k = kpis.kpi(path)
        cells = []
        for s in summaries.values():
            try:
                cells.append(_fmt(metrics.get_path(s, path), k.unit))
            except KeyError:
                cells.append("–")
        table.add_row(k.label, *cells)
    return table


@app.command("replay")
def replay_cmd(
    log: LogArg = None,
    mapping: MappingOpt = None,
    policy: Annotated[
        list[str] | None,
        typer.Option("--policy", "-p", help="Candidate policy (repeatable; default: default)."),
    ] = None,
    reps: Annotated[int, typer.Option(min=1, help="Replications per policy.")] = 1,
    seed: Annotated[int, typer.Option(help="Seed of the drawn efforts and the policies.")] = 1,
    sla_policy: Annotated[
        str | None, typer.Option(help="Policy whose SLA targets judge a log without deadlines.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output directory.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summaries as JSON.")] = False,
    odoo: Annotated[bool, typer.Option("--odoo", help="Pull the history from EXSIM_ODOO_*.")] = (
        False
    ),
    since: SinceOpt = None,
    until: UntilOpt = None,
    force: ForceOpt = False,
) -> None:
    """Put a recorded history through candidate policies, next to what actually happened."""
    check_seed(seed)
    if out is not None:
        checked_out_dir(out, force)
    pols = _policies(policy or ["default"])
    sla = _policies([sla_policy])[0] if sla_policy else pols[0]
    history = _load(log, mapping, odoo, since, until)
    name = log.stem if log is not None else "odoo"
    with progress_bar(f"replay {name}") as bar:
        outcome = replaying.replay(history, pols, seed, reps, sla, progress=bar, name=name)
    out = out or Path("runs") / f"replay-{name}"
    replaying.write_replay(out, outcome, sla, force=force)
    summaries = outcome.summaries()
    if as_json:
        sys.stdout.write(json.dumps(summaries, indent=2) + "\n")
        return
    out_console.print(render_side_by_side(summaries))
    out_console.print("[bold]assumptions[/]")
    for note in outcome.assumptions:
        out_console.print(f"  - {note}", highlight=False)
    as_is = replaying.AS_IS
    others = " ".join(f"--compare {out}/{n}" for n in summaries if n != as_is)
    out_console.print(f"[dim]wrote {out}/; compare: exsim report {out}/{as_is} {others}[/]")


def _scenario_yaml(cal, validation: dict) -> str:
    rep = cal.report
    esc, reo = rep["escalation_rate"], rep["reopen_rate"]
    lines = [
        f"# Calibrated by exsim from {rep['cases']} cases over {rep['horizon_days']:.4g} days.",
        f"# Desk rates (not part of the scenario): escalation {_pct(esc)}, reopen {_pct(reo)}.",
        f"# Validated under policy '{validation['policy']}' ({validation['reps']} reps):",
    ]
    for row in validating.distance_table(validation).itertuples(index=False):
        value = "n/a" if row.value is None else f"{row.value:.4g}"
        lines.append(f"#   {row.what}: {row.distance} {value}")
    body = yaml.safe_dump(cal.scenario.model_dump(mode="json"), sort_keys=False)
    return "\n".join(lines) + "\n" + body


def _pct(share: dict) -> str:
    rate = share["rate"]
    return "n/a" if rate is None else f"{100 * rate:.1f}% of {share['of']}"


def _fit_table(cal) -> Table:
    """Per category: cases, rate per hour over its 95% CI, profile, handling fit, KS distance.

    Readable at 80 columns: the interval goes under the rate and the fit's parameters under its
    distribution, a category's own profile reads "own" (else the shared one it uses), columns
    are set apart by space rather than rules, and no number is ever cut.
    """
    from rich import box

    t = tables.table(
        "fitted categories (handling: chosen by AIC)",
        [
            ("category", "left"),
            ("cases", "right"),
            ("rate/h\n95% CI", "right"),
            ("profile", "left"),
            ("handling (min)", "left"),
            ("KS", "right"),
        ],
        box=box.SIMPLE_HEAD,
    )
    t.columns[0].no_wrap = True  # category names are identifiers: never split one
    for cat, r in cal.report["categories"].items():
        h = r["handling"]
        fit = h["fit"] or {}
        chosen = h["chosen"]
        ks = fit.get("ks")
        lo, hi = r["rate_ci95"]
        n = f"n {fit.get('n', 0)}" if "pooled" not in h["source"] else "pooled"
        t.add_row(
            cat,
            str(r["cases"]),
            f"{r['rate_per_hour']:.3f}\n{lo:.3f}–{hi:.3f}",
            "own" if r["profile"] == cat else r["profile"],
            f"{chosen['dist']}\nmean {chosen['mean']:.4g}, cv {chosen['cv']:.2g}\n{n}",
            "–" if ks is None or ks != ks else f"{ks:.3f}",
            end_section=True,
        )
    return t


@app.command("calibrate")
def calibrate_cmd(
    log: LogArg = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Scenario YAML to write.")] = Path(
        "calibrated.yaml"
    ),
    mapping: MappingOpt = None,
    policy: Annotated[
        str, typer.Option("--policy", "-p", help="As-is policy for the validation run.")
    ] = "default",
    reps: Annotated[int, typer.Option(min=1, help="Validation replications.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the validation runs.")] = 1,
    name: Annotated[str | None, typer.Option(help="Scenario name (default: file stem).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print fit and validation JSON.")] = (
        False
    ),
    since: SinceOpt = None,
    until: UntilOpt = None,
    force: ForceOpt = False,
    score: Annotated[
        str | None,
        typer.Option(
            "--score",
            help="Score this scenario (a file or library name) against the history instead"
            " of fitting one; writes nothing.",
        ),
    ] = None,
) -> None:
    """Fit an injected-mode scenario to a recorded log, then validate it by simulation."""
    check_seed(seed)
    if score is not None:
        _score(log, mapping, policy, reps, seed, since, until, score, as_json)
        return
    checked_out_file(out, force)
    pol = _policies([policy])[0]
    history = _load(log, mapping, False, since, until)
    cal = calibration.calibrate(history, name=name or out.stem)
    with progress_bar("validating") as bar:
        report = validating.validate(cal, history, pol, seed=seed, reps=reps, progress=bar)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    try:
        tmp.write_text(_scenario_yaml(cal, report), encoding="utf-8")
        config.load_scenario(tmp)  # what we write must load
        os.replace(tmp, out)
    except config.ConfigError as exc:
        fail(f"{out}: the fitted scenario does not validate: {exc}")
    finally:
        tmp.unlink(missing_ok=True)
    if as_json:
        payload = {"scenario": str(out), "fit": cal.report, "validation": report}
        sys.stdout.write(json.dumps(_clean(payload), indent=2) + "\n")
        return
    out_console.print(_fit_table(cal))
    esc, reo = cal.report["escalation_rate"], cal.report["reopen_rate"]
    out_console.print(f"escalation rate {_pct(esc)}; reopen rate {_pct(reo)}", highlight=False)
    vol = cal.report["volume"]
    aic = ", ".join(f"{m} {a:,.1f}" for m, a in vol["aic"].items())
    out_console.print(f"volume over time: {vol['model']} (AIC {aic})", highlight=False)
    _print_validation(report, pol.name)
    out_console.print(f"[dim]wrote {out}[/]")


def _print_validation(report: dict, policy: str) -> None:
    """The distances, then arrivals per week and cycle time per month, as numbers."""
    title = f"validation: '{report.get('scenario', '')}' simulated under '{policy}' vs history"
    dist = Table(title=title, title_justify="left")
    for col in ("what", "distance", "value"):
        dist.add_column(col, justify="right" if col == "value" else "left")
    for row in validating.distance_table(report).itertuples(index=False):
        value = row.value
        shown = "–" if value is None or value != value else f"{value:.4g}"
        dist.add_row(row.what, row.distance, shown)
    out_console.print(dist)
    weeks, months = validating.window_tables(report)
    table = Table(title="arrivals per week", title_justify="left")
    for col in ("week", "history", "simulated (mean)"):
        table.add_column(col, justify="right")
    for row in weeks.itertuples(index=False):
        table.add_row(str(row.week), str(row.history), f"{row.simulated:.1f}")
    out_console.print(table)
    table = Table(title="cycle time per month (median, min)", title_justify="left")
    for col in ("month", "cases", "history", "simulated"):
        table.add_column(col, justify="right")
    for row in months.itertuples(index=False):
        table.add_row(
            row.month,
            str(row.n_history),
            _fmt(row.p50_history, ""),
            _fmt(row.p50_simulated, ""),
        )
    out_console.print(table)


def _score(log, mapping, policy, reps, seed, since, until, scenario_ref, as_json) -> None:
    """``calibrate --score``: how close a given scenario comes to the history."""
    pol = _policies([policy])[0]
    try:
        scenario = config.load_scenario(scenario_ref)
    except config.ConfigError as exc:
        fail(str(exc))
    history = _load(log, mapping, False, since, until)
    with progress_bar(f"scoring {scenario.name}") as bar:
        report = validating.validate(scenario, history, pol, seed=seed, reps=reps, progress=bar)
    if as_json:
        sys.stdout.write(json.dumps(_clean({"validation": report}), indent=2) + "\n")
        return
    _print_validation(report, pol.name)


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and inf become null, tuples lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        return None
    return value
