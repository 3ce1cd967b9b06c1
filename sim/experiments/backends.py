"""Where the runs of an experiment execute: in this process, in local processes, or on Dask.

Every backend does the same thing, ``map_runs(units) -> outcomes in unit order``: the units are
independent and fully seeded (:mod:`sim.experiments.jobs`), and results are put back in the
order of the units whatever order they finish in, so the answer is identical for any backend
and worker count. Only the wall-clock time differs.

- ``"serial"``: one after the other in this process (debugging, tiny experiments).
- ``"processes"`` (default): a pool of local worker processes, one per core by default.
- ``"dask"``: a Dask cluster; the default client if one is running, else a local cluster of
  ``workers`` processes. A scheduler address (``"tcp://scheduler:8786"``) or a
  ``distributed.Client`` runs the same units on a remote cluster. Dask is imported only here,
  only then (``pip install 'exsim[dask]'``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import as_completed
from contextlib import ExitStack
from typing import Any

from sim.experiments.jobs import Outcome, Unit, run_unit
from sim.runner import RunSettings, default_workers, process_pool

Progress = Callable[[float], None]
BACKENDS = ("serial", "processes", "dask")
_ADDRESS = re.compile(r"^([a-z]+://)?[\w.\-\[\]:]+:\d+$")


class BackendError(ValueError):
    """A backend that cannot be used (unknown name, Dask missing); one line for the user."""


def check_backend(backend: Any) -> None:
    """Raise :class:`BackendError` unless ``backend`` names a usable backend."""
    if isinstance(backend, str) and (backend in BACKENDS or _ADDRESS.match(backend)):
        if backend != "serial" and backend != "processes":
            _distributed()
        return
    if hasattr(backend, "submit") and hasattr(backend, "gather"):
        return
    raise BackendError(
        f"backend: unknown {backend!r}; use serial, processes, dask or a Dask scheduler "
        "address such as tcp://scheduler:8786"
    )


def map_runs(
    units: Sequence[Unit],
    settings: RunSettings = RunSettings(),
    progress: Progress | None = None,
) -> list[Outcome]:
    """Run every unit on ``settings.backend`` with ``settings.workers``; outcomes come back in
    the order of ``units``.

    ``progress`` is called with the fraction of units finished after each one.
    """
    backend, workers = settings.backend, settings.workers
    check_backend(backend)
    units = list(units)
    if not units:
        return []
    n = len(units)
    tick = _ticker(n, progress)
    if backend == "serial" or (backend == "processes" and _workers(workers, n) <= 1):
        out = []
        for unit in units:
            out.append(run_unit(unit))
            tick()
        return out
    if backend == "processes":
        return _processes(units, _workers(workers, n), tick)
    return _dask(units, backend, workers, tick)


def _workers(workers: int | None, n: int) -> int:
    return max(1, min(workers or default_workers(), n))


def _ticker(n: int, progress: Progress | None) -> Callable[[], None]:
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0] / n)

    return tick


def _processes(units: list[Unit], workers: int, tick: Callable[[], None]) -> list[Outcome]:
    out: list[Outcome | None] = [None] * len(units)
    with process_pool(workers) as pool:
        futures = {pool.submit(run_unit, unit): i for i, unit in enumerate(units)}
        for fut in as_completed(futures):
            out[futures[fut]] = fut.result()
            tick()
    return out  # type: ignore[return-value]


def _distributed():
    try:
        import distributed
    except ImportError:
        raise BackendError(
            "the dask backend needs dask[distributed]: pip install 'exsim[dask]'"
        ) from None
    return distributed


def _dask(units: list[Unit], backend: Any, workers: int | None, tick) -> list[Outcome]:
    distributed = _distributed()
    with ExitStack() as stack:
        if isinstance(backend, str) and backend != "dask":
            client = stack.enter_context(distributed.Client(backend))
        elif isinstance(backend, str):
            try:
                client = distributed.get_client()
            except ValueError:
                cluster = stack.enter_context(
                    distributed.LocalCluster(
                        n_workers=workers or default_workers(),
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                    )
                )
                client = stack.enter_context(distributed.Client(cluster))
        else:
            client = backend
        # pure=False: equal units are still separate runs; keys keep them apart
        futures = client.map(run_unit, units, pure=False)
        index = {fut.key: i for i, fut in enumerate(futures)}
        out: list[Outcome | None] = [None] * len(units)
        for fut in distributed.as_completed(futures):
            out[index[fut.key]] = fut.result()
            tick()
        return out  # type: ignore[return-value]
