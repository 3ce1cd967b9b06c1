"""``exsim ui``: the what-if page, served on this machine (loopback unless told otherwise).

The web framework (NiceGUI, the ``ui`` extra) is imported only when the verb runs, so
``exsim --help`` and every other verb stay free of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import app, check_seed, fail, out_console


@app.command(name="ui")
def ui_command(
    host: Annotated[
        str, typer.Option(help="Address to bind; 0.0.0.0 opens the page to your network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8765,
    scenario_dir: Annotated[
        Path | None,
        typer.Option(help="Folder of your own scenario and policy YAML files, offered as well."),
    ] = None,
    save_dir: Annotated[
        Path, typer.Option(help="Where saved policies and reports go (never overwritten).")
    ] = Path("runs/ui"),
    seed: Annotated[int, typer.Option(help="Master seed of the pinned starting point.")] = 1,
    reps: Annotated[int, typer.Option(min=1, max=50, help="Replications per run.")] = 2,
    days: Annotated[float, typer.Option(help="Horizon of every run, in days.")] = 14.0,
    workers: Annotated[int | None, typer.Option(min=1, help="Processes (default: cores).")] = None,
) -> None:
    """A local what-if page: pick a scenario and policy, move levers, re-run against the start."""
    check_seed(seed)
    if not 0 < days <= 3660:
        fail(f"--days: must be in (0, 3660] (got {days:g})")
    if scenario_dir is not None and not scenario_dir.is_dir():
        fail(f"--scenario-dir: {scenario_dir}: not a folder")
    try:
        import nicegui  # noqa: F401
    except ImportError:
        fail("exsim ui needs the ui extra: pip install 'exsim[ui]'")
    from sim import config
    from sim.ui.page import Options, serve
    from sim.ui.session import offered

    try:
        scenarios = offered("scenarios", scenario_dir)
        policies = offered("policies", scenario_dir)
    except config.ConfigError as exc:
        fail(str(exc))
    opts = Options(scenarios, policies, save_dir, seed, reps, days, workers)
    out_console.print(f"exsim what-if page on http://{host}:{port}/ (Ctrl+C stops it)")
    serve(host, port, opts)
