"""What every verb shares: the Typer app, consoles, the error exit and the progress bar.

Every verb loads its input through ``sim.config`` (one place that validates), so any bad input
ends the same way: one line on stderr naming the file and field, exit code 2, nothing written.
Verbs live in modules of this package, one per concern, each adding commands to ``app``.
"""

from __future__ import annotations

from contextlib import nullcontext

import typer
from rich.console import Console

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Simulate exception management policies for Odoo-run distribution operations.",
    pretty_exceptions_enable=False,
)
out_console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def progress_bar(label: str):
    """A rich progress bar on stderr when it is a terminal, else a no-op callback."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    if not err_console.is_terminal:
        return nullcontext(None)
    prog = Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )

    class _Bar:
        def __enter__(self):
            prog.__enter__()
            task = prog.add_task(label, total=1.0)
            return lambda frac: prog.update(task, completed=frac)

        def __exit__(self, *exc):
            return prog.__exit__(*exc)

    return _Bar()
