"""Operations-mode throughput and memory at the reference size of 10,000 orders a day.

Prints orders simulated per second for the baseline distributor scaled to 10,000 orders/day
(every exception it raises logged), as a ratio to bare SimPy M/M/c customers/s measured in the
same run (goal >= 1.0x), the time to build that world (5,000 customers and products; goal
< 0.5 s), and the peak memory (max RSS) of a long run at that size with the event log
streamed to Parquet in chunks (target <= 1 GiB for 365 days). Rates are CPU time, best of
``--repeat``, as the machine may be shared.

    python benchmarks/bench_operations.py [--days 5] [--memory-days 365] [--both]

The first line says whether exsim's hot modules ran compiled (``python tools/compile.py``; the
operations world, its arrival clock and streams, the engine) or as pure Python; ``--both`` also
runs the rates again as pure Python (``EXSIM_PURE=1``) in a child process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_engine import bare_simpy  # noqa: E402

from sim import runner  # noqa: E402
from sim.compiled import status  # noqa: E402
from sim.config import load_policy, load_scenario  # noqa: E402

PICKERS = [
    {
        "name": "early",
        "days": ["mon", "tue", "wed", "thu", "fri", "sat"],
        "start": "06:00",
        "end": "14:00",
        "agents": 100,
    },
    {
        "name": "late",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "14:00",
        "end": "22:00",
        "agents": 80,
    },
]


def desk():
    """The lean desk staffed for 25x the baseline's volume (it keeps up, as a real desk must)."""
    return load_policy(
        "lean-desk",
        {
            "staffing.teams.desk.shifts": [
                {
                    "name": "early",
                    "days": ["mon", "tue", "wed", "thu", "fri"],
                    "start": "06:00",
                    "end": "14:00",
                    "agents": 150,
                },
                {
                    "name": "late",
                    "days": ["mon", "tue", "wed", "thu", "fri"],
                    "start": "14:00",
                    "end": "22:00",
                    "agents": 125,
                },
                {
                    "name": "saturday",
                    "days": ["sat"],
                    "start": "07:00",
                    "end": "15:00",
                    "agents": 75,
                },
            ]
        },
    )


def reference(days: float):
    """The baseline distributor at 10,000 orders a day (staffed for it)."""
    return load_scenario(
        "baseline",
        {
            "horizon_days": days,
            "operations.demand.orders_per_day": 10_000,
            "operations.master_data.customers": 5_000,
            "operations.master_data.products": 5_000,
            "operations.warehouse.pickers": PICKERS,
        },
    )


def orders_per_second(days: float, clock=time.perf_counter) -> tuple[float, float]:
    """(orders simulated per second of running, seconds spent building the world)."""
    from sim.engine import Simulation

    scen, pol = reference(days), desk()
    t0 = clock()
    sim = Simulation(scen, pol, seed=1)
    t1 = clock()
    sim.run()
    orders = sim.world.outcomes.counts["orders"]
    return orders / (clock() - t1), t1 - t0


def bare_rate(days: float, repeat: int) -> float:
    """Bare SimPy M/M/c customers per CPU second, best of ``repeat``."""
    best = 0.0
    for _ in range(repeat):
        t0 = time.process_time()
        n = bare_simpy(days)
        best = max(best, n / (time.process_time() - t0))
    return best


def memory_child(days: float) -> None:
    """Run ``days`` streaming the log; print orders, rows and max RSS (MiB) as JSON."""
    import resource

    scen, pol = reference(days), desk()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = runner.run(
            scen, pol, runner.RunSettings(seed=1), stream_to=Path(tmp) / "events.parquet"
        )
        wall = time.perf_counter() - t0
        rows = result.rows
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "days": days,
                "rows": rows,
                "wall_s": wall,
                "max_rss_mib": rss,
                "orders": result.meta.extra["operations"]["orders"]["orders"],
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=5.0)
    parser.add_argument("--memory-days", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--child", type=float, help=argparse.SUPPRESS)
    parser.add_argument(
        "--both", action="store_true", help="then the rates again as pure Python (EXSIM_PURE=1)"
    )
    args = parser.parse_args()
    if args.child:
        memory_child(args.child)
        return
    build = status()
    print(f"exsim {build['mode']}: {build['reason']}")
    bare = bare_rate(30.0, args.repeat)
    runs = [orders_per_second(args.days, time.process_time) for _ in range(args.repeat)]
    ops = max(r for r, _ in runs)
    build = runs[0][1]  # the first build in this process, imports included
    print(f"bare SimPy M/M/c                 {bare:>10,.0f} customers/s  1.00x (baseline)")
    print(
        f"operations, 10k orders/day       {ops:>10,.0f} orders/s     {ops / bare:.2f}x"
        f"   ({1e6 / ops:.1f} µs per order; goal >= 1.0x)"
    )
    print(f"world build, 5,000 customers and products   {build:.2f} s CPU   (goal < 0.5 s)")
    if args.memory_days:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(args.memory_days)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        m = json.loads(out.strip().splitlines()[-1])
        print(
            f"{m['days']:g} days streamed: {m['orders']:,} orders, {m['rows']:,} log rows, "
            f"{m['wall_s']:.0f} s, peak memory {m['max_rss_mib']:,.0f} MiB "
            f"({m['max_rss_mib'] / 1024:.2f} of the 1 GiB target)"
        )
    if args.both and build["mode"] == "compiled":
        child = [a for a in sys.argv[1:] if a != "--both"]
        child += ["--memory-days", "0"]  # the same simulation: its memory once is enough
        subprocess.run(
            [sys.executable, __file__, *child], env={**os.environ, "EXSIM_PURE": "1"}, check=True
        )


if __name__ == "__main__":
    main()
