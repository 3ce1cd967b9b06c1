"""Does the fitted scenario reproduce the history? Simulate it and measure the distance.

A calibration is only as good as what it reproduces. The fitted scenario is run under the
as-is policy (the one the history was handled with, as best it is known) and compared with
the log on what a supervisor would recognise:

- arrivals: the share of cases by hour of day and by day of week (Wasserstein distance in
  hours / days, i.e. how far the mass has to move, and total variation, the share that is
  in the wrong place), and the count per category (history against the simulated mean);
- cycle time (occurrence to resolution) and hands-on effort: Wasserstein distance in minutes
  and the two-sample Kolmogorov-Smirnov statistic with its p-value.

The cycle-time comparison tests the policy as much as the scenario: a large gap with small
arrival and effort gaps says the as-is policy file does not describe how the desk worked.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats as sps

from replay.calibrate import Calibration
from replay.history import History, history_of
from replay.profiles import profile_shares
from sim import eventlog, runner
from sim.policies.schema import Policy


def _distance(a: np.ndarray, b: np.ndarray) -> dict:
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size == 0 or b.size == 0:
        return {"n_history": int(a.size), "n_simulated": int(b.size)}
    ks = sps.ks_2samp(a, b)
    return {
        "n_history": int(a.size),
        "n_simulated": int(b.size),
        "mean_history": float(a.mean()),
        "mean_simulated": float(b.mean()),
        "wasserstein": float(sps.wasserstein_distance(a, b)),
        "ks": float(ks.statistic),
        "ks_p": float(ks.pvalue),
    }


def _shares_distance(p: np.ndarray, q: np.ndarray) -> dict:
    cells = np.arange(len(p), dtype=float)
    w = sps.wasserstein_distance(cells, cells, p, q) if p.sum() and q.sum() else float("nan")
    return {"wasserstein": float(w), "total_variation": float(0.5 * np.abs(p - q).sum())}


def _cycle(h: History) -> np.ndarray:
    c = h.cases
    return (c["resolved"] - c["occurred"]).to_numpy(float)


def validate(
    calibration: Calibration,
    history: History,
    policy: Policy,
    seed: int = 1,
    reps: int = 3,
    progress: Callable[[float], None] | None = None,
) -> dict:
    """Distances between ``history`` and ``reps`` runs of the calibrated scenario."""
    scenario = calibration.scenario
    result = runner.run(scenario, policy, seed=seed, reps=reps, workers=1, progress=progress)
    log = eventlog.to_pandas(result.table)
    sims = [history_of(log, rep=r) for r in range(reps)]
    start = scenario.start
    hist_ts = history.cases["occurred"].to_numpy(float)
    sim_ts = np.concatenate([s.cases["occurred"].to_numpy(float) for s in sims])
    h_hour, h_day = profile_shares(hist_ts, start)
    s_hour, s_day = profile_shares(sim_ts, start)
    counts = {}
    for cat in history.categories:
        sim_n = [int((s.cases["category"] == cat).sum()) for s in sims]
        counts[cat] = {
            "history": int((history.cases["category"] == cat).sum()),
            "simulated_mean": float(np.mean(sim_n)),
        }
    return {
        "policy": policy.name,
        "seed": seed,
        "reps": reps,
        "arrivals": {
            "hour_of_day": _shares_distance(h_hour, s_hour),
            "day_of_week": _shares_distance(h_day, s_day),
            "by_category": counts,
        },
        "cycle_time_min": _distance(_cycle(history), np.concatenate([_cycle(s) for s in sims])),
        "effort_min": _distance(
            history.cases["effort"].to_numpy(float),
            np.concatenate([s.cases["effort"].to_numpy(float) for s in sims]),
        ),
    }


def distance_table(report: dict) -> pd.DataFrame:
    """The headline distances as rows (for printing)."""
    arr = report["arrivals"]
    rows = [
        ("arrivals by hour of day", "Wasserstein (h)", arr["hour_of_day"]["wasserstein"]),
        ("arrivals by hour of day", "total variation", arr["hour_of_day"]["total_variation"]),
        ("arrivals by day of week", "Wasserstein (days)", arr["day_of_week"]["wasserstein"]),
        ("arrivals by day of week", "total variation", arr["day_of_week"]["total_variation"]),
    ]
    for key, label in (("cycle_time_min", "cycle time"), ("effort_min", "hands-on effort")):
        d = report[key]
        rows += [
            (label, "Wasserstein (min)", d.get("wasserstein")),
            (label, "KS statistic", d.get("ks")),
            (label, "KS p-value", d.get("ks_p")),
        ]
    return pd.DataFrame(rows, columns=["what", "distance", "value"])
