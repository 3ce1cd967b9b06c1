"""Statistics across replications: confidence intervals and paired comparisons.

One simulation run is one sample of a random world. We run independent replications and treat
each run's KPI as one observation, so a Student t interval over the replication means is the
honest error bar. To compare two policies we run them on the same seeds (common random numbers)
and look at the paired differences, which cancels most of the run-to-run noise.
Missing values (None or NaN, e.g. an SLA share with nothing to judge in a run) are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from sim.lazy import lazy

#: scipy.stats (some 60 MiB) is imported at the first interval, not with this module: a run's
#: summary imports it only once the log's columns are freed, so it does not add to the peak
sps = lazy("scipy.stats")


class Interval(NamedTuple):
    mean: float
    lo: float
    hi: float
    n: int


class PairedDiff(NamedTuple):
    mean: float  # mean of a - b
    lo: float
    hi: float
    p_value: float
    significant: bool
    n: int


def finite(values: Iterable[float | None]) -> np.ndarray:
    """The values as a float array, without None and NaN."""
    x = np.array([np.nan if v is None else v for v in values], dtype=float)
    return x[np.isfinite(x)]


def mean_ci(values: Iterable[float | None], confidence: float = 0.95) -> Interval:
    """Mean and Student t interval; lo/hi are NaN below two values, equal to the mean when all
    values agree."""
    x = finite(values)
    n = int(x.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n)
    half = _half_width(x, confidence)
    return Interval(mean, mean - half, mean + half, n)


def _half_width(x: np.ndarray, confidence: float) -> float:
    sd = float(x.std(ddof=1))
    if sd == 0.0:
        return 0.0
    return float(sps.t.ppf((1 + confidence) / 2, x.size - 1) * sd / math.sqrt(x.size))


def paired_diff(
    a: Sequence[float | None], b: Sequence[float | None], confidence: float = 0.95
) -> PairedDiff:
    """CI and two-sided paired t test of ``a - b`` over aligned samples (same seeds).

    Pairs where either side is missing are dropped. With identical differences the interval
    collapses to a point and the difference is significant unless it is zero.
    """
    if len(a) != len(b):
        raise ValueError(f"paired samples must align: {len(a)} vs {len(b)} values")
    xa = np.array([np.nan if v is None else v for v in a], dtype=float)
    xb = np.array([np.nan if v is None else v for v in b], dtype=float)
    d = (xa - xb)[np.isfinite(xa) & np.isfinite(xb)]
    n = int(d.size)
    if n < 2:
        mean = float(d.mean()) if n else math.nan
        return PairedDiff(mean, math.nan, math.nan, math.nan, False, n)
    mean = float(d.mean())
    sd = float(d.std(ddof=1))
    if sd == 0.0:
        p = 1.0 if mean == 0.0 else 0.0
        return PairedDiff(mean, mean, mean, p, mean != 0.0, n)
    half = _half_width(d, confidence)
    p = float(2 * sps.t.sf(abs(mean) / (sd / math.sqrt(n)), n - 1))
    return PairedDiff(mean, mean - half, mean + half, p, p < 1 - confidence, n)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def wilson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval of a proportion: always inside [0, 1], sensible at 0 and n."""
    if trials <= 0:
        return None
    z = float(sps.norm.ppf((1 + confidence) / 2))
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


Range = Callable[[str, np.ndarray], "tuple[float, float] | None"]


def aggregate(
    trees: Sequence[dict], confidence: float = 0.95, ranges: Range | None = None, _at: str = ""
) -> tuple[dict, dict]:
    """Fold same-shaped nested dicts into (means, intervals), leaf by leaf.

    Keys are the union over ``trees`` in first-seen order. A numeric leaf becomes the mean of
    the values present (None if none) and ``[lo, hi]`` (None below two values); non-numeric
    leaves are kept from the first tree that has them, with no interval. ``ranges(path,
    values)`` gives the range a KPI cannot leave (a share stays in [0, 1], a count above 0):
    the interval is cut to it, so it never claims what cannot be.
    """
    means: dict = {}
    cis: dict = {}
    keys = list(dict.fromkeys(k for t in trees for k in t))
    for key in keys:
        path = f"{_at}.{key}" if _at else str(key)
        values = [t[key] for t in trees if key in t]
        if any(isinstance(v, dict) for v in values):
            means[key], cis[key] = aggregate(
                [v for v in values if isinstance(v, dict)], confidence, ranges, path
            )
        elif all(v is None or _is_number(v) for v in values):
            ci = mean_ci(values, confidence)
            means[key] = ci.mean if ci.n else None
            cis[key] = [ci.lo, ci.hi] if ci.n >= 2 else None
            bounds = ranges(path, finite(values)) if ranges and ci.n >= 2 else None
            if bounds is not None:
                cis[key] = [max(ci.lo, bounds[0]), min(ci.hi, bounds[1])]
        else:
            means[key] = next(v for v in values if v is not None)
            cis[key] = None
    return means, cis
