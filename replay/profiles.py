"""Arrival rhythms from history: hour-of-day and day-of-week profiles, and the weekly rate.

The engine's arrivals (``sim.generators.arrivals``) are a Poisson process whose rate in hour
h of weekday d is ``rate_per_hour * hourly[h] * weekly[d] / mean(hourly x weekly)``. Fitting
that to history is a Poisson regression with a multiplicative (hour x day) model: counts
per hour-of-week cell over the hours each cell was observed (a 10-day log sees some
weekdays twice and others once, so raw counts would be biased), solved by iterative
proportional fitting. Cells never observed get the neutral factor 1. ``rate_per_hour`` is
then the weekly average that makes the expected count over the observed window equal the
observed count, so a log that covers only weekdays does not understate the rate.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from sim.scenarios.schema import Profile

WEEK_HOURS = 168


def week_offset(start: datetime) -> float:
    """Minutes from Monday 00:00 to the scenario start (its own wall clock)."""
    return start.weekday() * 1440 + start.hour * 60 + start.minute + start.second / 60


def hour_of_week(ts: np.ndarray, start: datetime) -> np.ndarray:
    """Hour-of-week cell (0 = Monday 00-01h) of each time in minutes since ``start``."""
    return (np.floor((np.asarray(ts, float) + week_offset(start)) / 60) % WEEK_HOURS).astype(int)


def exposure_hours(horizon_min: float, start: datetime) -> np.ndarray:
    """Hours of each of the 168 cells covered by the window [0, horizon)."""
    out = np.zeros(WEEK_HOURS)
    offset = week_offset(start)
    t = 0.0
    while t < horizon_min:
        cell_end = (np.floor((t + offset) / 60) + 1) * 60 - offset
        end = min(cell_end, horizon_min)
        out[int(np.floor((t + offset) / 60)) % WEEK_HOURS] += (end - t) / 60
        t = end
    return out


def fit_profile(
    ts: np.ndarray, horizon_min: float, start: datetime, iterations: int = 50
) -> tuple[Profile, float]:
    """(profile, rate_per_hour) of arrivals at minutes ``ts`` observed over [0, horizon)."""
    counts = np.bincount(hour_of_week(ts, start), minlength=WEEK_HOURS).reshape(7, 24)
    expo = exposure_hours(horizon_min, start).reshape(7, 24)
    day_seen, hour_seen = expo.sum(axis=1) > 0, expo.sum(axis=0) > 0
    weekly, hourly = np.ones(7), np.ones(24)
    for _ in range(iterations):
        denom = (expo * hourly[None, :]).sum(axis=1)
        weekly = np.where(denom > 0, counts.sum(axis=1) / np.where(denom > 0, denom, 1), 1.0)
        denom = (expo * weekly[:, None]).sum(axis=0)
        hourly = np.where(denom > 0, counts.sum(axis=0) / np.where(denom > 0, denom, 1), 1.0)
    weekly = _neutral(weekly, day_seen)
    hourly = _neutral(hourly, hour_seen)
    profile = Profile(
        hourly=[round(float(v), 4) for v in hourly], weekly=[round(float(v), 4) for v in weekly]
    )
    return profile, rate_given(len(ts), profile, horizon_min, start)


def rate_given(count: int, profile: Profile | None, horizon_min: float, start: datetime) -> float:
    """Weekly-average rate per hour under ``profile`` that expects ``count`` arrivals in the
    window [0, horizon) (the maximum-likelihood rate of the Poisson model)."""
    expo = exposure_hours(horizon_min, start).reshape(7, 24)
    shape = np.ones((7, 24)) if profile is None else np.outer(profile.weekly, profile.hourly)
    expected = float((expo * shape).sum())
    return count * float(shape.mean()) / expected if expected > 0 else 0.0


def _neutral(factors: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Mean 1 over the observed cells; unobserved ones 1. All zero (no arrivals): flat."""
    if not seen.any() or factors[seen].sum() <= 0:
        return np.ones_like(factors)
    out = np.ones_like(factors)
    out[seen] = factors[seen] / factors[seen].mean()
    return out


def profile_shares(ts: np.ndarray, start: datetime) -> tuple[np.ndarray, np.ndarray]:
    """Share of arrivals by hour of day (24) and day of week (7), for comparing logs."""
    how = hour_of_week(ts, start)
    hours = np.bincount(how % 24, minlength=24).astype(float)
    days = np.bincount(how // 24, minlength=7).astype(float)
    n = max(len(how), 1)
    return hours / n, days / n
