"""Fitting a positive quantity (handling minutes, order value, trigger age) to a distribution.

A scenario describes hands-on time the way a supervisor does, "about 35 minutes, quite
variable": a family and its mean and coefficient of variation (``sim.scenarios.schema.
Distribution``). History gives a sample; this module finds the family that explains it
best among the three the engine draws from -- lognormal (long right tail: most cases quick,
a few drag on), gamma (sums of steps) and exponential (memoryless) -- by maximum likelihood,
ranks them by AIC (the likelihood penalised for parameters) and reports the
Kolmogorov-Smirnov distance of each as an absolute check of fit quality.

AIC only ranks; it does not say a family fits at all. A heavy-tailed service-desk sample
(most tickets minutes, a few months) can make the lognormal win on likelihood with a mean
ten times the sample's. So a candidate is *admissible* only when its mean is within
``MEAN_TOLERANCE`` of the sample mean and its coefficient of variation within a factor
``CV_TOLERANCE`` of the sample's; the best admissible one by AIC is chosen. When none is, the
sample itself is used: an ``empirical`` distribution of its quantiles (bounded by what was
seen), and ``Fit.rejected`` says which families were refused and why.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import special
from scipy import stats as sps

from sim.scenarios.schema import Distribution

FAMILIES: tuple[str, ...] = ("lognormal", "gamma", "exponential")
#: A fitted mean further than this (relative) from the sample mean is not a fit.
MEAN_TOLERANCE = 0.2
#: A fitted cv more than this factor above or below the sample cv is not a fit.
CV_TOLERANCE = 2.0
#: Quantiles an empirical fallback keeps (0%, 1%, ..., 100%).
EMPIRICAL_POINTS = 101


@dataclass
class Candidate:
    """One family fitted by maximum likelihood (location fixed at 0)."""

    dist: str
    mean: float
    cv: float
    params: dict[str, float]
    loglik: float
    aic: float
    ks: float  # sup |empirical CDF - fitted CDF|
    ks_p: float


@dataclass
class Fit:
    """The chosen family for a sample, and how the others did."""

    n: int
    dist: str
    mean: float
    cv: float
    ks: float
    ks_p: float
    sample_mean: float
    mean_ci95: tuple[float, float]  # Student t interval of the sample mean
    candidates: list[Candidate] = field(default_factory=list)
    sample_cv: float = math.nan
    #: family -> why it was refused (mean or cv too far from the sample's)
    rejected: dict[str, str] = field(default_factory=dict)
    quantiles: list[float] | None = None  # the empirical fallback's

    def distribution(self) -> Distribution:
        """As a scenario ``Distribution`` (exponential keeps cv 1, as the schema wants)."""
        if self.dist == "empirical":
            return Distribution(
                dist="empirical",
                mean=_round(self.mean),
                cv=_round(max(self.cv, 1e-3)),
                quantiles=self.quantiles,
            )
        cv = 1.0 if self.dist == "exponential" else max(self.cv, 1e-3)
        return Distribution(dist=self.dist, mean=_round(self.mean), cv=_round(cv))

    @property
    def note(self) -> str:
        """One line on how the distribution was chosen, for reports."""
        if self.dist != "empirical":
            return f"{self.dist} by AIC (mean {self.mean:.4g}, sample mean {self.sample_mean:.4g})"
        why = "; ".join(f"{d}: {r}" for d, r in self.rejected.items())
        return f"empirical quantiles of {self.n} values: every family was refused ({why})"

    def to_dict(self) -> dict:
        out = asdict(self)
        out["mean_ci95"] = list(self.mean_ci95)
        return out


def _round(x: float) -> float:
    """Four significant digits: enough for a scenario file, short enough to read."""
    return float(f"{x:.4g}")


def _candidate(dist: str, x: np.ndarray) -> Candidate:
    logx = np.log(x)
    if dist == "exponential":
        scale = float(x.mean())
        frozen = sps.expon(scale=scale)
        params, k, mean, cv = {"scale": scale}, 1, scale, 1.0
    elif dist == "lognormal":
        mu, sigma = float(logx.mean()), float(logx.std())
        sigma = max(sigma, 1e-9)
        frozen = sps.lognorm(s=sigma, scale=math.exp(mu))
        params, k = {"mu": mu, "sigma": sigma}, 2
        mean, cv = math.exp(mu + sigma**2 / 2), math.sqrt(math.expm1(sigma**2))
    else:
        # the gamma MLE of the shape solves log(a) - digamma(a) = log(mean) - mean(log x)
        s = max(math.log(x.mean()) - float(logx.mean()), 1e-12)
        a = (3 - s + math.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s)  # Minka's start
        for _ in range(20):
            step = (math.log(a) - float(special.digamma(a)) - s) / (
                1 / a - float(special.polygamma(1, a))
            )
            a = max(a - step, 1e-9)
            if abs(step) < 1e-10 * a:
                break
        scale = float(x.mean()) / a
        frozen = sps.gamma(a, scale=scale)
        params, k, mean, cv = {"shape": a, "scale": scale}, 2, a * scale, 1 / math.sqrt(a)
    loglik = float(np.sum(frozen.logpdf(x)))
    ks = sps.kstest(x, frozen.cdf)
    return Candidate(
        dist, mean, cv, params, loglik, 2 * k - 2 * loglik, float(ks.statistic), float(ks.pvalue)
    )


def fit_positive(values: np.ndarray | list[float]) -> Fit | None:
    """Best of lognormal, gamma, exponential by AIC for the positive finite ``values``.

    None when there is nothing to fit. With a single value, or values that do not vary, the
    sample cannot tell the families apart: an exponential with that mean is reported.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x) & (x > 0)]
    n = int(x.size)
    if n == 0:
        return None
    mean = float(x.mean())
    if n == 1 or float(x.std()) <= 1e-12 * mean:
        return Fit(n, "exponential", mean, 1.0, math.nan, math.nan, mean, (mean, mean), [], 0.0)
    half = float(sps.t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n))
    cands = sorted((_candidate(d, x) for d in FAMILIES), key=lambda c: c.aic)
    cv = float(x.std() / mean)
    rejected = {c.dist: why for c in cands if (why := _refusal(c, mean, cv))}
    ok = [c for c in cands if c.dist not in rejected]
    ci = (mean - half, mean + half)
    if not ok:
        q = np.quantile(x, np.linspace(0, 1, min(EMPIRICAL_POINTS, n)))
        grid = np.linspace(0, 1, q.size)
        ks = sps.kstest(x, lambda v: np.interp(v, q, grid))
        drawn_mean = float(np.mean((q[1:] + q[:-1]) / 2))  # the mean of what it draws
        quantiles = [_round(float(v)) for v in q]
        return Fit(
            n,
            "empirical",
            drawn_mean,
            cv,
            float(ks.statistic),
            float(ks.pvalue),
            mean,
            ci,
            cands,
            cv,
            rejected,
            quantiles,
        )
    best = ok[0]
    return Fit(n, best.dist, best.mean, best.cv, best.ks, best.ks_p, mean, ci, cands, cv, rejected)


def _refusal(c: Candidate, mean: float, cv: float) -> str:
    """Why a fitted family does not describe the sample ('' when it does)."""
    if abs(c.mean / mean - 1) > MEAN_TOLERANCE:
        return f"mean {c.mean:.4g} against the sample's {mean:.4g}"
    if cv > 0 and not (1 / CV_TOLERANCE <= c.cv / cv <= CV_TOLERANCE):
        return f"cv {c.cv:.3g} against the sample's {cv:.3g}"
    return ""


def poisson_rate_ci(count: int, exposure: float, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson rate: ``count`` events in ``exposure`` units."""
    if exposure <= 0:
        return (math.nan, math.nan)
    alpha = 1 - confidence
    lo = sps.chi2.ppf(alpha / 2, 2 * count) / 2 if count > 0 else 0.0
    hi = sps.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2
    return (float(lo) / exposure, float(hi) / exposure)


def share_ci(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``k`` of ``n``."""
    if n == 0:
        return (math.nan, math.nan)
    z = float(sps.norm.ppf(0.5 + confidence / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))
