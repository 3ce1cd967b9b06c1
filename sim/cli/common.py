"""What every verb shares: the Typer app, consoles, the error exit and the progress bar.

Every verb loads its input through ``sim.config`` (one place that validates), so any bad input
ends the same way: one line on stderr naming the file and field, exit code 2, nothing written.
Verbs live in modules of this package, one per concern, each adding commands to ``app``.

The app's command group (:class:`ExsimGroup`) is the last line of defence for what no verb
can foresee: a full disk or another operating-system refusal, input nested too deeply, a number
too large, an output exsim may not overwrite all become one line and exit 2; Ctrl-C ends with
exit 130 and SIGTERM with exit 143, after the run's temporary files are removed and its worker
processes stopped. Every float option refuses ``inf`` and ``nan``.
"""

from __future__ import annotations

import errno
import math
import os
import signal
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import click
import typer
import typer.core
from rich.console import Console
from typer.core import TyperGroup

from sim import outdir

#: Arrow allocates from the C library's heap in every verb (read once, when pyarrow is first
#: imported, which the verbs do lazily): its default, mimalloc, keeps the pages of the many
#: short-lived buffers a streamed log and its summary go through (some 80 MiB of a 90-day
#: run's peak at 10,000 orders a day), glibc's are handed back (``stream.give_back_memory``).
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


class Terminated(BaseException):
    """SIGTERM arrived: unwind (cleaning up on the way) and exit 143."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


def _finite_floats(command: click.Command) -> None:
    """Make ``command`` (and its subcommands) refuse ``inf``/``nan`` for any float option: a
    horizon of ``inf`` days would run forever."""
    original = command.invoke

    def invoke(ctx: click.Context):
        for name, value in ctx.params.items():
            if isinstance(value, float) and not math.isfinite(value):
                fail(f"--{name.replace('_', '-')}: must be a finite number (got {value})")
        return original(ctx)

    command.invoke = invoke  # type: ignore[method-assign]
    for sub in getattr(command, "commands", {}).values():
        _finite_floats(sub)


class ExsimGroup(TyperGroup):
    """The top-level command group: turns what escapes a verb into one line and an exit code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for sub in self.commands.values():
            _finite_floats(sub)

    def main(self, *args: Any, **kwargs: Any):
        if threading.current_thread() is not threading.main_thread():
            return super().main(*args, **kwargs)
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            return super().main(*args, **kwargs)
        finally:
            signal.signal(signal.SIGTERM, previous)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            _error("interrupted; nothing was written")
            raise typer.Exit(130) from None
        except Terminated:
            _error("terminated; nothing was written")
            raise typer.Exit(143) from None
        except outdir.OutputError as exc:
            _error(str(exc))
        except OSError as exc:
            _error(os_error_line(exc))
        except RecursionError:
            _error("input nested too deeply (more levels than exsim reads)")
        except OverflowError as exc:
            _error(f"a number is too large: {exc}")
        raise typer.Exit(2)


def os_error_line(exc: OSError) -> str:
    """An operating-system refusal as one line naming the file."""
    where = f"{exc.filename}: " if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{where}no space left on device; nothing was written"
    reason = exc.strerror or (str(exc).splitlines() or [type(exc).__name__])[0]
    return f"{where}{reason}"


def _error(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)


app = typer.Typer(
    cls=ExsimGroup,
    add_completion=False,
    no_args_is_help=True,
    help="Simulate exception management policies for Odoo-run distribution operations.",
    pretty_exceptions_enable=False,
)
out_console = Console()
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            out_console.print(f"exsim {version('exsim')}", highlight=False)
        except PackageNotFoundError:
            out_console.print("exsim (not installed: running from a source tree)")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: bool = typer.Option(
        False,
        "--version",
        help="Print the exsim version and exit.",
        callback=_version,
        is_eager=True,
    ),
) -> None:
    """Simulate exception management policies for Odoo-run distribution operations."""


def _flag_type(self, ctx):
    """An on/off flag takes no value, so its help shows no type (typer labels it ``<bool>``)."""
    return None if self.is_flag else _value_type(self, ctx)


_value_type = typer.core.TyperOption.display_type_rich
typer.core.TyperOption.display_type_rich = _flag_type


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force", help="Replace an existing output exsim did not write (after the run succeeds)."
    ),
]


def checked_out_dir(out: Path, force: bool) -> None:
    """Refuse (exit 2) a run-directory ``--out`` exsim may not replace; else make its folder."""
    try:
        outdir.check_dir(out, force)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
    except outdir.OutputError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{out}: cannot create its folder: {exc.strerror or exc}")
    outdir.sweep_stale(Path(out).parent)


def checked_out_file(out: Path, force: bool) -> None:
    """Refuse (exit 2) an output file exsim may not overwrite."""
    try:
        outdir.check_file(out, force)
    except outdir.OutputError as exc:
        fail(str(exc))


def check_seed(seed: int) -> None:
    if seed < 0:
        fail(f"--seed: must be >= 0 (got {seed})")


def check_warmup(warmup_days: float, horizon_days: float) -> None:
    if warmup_days >= horizon_days:
        fail(
            f"--warmup-days: must be less than the horizon ({horizon_days:g} days; "
            f"got {warmup_days:g})"
        )


def run_settings(scenario, seed: int, reps: int, warmup_days: float, workers, backend="processes"):
    """The ``sim.runner.RunSettings`` of a verb's flags, checked against the scenario; a bad
    flag ends as one line naming it (exit 2)."""
    from sim.runner import RunSettings

    check_seed(seed)
    check_warmup(warmup_days, scenario.horizon_days)
    settings = RunSettings(seed, reps, warmup_days * 1440.0, workers, backend)
    try:
        return settings.check(scenario)
    except ValueError as exc:
        fail(str(exc))


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
