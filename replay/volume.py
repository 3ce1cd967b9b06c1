"""Volume that drifts: does the arrival rate change over the history, and how?

A real log rarely has one rate. A tool rolled out over a year, a merger, a seasonal peak: in
one public incident log most tickets arrive in the last two months, and a single fitted rate
puts five hundred simulated cases where seven thousand arrived. So the weekly arrival counts
are fitted by four Poisson models of the rate, with the week's rhythm (the hour-of-week
profile) as the exposure of each week:

- ``constant``: one rate (1 parameter);
- ``trend``: a rate growing or shrinking exponentially, log-linear in the week (2);
- ``monthly``: one rate per 4-week period (one per period);
- ``weekly``: one rate per week (one per week).

The model with the lowest AIC wins: piecewise models pay for every parameter, so a steady log
stays constant and a step or a ramp is found when the counts say so. The result is a
:class:`sim.scenarios.schema.Volume` whose factors average 1 over the history (weighted by
exposure), so the category rates keep meaning "the average rate".
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
from scipy import optimize, special

from replay.profiles import exposure_hours
from sim.scenarios.schema import Profile, Volume

WEEK_MIN = 7 * 1440.0
#: Weeks per period of the ``monthly`` model.
MONTH_WEEKS = 4


def week_exposure(horizon_min: float, start: datetime, profile: Profile | None) -> np.ndarray:
    """Expected arrivals per week at unit average rate under the weekly rhythm ``profile``."""
    shape = np.ones((7, 24)) if profile is None else np.outer(profile.weekly, profile.hourly)
    shape = shape / shape.mean()
    weeks = max(int(math.ceil(horizon_min / WEEK_MIN)), 1)
    out = np.zeros(weeks)
    for w in range(weeks):
        a, b = w * WEEK_MIN, min((w + 1) * WEEK_MIN, horizon_min)
        if b <= a:
            continue
        shifted = _shift(start, a)
        out[w] = float((exposure_hours(b - a, shifted).reshape(7, 24) * shape).sum())
    return out


def _shift(start: datetime, minutes: float) -> datetime:
    from datetime import timedelta

    return start + timedelta(minutes=minutes)


def weekly_counts(occurred: np.ndarray, horizon_min: float) -> np.ndarray:
    weeks = max(int(math.ceil(horizon_min / WEEK_MIN)), 1)
    idx = np.clip((np.asarray(occurred, float) // WEEK_MIN).astype(int), 0, weeks - 1)
    return np.bincount(idx, minlength=weeks).astype(float)


def _loglik(counts: np.ndarray, mu: np.ndarray) -> float:
    ok = mu > 0
    ll = counts[ok] * np.log(mu[ok]) - mu[ok] - special.gammaln(counts[ok] + 1)
    if np.any(counts[~ok] > 0):
        return -math.inf
    return float(ll.sum())


def _piecewise(counts: np.ndarray, expo: np.ndarray, size: int) -> np.ndarray:
    """Per-week rate of a model with one rate per ``size`` weeks (maximum likelihood)."""
    group = np.arange(len(counts)) // size
    c = np.bincount(group, counts)
    e = np.bincount(group, expo)
    rate = np.where(e > 0, c / np.where(e > 0, e, 1), 0.0)
    return rate[group]


def _trend(counts: np.ndarray, expo: np.ndarray) -> np.ndarray:
    w = np.arange(len(counts), dtype=float)
    w = w - w.mean()
    start = math.log(max(counts.sum(), 0.5) / max(expo.sum(), 1e-9))

    def nll(p: np.ndarray) -> float:
        mu = expo * np.exp(p[0] + p[1] * w)
        return float((mu - counts * np.log(np.maximum(mu, 1e-300))).sum())

    res = optimize.minimize(nll, np.array([start, 0.0]), method="Nelder-Mead")
    return np.exp(res.x[0] + res.x[1] * w)


def fit_volume(
    occurred: np.ndarray, horizon_min: float, start: datetime, profile: Profile | None
) -> tuple[Volume | None, dict]:
    """The volume model chosen by AIC, and a report: per model its AIC and parameters, the
    weekly counts and the weekly expected counts of the winner. None when constant wins."""
    counts = weekly_counts(occurred, horizon_min)
    expo = week_exposure(horizon_min, start, profile)
    models: dict[str, tuple[np.ndarray, int]] = {
        "constant": (_piecewise(counts, expo, len(counts)), 1),
        "trend": (_trend(counts, expo), 2),
    }
    if len(counts) >= 2 * MONTH_WEEKS:
        models["monthly"] = (
            _piecewise(counts, expo, MONTH_WEEKS),
            int(math.ceil(len(counts) / MONTH_WEEKS)),
        )
    if len(counts) >= 2:
        models["weekly"] = (_piecewise(counts, expo, 1), len(counts))
    aic = {name: 2 * k - 2 * _loglik(counts, rate * expo) for name, (rate, k) in models.items()}
    best = min(aic, key=lambda m: aic[m])
    rate = models[best][0]
    mean = float((rate * expo).sum() / expo.sum()) if expo.sum() > 0 else 0.0
    factors = rate / mean if mean > 0 else np.ones_like(rate)
    report = {
        "model": best,
        "aic": {m: round(a, 2) for m, a in aic.items()},
        "weekly_counts": counts.astype(int).tolist(),
        "weekly_expected": [round(float(v), 2) for v in rate * expo],
    }
    if best == "constant":
        return None, report
    return Volume(period_days=7.0, factors=[round(float(f), 4) for f in factors]), report
