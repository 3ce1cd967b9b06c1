"""Sweep parallel efficiency on this machine's cores, against one worker in the same run.

Runs the same sweep (default scenario and policy, a grid over the picking scan interval and
the warehouse early-shift headcount) once with one worker (the serial backend) and once with N
local worker processes (all cores by default), and prints runs/s for both and the parallel
efficiency ``rate_N / (N × rate_1)``. Target: >= 0.9. Both sweeps must give identical
results; the benchmark checks that too. The default size (48 runs of 16 weeks) is a sweep worth
parallelising; runs of a tenth of a second are dominated by starting the worker processes
(each imports exsim), and score lower (0.78 for 24 runs of 4 weeks here). Usage:

    python benchmarks/bench_sweep.py [--days 112] [--reps 8] [--workers N]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from sim.config import load_policy, load_scenario
from sim.experiments import RunSettings, sweep
from sim.runner import default_workers

PARAMS = {
    "detection.picking_sla.scan.interval_min": [15, 30, 60],
    "staffing.teams.warehouse.shifts[0].agents": [2, 3],
}


def timed(scenario, policy, reps: int, backend: str, workers: int):
    t0 = time.perf_counter()
    sw = sweep(
        scenario, policy, PARAMS, RunSettings(reps=reps, seed=1, backend=backend, workers=workers)
    )
    return sw, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=112.0)
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args()
    scenario = load_scenario("default", {"horizon_days": args.days})
    policy = load_policy("default")
    n = args.workers
    timed(scenario, policy, 1, "serial", 1)  # warm caches and imports
    one, t1 = timed(scenario, policy, args.reps, "serial", 1)
    many, tn = timed(scenario, policy, args.reps, "processes", n)
    pd.testing.assert_frame_equal(one.results, many.results)
    runs = len(one.results)
    r1, rn = runs / t1, runs / tn
    print(f"sweep: {runs} runs of {args.days:g} days (default scenario x default policy)")
    print(f"  1 worker   : {r1:7.2f} runs/s  ({t1:.2f} s)")
    print(f"  {n} workers  : {rn:7.2f} runs/s  ({tn:.2f} s)")
    print(f"  parallel efficiency rate_N / (N x rate_1) = {rn / (n * r1):.2f}  (target >= 0.9)")
    print("  results identical: yes")


if __name__ == "__main__":
    main()
