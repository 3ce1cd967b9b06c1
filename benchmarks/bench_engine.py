"""Engine throughput against bare SimPy, measured in the same process run.

Prints cases simulated per CPU second for (1) a bare SimPy M/M/c loop (a process per customer and
a ``simpy.Resource``, nothing recorded), (2) exsim's engine configured as the same M/M/c (every
event logged), and (3) exsim's default scenario over a long horizon, each as a ratio to (1).
CPU time, not wall time: on a shared machine the wall clock also counts other people's work.
Goals (issue 18): (2) >= 1.0x and (3) >= 0.8x bare SimPy. Usage:

    python benchmarks/bench_engine.py [--days 365] [--repeat 3]
    EXSIM_PURE=1 python benchmarks/bench_engine.py     (pure Python, when a compiled build exists)

The first line says whether exsim's hot modules ran compiled (``python tools/compile.py``) or as
pure Python; ``--both`` also runs the rows again as pure Python in a child process.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import simpy

from sim.compiled import status
from sim.config import load_policy, load_scenario
from sim.engine import Simulation
from sim.reference import mmc

LAM_PER_HOUR, SERVICE_MIN, SERVERS = 54.0, 3.0, 3


def bare_simpy(days: float, seed: int = 0) -> int:
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    desk = simpy.Resource(env, SERVERS)
    done = [0]

    def customer(env):
        with desk.request() as req:
            yield req
            yield env.timeout(rng.exponential(SERVICE_MIN))
        done[0] += 1

    def source(env):
        while True:
            yield env.timeout(rng.exponential(60.0 / LAM_PER_HOUR))
            env.process(customer(env))

    env.process(source(env))
    env.run(until=days * 1440)
    return done[0]


def best_rate(fn, repeat: int) -> float:
    """Most items per CPU second of ``repeat`` calls of ``fn`` (which returns its item count)."""
    best = 0.0
    for _ in range(repeat):
        t0 = time.process_time()
        n = fn()
        best = max(best, n / (time.process_time() - t0))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--mmc-days", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--both", action="store_true", help="then the same rows as pure Python (EXSIM_PURE=1)"
    )
    args = parser.parse_args()
    build = status()
    print(f"exsim {build['mode']}: {build['reason']}")

    bare = best_rate(lambda: bare_simpy(args.mmc_days), args.repeat)
    scen, pol = mmc(LAM_PER_HOUR, SERVICE_MIN, SERVERS, args.mmc_days)
    engine_mmc = best_rate(lambda: Simulation(scen, pol, seed=1).run().n_cases, args.repeat)
    default = load_scenario("default", {"horizon_days": args.days})
    default_pol = load_policy("default")
    engine_default = best_rate(
        lambda: Simulation(default, default_pol, seed=1).run().n_cases, args.repeat
    )
    print(f"bare SimPy M/M/c            {bare:>10,.0f} customers/s   1.00x (baseline)")
    print(
        f"exsim engine as M/M/c       {engine_mmc:>10,.0f} cases/s       {engine_mmc / bare:.2f}x"
    )
    print(
        f"exsim default, {args.days:g} days   {engine_default:>10,.0f} cases/s       "
        f"{engine_default / bare:.2f}x"
    )
    print("goal: engine as M/M/c >= 1.00x, default scenario >= 0.80x")
    if args.both and build["mode"] == "compiled":
        child = [a for a in sys.argv[1:] if a != "--both"]
        subprocess.run(
            [sys.executable, __file__, *child], env={**os.environ, "EXSIM_PURE": "1"}, check=True
        )


if __name__ == "__main__":
    main()
