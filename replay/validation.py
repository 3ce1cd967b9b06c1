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

Shapes and totals can agree while time is wrong (a log whose volume grew tenfold has the
same hour-of-day shape as a flat one), so the comparison is also made window by window:
arrivals per week (history against the simulated mean, and their mean absolute percentage
error) and the median cycle time per calendar month. Finally the field's standard log
distances (``replay.distances``) put the figures beside published ones. ``validate`` scores
any scenario against a history, not only a fitted one (``exsim calibrate --score``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats as sps

from replay.calibrate import Calibration
from replay.distances import log_distances
from replay.history import History, history_of
from replay.profiles import profile_shares
from sim import eventlog, runner
from sim.policies.schema import Policy
from sim.scenarios.schema import Scenario


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


def weekly_arrivals(history: History, sims: list[History], weeks: int) -> dict:
    """Arrivals per week from minute 0: history, simulated mean, and the mean absolute
    percentage error over the weeks with arrivals in the history."""

    def counts(h: History) -> np.ndarray:
        w = (h.cases["occurred"].to_numpy(float) // WEEK_MIN).astype(int)
        return np.bincount(w[(w >= 0) & (w < weeks)], minlength=weeks).astype(float)

    hist = counts(history)
    sim = np.mean([counts(s) for s in sims], axis=0) if sims else np.zeros(weeks)
    seen = hist > 0
    mape = float(np.mean(np.abs(sim[seen] - hist[seen]) / hist[seen])) if seen.any() else None
    return {
        "history": hist.astype(int).tolist(),
        "simulated_mean": [round(float(v), 2) for v in sim],
        "mean_abs_pct_error": mape,
    }


def cycle_by_month(history: History, sims: list[History], start) -> list[dict]:
    """Median cycle time (occurrence to first resolution) of the cases that occurred in each
    calendar month of the local clock: history against the simulation."""

    def frame(h: History) -> pd.DataFrame:
        c = h.cases
        when = pd.Timestamp(start) + pd.to_timedelta(c["occurred"].to_numpy(float), unit="min")
        return pd.DataFrame({"month": when.strftime("%Y-%m"), "cycle": _cycle(h)})

    hist = frame(history)
    sim = pd.concat([frame(s) for s in sims], ignore_index=True) if sims else hist.iloc[0:0]
    rows = []
    for month, g in hist.groupby("month", sort=True):
        s = sim.loc[sim["month"] == month, "cycle"].dropna()
        h = g["cycle"].dropna()
        rows.append(
            {
                "month": str(month),
                "n_history": int(len(h)),
                "p50_history": float(h.median()) if len(h) else None,
                "n_simulated": int(len(s)),
                "p50_simulated": float(s.median()) if len(s) else None,
            }
        )
    return rows


WEEK_MIN = 7 * 1440.0


def validate(
    calibration: Calibration | Scenario,
    history: History,
    policy: Policy,
    seed: int = 1,
    reps: int = 3,
    progress: Callable[[float], None] | None = None,
    distances: bool = True,
) -> dict:
    """Distances between ``history`` and ``reps`` runs of a scenario (a calibration's, or
    any scenario a user wrote)."""
    scenario = calibration if isinstance(calibration, Scenario) else calibration.scenario
    result = runner.run(
        scenario, policy, runner.RunSettings(seed=seed, reps=reps, workers=1), progress=progress
    )
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
    weeks = max(int(np.ceil(history.horizon_min / WEEK_MIN)), 1)
    out = {
        "scenario": scenario.name,
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
        "weekly_arrivals": weekly_arrivals(history, sims, weeks),
        "cycle_time_by_month": cycle_by_month(history, sims, start),
    }
    if distances:
        out["log_distances"] = log_distances(history.log, log, start)
    return out


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
    weekly = report.get("weekly_arrivals") or {}
    if weekly:
        rows.append(("arrivals per week", "mean abs % error", weekly.get("mean_abs_pct_error")))
    for name, value in (report.get("log_distances") or {}).items():
        if not isinstance(value, float):
            continue  # the package is not installed
        label = name.removesuffix("_h").replace("_", " ")
        rows.append((f"log distance: {label}", "Wasserstein (h)", value))
    return pd.DataFrame(rows, columns=["what", "distance", "value"])


def window_tables(report: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Arrivals per week and median cycle time per month, history against simulation."""
    weekly = report.get("weekly_arrivals") or {"history": [], "simulated_mean": []}
    weeks = pd.DataFrame(
        {
            "week": np.arange(1, len(weekly["history"]) + 1),
            "history": weekly["history"],
            "simulated": weekly["simulated_mean"],
        }
    )
    months = pd.DataFrame(report.get("cycle_time_by_month") or [])
    return weeks, months
