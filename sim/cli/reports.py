"""The reporting verbs: ``report`` (a self-contained HTML page) and ``export`` (other formats).

``exsim report runs/a --compare runs/b`` (writing ``runs/a/report.html``) reads run
directories as ``exsim run`` writes them; ``exsim export runs/a -o log.xes`` writes the event
log as CSV, Parquet, XES or OCEL 2.0 JSON (by extension, or ``--format``). Bad input ends as
everywhere in exsim: one line naming the file, exit 2, nothing written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import ForceOpt, app, checked_out_file, fail, out_console, progress_bar


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="Run directory written by `exsim run`.")],
    compare: Annotated[
        list[Path] | None,
        typer.Option("--compare", "-c", help="Run directories to compare with (repeatable)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="HTML file to write. Default: report.html inside RUN_DIR."
        ),
    ] = None,
    charts: Annotated[
        Path | None, typer.Option("--charts", help="Also save every chart here (PNG and SVG).")
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Write one self-contained HTML report (KPIs, comparison with CIs, charts, settings).

    RUN_DIR may also be an `exsim compare --out` directory: all its policies are reported,
    the first as the reference. The page goes next to what it reports on (RUN_DIR/report.html)
    unless -o says otherwise."""
    from sim.reports.html import write_report
    from sim.reports.rundir import RunDirError, expand, load_run_dir

    try:
        dirs = [d for p in [run_dir, *(compare or [])] for d in expand(p)]
        runs = [load_run_dir(d) for d in dirs]
    except RunDirError as exc:
        fail(str(exc))
    out = out if out is not None else run_dir / "report.html"
    checked_out_file(out, force)
    replaced = out.exists()
    with progress_bar("report") as bar:
        write_report(runs, out, charts_dir=charts, progress=bar)
    verb = "replaced the earlier report" if replaced else "wrote"
    out_console.print(f"[dim]{verb} {out} (open it in a browser)[/]", highlight=False)


@app.command()
def export(
    log: Annotated[Path, typer.Argument(help="events.parquet, or a run directory.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="csv, parquet, xes or ocel (default: by extension)."),
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Export an event log as CSV, Parquet, XES or OCEL 2.0 JSON for other tools."""
    from sim.eventlog import read_log
    from sim.exports import FORMATS, export, format_of

    source = log / "events.parquet" if log.is_dir() else log
    if not source.is_file():
        fail(f"{source}: no such event log")
    if fmt is not None and fmt not in FORMATS:
        fail(f"--format: unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    try:
        fmt = fmt or format_of(out)
    except ValueError as exc:
        fail(str(exc))
    checked_out_file(out, force)
    try:
        df = read_log(source)
    except Exception as exc:  # pyarrow raises many kinds for a file that is not Parquet
        fail(f"{source}: not a readable Parquet event log ({str(exc).splitlines()[0]})")
    if "meta" not in df.attrs:
        fail(f"{source}: no exsim metadata (start, horizon) in the Parquet file")
    with progress_bar(f"export {fmt}"):
        export(df, out, fmt=fmt)
    out_console.print(f"[dim]wrote {out} ({fmt}, {len(df):,} events)[/]", highlight=False)
