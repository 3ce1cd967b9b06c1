"""The flags of every verb that runs the model, defined once.

``exsim run``, ``compare``, ``sweep``, ``check`` and ``staff`` all take the horizon override,
the master seed, the replications, the warm-up and the workers (the experiment verbs also a
backend). :func:`run_flags` adds them to a verb, which receives them as one :class:`RunFlags`
(keyword-only parameter ``flags``) and turns them into the scenario it runs and the
:class:`sim.runner.RunSettings` it runs it with.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from sim.cli.common import fail, run_settings


@dataclass(frozen=True)
class RunFlags:
    """What the user asked of the run, as given on the command line."""

    reps: int = 1
    days: float | None = None
    seed: int = 1
    warmup_days: float = 0.0
    workers: int | None = None
    backend: str = "processes"
    dask: str | None = None

    def scenario(self, ref: str):
        """The scenario ``ref`` with ``--days`` applied (``ConfigError`` for the caller)."""
        from sim import config

        if self.days is not None and self.days <= 0:
            fail(f"--days: must be > 0 (got {self.days:g})")
        return config.load_scenario(
            ref, {"horizon_days": self.days} if self.days is not None else None
        )

    def settings(self, scenario):
        """The checked run settings for ``scenario`` (a bad flag: one line, exit 2)."""
        chosen = self.dask if self.dask is not None else self.backend
        if chosen != "processes":  # the default needs no check (nor the experiments' import)
            from sim.experiments import backends

            try:
                backends.check_backend(chosen)
            except backends.BackendError as exc:
                fail(str(exc))
        return run_settings(scenario, self.seed, self.reps, self.warmup_days, self.workers, chosen)


def _option(name: str, kind: Any, default: Any, *flags: str, **info: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[kind, typer.Option(*flags, **info)],
    )


def _flags(reps: int, reps_help: str, experiment: bool) -> list[inspect.Parameter]:
    out = [
        _option("reps", int, reps, "--reps", min=1, help=reps_help),
        _option("days", float | None, None, "--days", help="Override the scenario horizon (days)."),
        _option("seed", int, 1, "--seed", help="Master seed; replication r uses Streams(seed, r)."),
        _option(
            "warmup_days",
            float,
            0.0,
            "--warmup-days",
            min=0,
            help="Days at the start left out of the KPIs (the desk starts empty, which flatters "
            "the first days); the logs keep them.",
        ),
        _option(
            "workers",
            int | None,
            None,
            "--workers",
            min=1,
            help="Worker processes (default: all cores).",
        ),
    ]
    if experiment:
        out += [
            _option("backend", str, "processes", "--backend", help="serial, processes or dask."),
            _option(
                "dask",
                str | None,
                None,
                "--dask",
                help="Dask scheduler address, e.g. tcp://host:8786.",
            ),
        ]
    return out


def run_flags(reps: int = 1, reps_help: str = "Replications.", experiment: bool = True):
    """Give a verb ``fn(..., *, flags: RunFlags)`` the run flags in place of ``flags``."""
    options = _flags(reps, reps_help, experiment)

    def wrap(fn: Callable) -> Callable:
        own = inspect.signature(fn, eval_str=True).parameters.values()
        own = [p for p in own if p.name != "flags"]

        @functools.wraps(fn)
        def verb(*args: Any, **kw: Any) -> Any:
            given = {p.name: kw.pop(p.name, p.default) for p in options}
            return fn(*args, flags=RunFlags(**given), **kw)

        params = own + options
        verb.__signature__ = inspect.Signature(params)  # what typer reads
        verb.__annotations__ = {p.name: p.annotation for p in params}
        return verb

    return wrap
