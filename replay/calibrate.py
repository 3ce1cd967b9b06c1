"""Calibration: an injected-mode scenario fitted to history, with its goodness of fit.

From the cases of a recorded log (``replay.history``) each category gets what the injected
world needs to produce exceptions like these: a Poisson rate per hour (average) with
hour-of-day and day-of-week profiles (``replay.profiles``) and, when the volume drifts, a
change of rate over time chosen by AIC (``replay.volume``), a hands-on time distribution
(``replay.fit``: lognormal, gamma or exponential by AIC among those whose mean and cv match
the sample, else the sample's own quantiles), order values, the share of
customer-facing cases, backdated trigger dates and self-clearing cases. Warehouses, sites
and the customer tier mix are the observed shares. Escalation and reopen rates describe the
as-is desk rather than the world, so they are reported (and written as a comment in the
scenario file), not made part of the scenario.

A category with fewer than ``own_profile_min`` cases takes the profile pooled over all
categories: a handful of arrivals cannot shape 31 factors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from replay.fit import Fit, fit_positive, poisson_rate_ci, share_ci
from replay.history import History, local_start
from replay.profiles import fit_profile, rate_given
from replay.volume import fit_volume
from sim.eventlog import EVENT_CODE, LogMeta
from sim.metrics.cases import event_codes
from sim.scenarios.schema import (
    Category,
    Distribution,
    Hold,
    Profile,
    Reopen,
    Scenario,
    Transient,
    TriggerAge,
    Wait,
    Warehouse,
)

#: Hands-on time assumed for a category with no measured effort anywhere in the log.
FALLBACK_HANDLING = Distribution(dist="exponential", mean=30.0)
#: A trigger date this many minutes before the occurrence counts as backdated.
BACKDATE_EPS_MIN = 0.5
#: Events that show a resolved case was picked up again (reopened).
_REOPEN_EVENTS = ("detected", "assigned", "acknowledged", "work_started")


@dataclass
class Calibration:
    scenario: Scenario
    report: dict  # JSON-ready: per category rates, fits and goodness of fit; desk rates


def scenario_start(meta: LogMeta) -> datetime:
    """Minute 0 on the operation's local clock (see :func:`replay.history.local_start`)."""
    return local_start(meta)


def handling_fits(history: History) -> tuple[dict[str, Fit | None], Fit | None]:
    """Per-category fits of the known efforts, and the fit pooled over all categories."""
    fits = {c: fit_positive(history.efforts(c)) for c in history.categories}
    pooled = fit_positive(history.cases["effort"].to_numpy(float))
    return fits, pooled


def handling_distributions(history: History) -> tuple[dict[str, Distribution], dict[str, str]]:
    """The distribution each category's unknown efforts are drawn from, and where it came from
    ('fitted on n cases', 'pooled over all categories', 'fallback')."""
    fits, pooled = handling_fits(history)
    out, source = {}, {}
    for cat, fit in fits.items():
        if fit is not None and fit.n >= 2:
            out[cat], source[cat] = fit.distribution(), f"fitted on {fit.n} cases: {fit.note}"
        elif pooled is not None:
            out[cat], source[cat] = pooled.distribution(), "pooled over all categories"
        else:
            out[cat], source[cat] = FALLBACK_HANDLING, "fallback (no effort in the log)"
    return out, source


def calibrate(history: History, name: str = "calibrated", own_profile_min: int = 100):
    """Fit a scenario to ``history``; returns a :class:`Calibration`."""
    cases = history.cases
    start = scenario_start(history.meta)
    horizon = max(history.horizon_min, float(cases["occurred"].max()) + 1.0)
    occurred = cases["occurred"].to_numpy(float)
    pooled_profile, _ = fit_profile(occurred, horizon, start)
    volume, volume_report = fit_volume(occurred, horizon, start, pooled_profile)
    handling, handling_source = handling_distributions(history)
    fits, _ = handling_fits(history)
    reopened = _reopened(history)
    reopen_after = _reopen_delays(history)

    categories: dict[str, Category] = {}
    profiles: dict[str, Profile] = {"all": pooled_profile}
    report_cats: dict[str, dict] = {}
    for cat in history.categories:
        rows = cases["category"].astype(str).to_numpy() == cat
        sub = cases[rows]
        n = int(rows.sum())
        if n >= own_profile_min:
            profile, rate = fit_profile(occurred[rows], horizon, start)
            profile_name = cat
            profiles[cat] = profile
        else:
            profile_name = "all"
            rate = rate_given(n, pooled_profile, horizon, start)
        lo, hi = poisson_rate_ci(n, 1.0)
        value_fit = fit_positive(sub["order_value"].to_numpy(float))
        has_customer = bool(sub["customer_tier"].notna().any())
        trigger_age, trigger_info = _trigger_age(sub)
        transient, transient_info = _transient(sub)
        escalated = int((sub["n_escalated"].to_numpy() > 0).sum())
        n_reopen = int(sub["case_id"].isin(reopened).sum())
        categories[cat] = Category(
            description=f"fitted from {n} historical cases",
            rate_per_hour=float(f"{rate:.4g}"),
            profile=profile_name,
            handling_min=handling[cat],
            order_value=value_fit.distribution() if value_fit is not None else None,
            has_customer=has_customer,
            trigger_age=trigger_age,
            transient=transient,
            volume=volume,
            hold=_hold(sub),
            reopen=_reopen(sub, reopen_after),
        )
        fit = fits.get(cat)
        report_cats[cat] = {
            "cases": n,
            "rate_per_hour": rate,
            "rate_ci95": [rate * lo / n, rate * hi / n],
            "profile": profile_name,
            "handling": {
                "source": handling_source[cat],
                "chosen": handling[cat].model_dump(),
                "fit": fit.to_dict() if fit is not None else None,
            },
            "order_value": value_fit.distribution().model_dump() if value_fit else None,
            "trigger_age": trigger_info,
            "transient": transient_info,
            "escalation_rate": _share(escalated, n),
            "reopen_rate": _share(n_reopen, n),
        }
    scenario = Scenario(
        name=name,
        description=f"calibrated from {history.meta.scenario or 'a recorded log'}"
        f" ({len(cases)} cases over {horizon / 1440:.4g} days)",
        start=start,
        horizon_days=float(f"{horizon / 1440:.6g}"),
        warehouses=_warehouses(cases),
        tier_mix=_tier_mix(cases),
        profiles=profiles,
        categories=categories,
    )
    n_all = len(cases)
    report = {
        "cases": n_all,
        "horizon_days": horizon / 1440,
        "start": start.isoformat(),
        "categories": report_cats,
        "volume": volume_report,
        "escalation_rate": _share(int((cases["n_escalated"].to_numpy() > 0).sum()), n_all),
        "reopen_rate": _share(int(cases["case_id"].isin(reopened).sum()), n_all),
    }
    return Calibration(scenario, report)


def _share(k: int, n: int) -> dict:
    lo, hi = share_ci(k, n)
    return {"count": k, "of": n, "rate": k / n if n else None, "ci95": [lo, hi]}


def _trigger_age(sub: pd.DataFrame) -> tuple[TriggerAge | None, dict | None]:
    trigger = sub["trigger"].to_numpy(float)
    known = np.isfinite(trigger)
    if not known.any():
        return None, None
    age = sub["occurred"].to_numpy(float)[known] - trigger[known]
    late = age > BACKDATE_EPS_MIN
    info = {"known": int(known.sum()), "backdated": int(late.sum())}
    fit = fit_positive(age[late])
    if fit is None:
        return None, info
    info["fit"] = fit.to_dict()
    prob = float(f"{late.mean():.4g}")
    return TriggerAge(prob=prob, age_min=fit.distribution()), info


def _transient(sub: pd.DataFrame) -> tuple[Transient | None, dict | None]:
    cleared = sub["cleared_after"].to_numpy(float)
    done = np.isfinite(cleared)
    fit = fit_positive(cleared[done])
    if fit is None:
        return None, None
    prob = float(f"{done.mean():.4g}")
    info = {"cleared": int(done.sum()), "fit": fit.to_dict()}
    return Transient(prob=prob, clears_after_min=fit.distribution()), info


def _hold(sub: pd.DataFrame) -> Hold | None:
    """Waits on others as the engine draws them: the share of cases held, after what share of
    their work (median), for how long (the summed waits of a case, fitted). A status history
    rarely says whom the case waited for, so the reason is written as the customer's."""
    if "hold_min" not in sub:
        return None
    wait = sub["hold_min"].to_numpy(float)
    held = np.isfinite(wait) & (wait > 0)
    fit = fit_positive(wait[held])
    if fit is None or held.sum() < 2:
        return None
    effort = sub["effort"].to_numpy(float)[held]
    share = sub["hold_after"].to_numpy(float)[held] / effort
    share = share[np.isfinite(share)]
    at = float(np.clip(np.median(share), 0.0, 1.0)) if share.size else 0.5
    return Hold(
        prob=float(f"{held.mean():.4g}"),
        at_fraction=round(at, 3),
        waits={"customer": Wait(duration_min=fit.distribution())},
    )


def _reopen(sub: pd.DataFrame, after: pd.Series) -> Reopen | None:
    """Work that came back: the share of resolved cases reopened, and after how long."""
    resolved = sub["resolved"].notna().to_numpy()
    delays = after.reindex(sub["case_id"]).to_numpy(float)
    back = np.isfinite(delays) & resolved
    fit = fit_positive(delays[back])
    if fit is None or back.sum() < 2:
        return None
    return Reopen(prob=float(f"{back.sum() / resolved.sum():.4g}"), after_min=fit.distribution())


def _reopen_delays(history: History) -> pd.Series:
    """Per reopened case, minutes from its first resolution to its reopening."""
    log = history.log
    ev = event_codes(log)
    resolved = log.loc[ev == EVENT_CODE["resolved"]].groupby("case_id")["ts"].min()
    rows = log.loc[ev == EVENT_CODE["reopened"], ["case_id", "ts"]]
    delay = rows["ts"].to_numpy(float) - rows["case_id"].map(resolved).to_numpy(float)
    out = pd.Series(delay, index=rows["case_id"].to_numpy())
    out = out[np.isfinite(out.to_numpy()) & (out.to_numpy() > 0)]
    return out.groupby(level=0).min()


def _reopened(history: History) -> set[int]:
    """Cases with lifecycle activity after their first resolution."""
    log = history.log
    ev = event_codes(log)
    resolved = log.loc[ev == EVENT_CODE["resolved"]].groupby("case_id")["ts"].min()
    again = np.isin(ev, [EVENT_CODE[e] for e in _REOPEN_EVENTS])
    later = log.loc[again, ["case_id", "ts"]]
    first = later["case_id"].map(resolved)
    return set(later.loc[later["ts"].to_numpy() > first.to_numpy(), "case_id"].tolist())


def _warehouses(cases: pd.DataFrame) -> list[Warehouse]:
    wh = cases["warehouse"].astype(object)
    site = cases["site"].astype(object)
    known = wh.notna()
    if not known.any():
        return [Warehouse(name="WH", site="main")]
    pairs = pd.DataFrame({"wh": wh[known].astype(str), "site": site[known]})
    pairs["site"] = pairs["site"].where(pairs["site"].notna(), pairs["wh"]).astype(str)
    counts = pairs.value_counts(sort=False).sort_index()
    return [
        Warehouse(name=w, site=s, weight=max(round(float(c) / int(known.sum()), 4), 1e-4))
        for (w, s), c in counts.items()
    ]


def _tier_mix(cases: pd.DataFrame) -> dict[str, float]:
    tiers = cases["customer_tier"].dropna().astype(str)
    counts = tiers[tiers.isin(["strategic", "key", "standard"])].value_counts()
    if counts.empty:
        return {"strategic": 0.1, "key": 0.3, "standard": 0.6}
    total = float(counts.sum())
    return {t: round(float(counts.get(t, 0)) / total, 4) for t in ("strategic", "key", "standard")}
