"""Every row of the speed table (issue 18), each as a ratio to a baseline measured in this run.

    python benchmarks/run_all.py [--days 365] [--reps-days 7] [--repeat 3] [--quick]
                                 [--rows speed,rss,reps,startup]

Rows, in the order of the table:

1. exsim's engine configured as an M/M/c ÷ a bare SimPy M/M/c loop (customers/s);
2. the default injected scenario over ``--days`` ÷ bare SimPy;
3. operations mode at 10,000 orders/day (the reference world of ``bench_operations.py``),
   orders/s ÷ bare SimPy customers/s, and the world build (Faker master data) in seconds;
4. peak RSS of a whole ``exsim run`` (simulation, streamed log, summary) of ``--days`` at
   10,000 orders/day, ÷ the 1 GiB goal, and ÷ the same run over a tenth of the horizon (flat
   in the horizon means ≈ 1);
5. peak RSS of ``exsim run --reps 4`` ÷ ``--reps 1`` (one worker, so the parent holds
   whatever it keeps: flat in R means ≈ 1);
6. ``exsim --help`` CPU time ÷ ``python -c pass``, and its absolute seconds;
7. the pytest plugin's import cost: ``import pytest, sim.testing`` ÷ ``import pytest`` (CPU).

The whole-run rows (4-5) start ``python -m sim run`` from a small launcher that samples the
command's whole process tree (``exsim run`` simulates in a worker process and summarises in the
parent): the peak of the sum of the RSS of the processes alive at the same moment, with the PSS
sum and the largest single-process peak (``ru_maxrss``) beside it (``bench_rss.py``).
With a compiled build (``python tools/compile.py``) rows 1-3 are printed twice:
compiled, then pure Python (``EXSIM_PURE=1``, in a child process), each against its own bare
SimPy baseline. Rates and start-up times are CPU time, as the machine may be shared. ``--quick``
shortens every horizon (for a smoke run; the figures are then not the table's). ``--rows``
runs only some groups of rows: ``speed`` (1-3), ``rss`` (4), ``reps`` (5), ``startup`` (6-7).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_engine import LAM_PER_HOUR, SERVERS, SERVICE_MIN, bare_simpy  # noqa: E402
from bench_operations import desk, reference  # noqa: E402
from bench_rss import describe, exsim_run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GIB = 1024**3
#: Groups of rows ``--rows`` selects, in the order of the table.
GROUPS = ("speed", "rss", "reps", "startup")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


# Started from a small process: Linux carries the peak RSS of the process that forks into the
# child's own peak (exec keeps the larger of the two), so a child forked straight from this
# benchmark, which holds a few hundred MiB by then, would report at least that much.
_LAUNCHER = """
import os, subprocess, sys, time
t0 = time.perf_counter()
pid = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL).pid
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - t0
print(os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""


def _child(args: list[str]) -> tuple[float, float, int]:
    """(wall s, CPU s, peak RSS bytes) of ``python args`` in a fresh child process."""
    with tempfile.TemporaryFile() as err:
        done = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, sys.executable, *args],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        code, wall, cpu, maxrss_kib = done.stdout.split()
        if int(code) != 0 or done.returncode != 0:
            err.seek(0)
            raise SystemExit(f"failed: python {' '.join(args)}\n{err.read().decode()}")
    return float(wall), float(cpu), int(maxrss_kib) * 1024


def _best_cpu(args: list[str], repeat: int) -> float:
    """Least CPU seconds of ``repeat`` runs (the machine may be shared; wall time would lie)."""
    return min(_child(args)[1] for _ in range(repeat))


def best_rate(fn, repeat: int) -> float:
    """Most items per CPU second of ``repeat`` calls of ``fn`` (which returns its item count).

    CPU time, not wall time: on a shared machine the wall clock also counts other people's work.
    """
    best = 0.0
    for _ in range(repeat):
        t0 = time.process_time()
        n = fn()
        best = max(best, n / (time.process_time() - t0))
    return best


def orders_per_cpu_second(days: float) -> tuple[float, float]:
    """(orders per CPU second of the run, CPU seconds building the world) at 10,000 orders/day."""
    from sim.engine import Simulation

    scen, pol = reference(days), desk()
    t0 = time.process_time()
    sim = Simulation(scen, pol, seed=1)
    t1 = time.process_time()
    sim.run()
    return sim.world.outcomes.counts["orders"] / (time.process_time() - t1), t1 - t0


def row(case: str, ratio: float, detail: str) -> None:
    print(f"{case:<58} {ratio:>7.2f}x  {detail}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--reps-days", type=float, default=7.0)
    parser.add_argument("--ops-days", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="short horizons (smoke run)")
    parser.add_argument("--rates-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rows", default=",".join(GROUPS), help=f"of {', '.join(GROUPS)}")
    args = parser.parse_args()
    args.rows = set(args.rows.split(","))
    if not args.rows <= set(GROUPS):
        parser.error(f"--rows: unknown {', '.join(sorted(args.rows - set(GROUPS)))}")
    if args.quick:
        args.days, args.reps_days, args.ops_days, args.repeat = 20.0, 1.0, 1.0, 1

    from sim.compiled import status

    build = status()
    if args.rates_only:  # the child that measures the pure-Python rows
        rates(args, " [pure]")
        return
    print(f"exsim {build['mode']}: {build['reason']}")
    print(f"{'case':<58} {'ratio':>8}  detail")
    if "speed" in args.rows:
        rates(args, " [compiled]" if build["mode"] == "compiled" else "")
    if "speed" in args.rows and build["mode"] == "compiled":
        # the fallback's figures too, from a pure-Python child
        sys.stdout.flush()
        subprocess.run(
            [sys.executable, __file__, *sys.argv[1:], "--rates-only"],
            env={**_env(), "EXSIM_PURE": "1"},
            check=True,
        )
    memory_and_startup(args)


def rates(args, label: str) -> None:
    """Rows 1-3 (and the world build), in this process: compiled or pure as imported."""
    from sim.config import load_policy, load_scenario
    from sim.engine import Simulation
    from sim.reference import mmc

    def cases_per_s(scen, pol) -> int:
        return Simulation(scen, pol, seed=1).run().n_cases

    bare = best_rate(lambda: bare_simpy(60.0), args.repeat)
    scen, pol = mmc(LAM_PER_HOUR, SERVICE_MIN, SERVERS, 60.0)
    engine = best_rate(lambda: cases_per_s(scen, pol), args.repeat)
    row(
        f"engine as M/M/c ÷ bare SimPy M/M/c{label}",
        engine / bare,
        f"{engine:,.0f} vs {bare:,.0f} /s",
    )
    default = load_scenario("default", {"horizon_days": args.days})
    default_rate = best_rate(lambda: cases_per_s(default, load_policy("default")), args.repeat)
    row(
        f"default injected scenario, {args.days:g} d ÷ bare SimPy{label}",
        default_rate / bare,
        f"{default_rate:,.0f} cases/s",
    )
    ops, build = max(orders_per_cpu_second(args.ops_days) for _ in range(min(args.repeat, 2)))
    row(
        f"operations, 10,000 orders/day: orders/s ÷ bare SimPy{label}",
        ops / bare,
        f"{ops:,.0f} orders/s ({1e6 / ops:.0f} µs per order)",
    )
    row(
        f"world build (5,000 customers and products) ÷ 0.5 s goal{label}",
        build / 0.5,
        f"{build:.2f} s",
    )


def memory_and_startup(args) -> None:
    """Rows 4-7: whole runs and start-up, each in a fresh child process."""

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if "rss" in args.rows:
            long = exsim_run(tmp, args.days)
            short = exsim_run(tmp, args.days / 10)
            row(
                f"exsim run {args.days:g} d at 10k orders/day: peak RSS ÷ 1 GiB",
                long["tree_rss"] / GIB,
                describe(long),
            )
            row(
                f"  the same ÷ a run of {args.days / 10:g} d (flat in horizon: ≈ 1)",
                long["tree_rss"] / short["tree_rss"],
                f"PSS {long['tree_pss'] / short['tree_pss']:.2f}x; {describe(short)}",
            )
        if "reps" in args.rows:
            one = exsim_run(tmp, args.reps_days, reps=1)
            four = exsim_run(tmp, args.reps_days, reps=4)
            row(
                f"exsim run --reps 4 ÷ --reps 1 ({args.reps_days:g} d): peak RSS",
                four["tree_rss"] / one["tree_rss"],
                f"{four['tree_rss'] / 2**20:,.0f} vs {one['tree_rss'] / 2**20:,.0f} MiB "
                f"(PSS {four['tree_pss'] / one['tree_pss']:.2f}x)",
            )
    if "startup" in args.rows:
        _startup(args)
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss:,} KiB")


def _startup(args) -> None:
    """Rows 6-7: ``exsim --help`` and the pytest plugin's import, in CPU time."""
    bare_start = _best_cpu(["-c", "pass"], args.repeat + 2)
    help_s = _best_cpu(["-m", "sim", "--help"], args.repeat + 2)
    row("exsim --help ÷ python -c pass", help_s / bare_start, f"{help_s:.2f} s (goal < 0.5 s)")
    pytest_s = _best_cpu(["-c", "import pytest"], args.repeat + 2)
    plugin_s = _best_cpu(["-c", "import pytest, sim.testing"], args.repeat + 2)
    row(
        "import pytest + the exsim plugin ÷ import pytest",
        plugin_s / pytest_s,
        f"plugin adds {max(plugin_s - pytest_s, 0):.3f} s (goal < 0.2 s)",
    )


if __name__ == "__main__":
    main()
