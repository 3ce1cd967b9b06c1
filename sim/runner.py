"""Running replications: one seed in, one event log out, serial or in parallel.

This is exsim's one run path. :class:`RunSettings` says how a (scenario, policy) is run (master
seed, replications, warm-up, workers, backend): ``exsim run``, compare, sweep, check, staff, the
UI and ``sim.testing`` all build one. :func:`replication` is the only place a
:class:`~sim.engine.Simulation` is built; :func:`run` runs a (scenario, policy, settings) into a
log, and the experiments run their units through :func:`simulate`.

Replication r of seed s draws from ``Streams(s, r)``, so each replication's log depends only on
(scenario, policy, s, r), never on which process ran it or in which order: serial and parallel
runs produce identical logs. Replications run in worker processes when there are several and
more than one worker; their Arrow tables come back and are stacked in replication order, or,
when the log goes to a file, each replication streams its own file and the files are joined
row group by row group, so the memory of the parent stays flat however many there are.

Where workers are forked (Linux), a log that goes to a file is always simulated in worker
processes, even one replication on one worker: a simulation leaves the interpreter's
small-object arenas resident when it is freed (a few survivors pin each one: about 425 MiB
after a year at 10,000 orders a day), and the summary that reads the log next would sit on top
of them. Simulated in a child, that memory goes back to the system when the child ends, and the
parent reads the log from a clean heap.
"""

from __future__ import annotations

import gc
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, as_completed, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim import eventlog
from sim.engine import Simulation, World
from sim.outdir import write_run_dir  # noqa: F401  (the shared run-directory writer)
from sim.policies.schema import Policy
from sim.scenarios.schema import Scenario

Progress = Callable[[float], None]


@dataclass
class RunResult:
    """A finished run: its log in memory (``table``) or streamed to a Parquet file (``path``)."""

    table: pa.Table | None
    meta: eventlog.LogMeta
    wall_s: float
    path: Path | None = None

    @property
    def rows(self) -> int:
        if self.table is not None:
            return self.table.num_rows
        import pyarrow.parquet as pq

        return pq.read_metadata(self.path).num_rows

    def frame(self):
        """The log as a pandas DataFrame (read back from the file when streamed)."""
        if self.table is not None:
            return eventlog.to_pandas(self.table)
        return eventlog.read_log(self.path)


@dataclass(frozen=True)
class RunSettings:
    """How a (scenario, policy) is run, the same for every verb that runs one.

    ``seed`` is the master seed (replication r draws from ``Streams(seed, r)``), ``reps`` the
    number of replications, ``warmup_min`` the minutes at the start the KPIs leave out (the
    log keeps them), ``workers`` the processes (None: one per core), ``backend`` where an
    experiment's runs go (``sim.experiments.backends``: serial, processes, dask or a Dask
    scheduler address). The horizon belongs to the scenario (``horizon_days``)."""

    seed: int = 1
    reps: int = 1
    warmup_min: float = 0.0
    workers: int | None = None
    backend: Any = "processes"

    def check(self, scenario: Scenario) -> RunSettings:
        """``self``, or ValueError naming the setting that cannot run ``scenario``."""
        if self.seed < 0:
            raise ValueError(f"seed: must be >= 0 (got {self.seed})")
        if self.reps < 1:
            raise ValueError(f"reps: must be >= 1 (got {self.reps})")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers: must be >= 1 (got {self.workers})")
        if not 0 <= self.warmup_min < scenario.horizon_min:
            raise ValueError(
                f"warm-up: must lie in [0, {scenario.horizon_days:g} days) "
                f"(got {self.warmup_min / 1440.0:g} days)"
            )
        return self


def replication(
    scenario: Scenario,
    policy: Policy,
    seed: int,
    rep: int = 0,
    reps: int = 1,
    world: World | None = None,
) -> Simulation:
    """Replication ``rep`` of ``reps`` of ``seed``, ready to run: the one place a
    :class:`~sim.engine.Simulation` is built (``world`` swaps the generated world for another,
    e.g. a replayed history)."""
    return Simulation(scenario, policy, seed=seed, rep=rep, reps=reps, world=world)


def simulate(scenario: Scenario, policy: Policy, seed: int = 0, rep: int = 0, reps: int = 1):
    """One replication as an Arrow table (in memory)."""
    return replication(scenario, policy, seed, rep, reps).run().table()


def _one(args: tuple[Scenario, Policy, int, int, int, World | None]) -> pa.Table:
    scenario, policy, seed, rep, reps, world = args
    return replication(scenario, policy, seed, rep, reps, world).run().table()


#: Small objects a replication may leave behind before :func:`simulate_to` collects them at
#: once: a few days of a shipped scenario leave 30-60 thousand, a day of operations at 10,000
#: orders a day about half a million.
COLLECT_BLOCKS = 250_000


def simulate_to(
    path: Path,
    scenario: Scenario,
    policy: Policy,
    seed: int,
    rep: int,
    reps: int,
    progress: Progress | None = None,
) -> eventlog.LogMeta:
    """One replication streamed to the Parquet file ``path``; returns its final metadata.

    A large simulated world is freed before returning (a full collection: it is cyclic), so
    what comes next, another replication or the summary, does not stack on top of it. A full
    collection walks the whole heap, which in a host process (a notebook, a test session) costs
    more than a small world is worth, so a world that left fewer than :data:`COLLECT_BLOCKS`
    small objects behind is left to the collector's own schedule."""
    blocks = sys.getallocatedblocks()
    sim = replication(scenario, policy, seed, rep, reps)
    sink = eventlog.ParquetSink(path, sim.meta)
    sim.log.sink = sink
    try:
        sim.run(progress=progress)
    except BaseException:
        sink.abort()
        raise
    meta = sim.meta
    sink.close(meta)
    del sim
    if sys.getallocatedblocks() - blocks > COLLECT_BLOCKS:
        gc.collect()
    return meta


#: Each replication's share done, in shared memory, written by the worker that runs it (see
#: :func:`_simulated_apart`); set in a worker by :func:`_worker_init`.
_shares: Any = None
#: Seconds between two looks at the workers' progress.
PROGRESS_POLL_S = 0.2


def _one_to(args: tuple[Path, Scenario, Policy, int, int, int]) -> eventlog.LogMeta:
    rep, shares = args[4], _shares

    def progress(done: float) -> None:
        shares[rep] = done

    meta = simulate_to(*args, progress=progress if shares is not None else None)
    if rep < args[5] - 1:
        # A worker's heap is only what it simulates, so a full collection before its next
        # replication is cheap here; without it a world's cyclic garbage piled up from one
        # replication to the next (a compiled world can leave fewer blocks behind than
        # COLLECT_BLOCKS, which spares a host process the walk, and still tens of MiB).
        gc.collect()
    return meta


def forks() -> bool:
    """Whether worker processes are forked here (Linux): a forked worker starts at once, with
    everything already imported; elsewhere a worker starts a new interpreter and imports exsim."""
    import multiprocessing

    return multiprocessing.get_start_method() == "fork"


def _simulated_apart(jobs: list, workers: int, progress: Progress | None) -> list:
    """``[_one_to(job) for job in jobs]``, each in one of ``workers`` worker processes (at
    least one), reporting the share of all the replications done to ``progress`` as they go."""
    import multiprocessing

    shares = multiprocessing.RawArray("d", len(jobs))  # job r is replication r
    results: list = [None] * len(jobs)
    with process_pool(max(workers, 1), shares) as pool:
        futures = {pool.submit(_one_to, job): r for r, job in enumerate(jobs)}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=PROGRESS_POLL_S, return_when=FIRST_COMPLETED)
            for fut in done:
                results[futures[fut]] = fut.result()
                shares[futures[fut]] = 1.0
            if progress:
                progress(sum(shares) / len(jobs))
    return results


def _join(parts: list[Path], meta: eventlog.LogMeta, path: Path) -> None:
    """Replication files, in order, as one log file (a row group at a time)."""
    sink = eventlog.ParquetSink(path, meta)
    try:
        for part in parts:
            for batch in pq.ParquetFile(part).iter_batches(1 << 16):
                sink.write(batch)
    except BaseException:
        sink.abort()
        raise
    sink.close(meta)


def _map_in_order(fn: Callable, jobs: list, workers: int, progress) -> list:
    """``[fn(job) for job in jobs]``, in parallel on ``workers`` processes when more than one,
    reporting the share done to ``progress`` as each job finishes."""
    results: list = [None] * len(jobs)
    if workers <= 1:
        for r, job in enumerate(jobs):
            results[r] = fn(job)
            if progress:
                progress((r + 1) / len(jobs))
        return results
    with process_pool(workers) as pool:
        futures = {pool.submit(fn, job): r for r, job in enumerate(jobs)}
        for done, fut in enumerate(as_completed(futures), start=1):
            results[futures[fut]] = fut.result()
            if progress:
                progress(done / len(jobs))
    return results


def _run_to_files(scenario, policy, seed, reps, workers, progress, stream_to: Path):
    """Every replication streamed to its own file next to ``stream_to`` by worker processes,
    then joined there (one replication's file is simply moved there)."""
    where = Path(stream_to)
    tmp = Path(tempfile.mkdtemp(prefix=f".{where.name}.reps.", dir=where.parent))
    try:
        jobs = [(tmp / f"rep{r}.parquet", scenario, policy, seed, r, reps) for r in range(reps)]
        if forks() or workers > 1:
            metas = _simulated_apart(jobs, workers, progress)
        else:  # a new interpreter per run would cost more than the heap it spares
            metas = _map_in_order(_one_to, jobs, workers, progress)
        if reps == 1:
            os.replace(jobs[0][0], where)
            return metas[0]
        meta = eventlog.joined_meta(metas)
        _join([job[0] for job in jobs], meta, where)
        return meta
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run(
    scenario: Scenario,
    policy: Policy,
    settings: RunSettings = RunSettings(),
    progress: Progress | None = None,
    stream_to: Path | None = None,
    world: World | None = None,
) -> RunResult:
    """Run ``settings.reps`` replications and return their stacked log.

    With ``stream_to``, the log is streamed to that Parquet file in chunks as the run goes
    (memory stays flat on long horizons and in the number of replications) instead of kept in
    memory, by worker processes (see the module's docstring). A ``world`` (replay) runs its
    replications in this process, one after the other.
    """
    t0 = time.perf_counter()
    seed, reps = settings.seed, settings.reps
    workers = min(settings.workers or default_workers(), reps)
    if stream_to is not None and world is None:
        meta = _run_to_files(scenario, policy, seed, reps, workers, progress, Path(stream_to))
        return RunResult(None, meta, time.perf_counter() - t0, Path(stream_to))
    if stream_to is not None:
        raise ValueError("a replayed world runs in memory: no stream_to")
    if reps == 1:
        sim = replication(scenario, policy, seed, 0, 1, world)
        table = sim.run(progress=progress).table()
        meta = sim.meta
    else:
        if world is not None:
            workers = 1
        jobs = [(scenario, policy, seed, r, reps, world) for r in range(reps)]
        tables = _map_in_order(_one, jobs, workers, progress)
        meta = eventlog.joined_meta(
            [eventlog.LogMeta.from_bytes(t.schema.metadata[b"exsim"]) for t in tables]
        )
        table = eventlog.concat(tables, meta)
    return RunResult(table, meta, time.perf_counter() - t0)


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _worker_init(shares: Any = None) -> None:
    """Workers leave Ctrl-C to the parent (which stops them) and die on SIGTERM at once
    (``shares``: where they report each replication's progress, see :func:`_simulated_apart`).

    They are forked with both signals blocked (see :func:`process_pool`), so a Ctrl-C that
    reaches the whole process group while a worker is still starting cannot kill it half-way
    (the parent would then find a broken pool, or hang joining it); once the handlers are set,
    the signals are let through."""
    global _shares
    _shares = shares
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def _started() -> None:
    """Nothing: submitted once so that the pool forks its workers at a moment of our choosing."""


@contextmanager
def process_pool(workers: int, shares: Any = None) -> Iterator[ProcessPoolExecutor]:
    """A pool of worker processes that is torn down at once when the block fails.

    ``ProcessPoolExecutor``'s own exit waits for every queued run to finish, so an interrupted
    experiment (Ctrl-C, SIGTERM, an error in one run) would go on for minutes. Here the pending
    runs are cancelled and the workers terminated, so no process outlives the command.
    """
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init, initargs=(shares,))
    try:
        # Fork every worker now, with Ctrl-C and SIGTERM held back: a signal arriving meanwhile
        # is delivered when they are let through below, where this block tears the pool down.
        # (With fork, the pool starts all its workers at the first submit.)
        # The caller's objects are frozen out of the collector meanwhile, so that a worker's
        # collections do not walk (and so copy, page by page) the heap it shares with us.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        gc.freeze()
        try:
            pool.submit(_started).result()
        finally:
            gc.unfreeze()
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        yield pool
    except BaseException:
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
        raise
    pool.shutdown(wait=True)
