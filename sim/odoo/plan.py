"""The injection plan: which cases to play into Odoo, when, and with which trigger dates.

The plan is the simulator's own stream: the scenario is run with the policy and seed, and its
``occurred`` rows (one per case, with ``trigger_ts`` and the business attributes) are what
``inject`` creates in Odoo, in time order. So the live run and the simulation face exactly
the same cases, which is what makes their detection outcomes comparable case by case.
Simulated minutes become Odoo datetimes through a ``TimeMap``: ``anchor + minutes / speed``.

At a compressed speed K not everything in Odoo compresses. Odoo counts job intervals and
time-rule delays in whole wall-clock minutes (at least 1), derives the time-rule job's
interval from the shortest wall-clock delay (a tenth, at least 1 minute), and its cron
threads wake about once a wall-clock minute: at K = 60 a 30-minute scan runs every 60
simulated minutes, and starts up to 60 simulated minutes late. ``at_speed`` rewrites the
policy into what Odoo will actually run at speed K, so the simulation the live run is
compared with predicts Odoo at that speed rather than at real time (``speed_notes`` says
what changed, for the user).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from sim import eventlog
from sim.policies.schema import Policy
from sim.runner import simulate
from sim.scenarios.schema import Scenario

ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class PlannedCase:
    rep: int
    case_id: int
    category: str
    occurred: float  # simulated minutes
    trigger: float
    value: float
    tier: str | None
    cleared: float | None = None  # simulated minute the condition went away by itself

    @property
    def tag(self) -> str:
        return f"case_{self.rep}_{self.case_id}"

    @property
    def at(self) -> float:
        """When inject creates it (the pacers' clock)."""
        return self.occurred


@dataclass(frozen=True)
class Clear:
    """The simulator's self-clearing of a case, played into Odoo at ``at``.

    In the simulation an undetected transient case ends with ``resolved`` / ``cleared`` (the
    stock arrived, the carrier API came back); in Odoo its record must stop matching the
    category's pattern at the same moment, or a scan would still find it there."""

    case: PlannedCase
    at: float

    @property
    def category(self) -> str:
        return self.case.category


@dataclass(frozen=True)
class TimeMap:
    """Simulated minutes <-> naive-UTC Odoo datetimes, compressed ``speed`` times."""

    anchor: datetime
    speed: float = 1.0

    def at(self, minutes: float) -> datetime:
        return self.anchor + timedelta(minutes=minutes / self.speed)

    def odoo(self, minutes: float) -> str:
        return self.at(minutes).strftime(ODOO_DATETIME)

    def minutes(self, when: str | datetime) -> float:
        if isinstance(when, str):  # Odoo's seconds, or the receiver's microseconds
            when = datetime.fromisoformat(when)
        return (when - self.anchor).total_seconds() / 60.0 * self.speed


def build_plan(
    scenario: Scenario, policy: Policy, seed: int = 0, rep: int = 0
) -> tuple[list[PlannedCase], pd.DataFrame]:
    """The cases of one replication, in occurrence order, and the simulated log they came from.

    Each case carries when its condition goes away by itself (``cleared``), detected or not:
    the world clears a transient case whatever a policy saw, and Odoo must see it clear too.
    The log only says so for undetected cases, so the times come from the same stream run
    with nothing detecting (every case then clears undetected; occurrences and clearing
    times are drawn from their own streams, so they are the same)."""
    df = eventlog.to_pandas(simulate(scenario, policy, seed, rep))
    occ = df[df["event"] == "occurred"].sort_values(["ts", "case_id"], kind="stable")
    blind = deployed_only(policy, list(scenario.categories), set())
    bdf = eventlog.to_pandas(simulate(scenario, blind, seed, rep))
    res = bdf[(bdf["event"] == "resolved") & (bdf["detail"].astype(str) == "cleared")]
    cleared = dict(zip(res["case_id"].astype(int), res["ts"].astype(float), strict=True))
    cases = [
        PlannedCase(
            rep,
            int(r.case_id),
            str(r.category),
            float(r.ts),
            float(r.trigger_ts) if not math.isnan(r.trigger_ts) else float(r.ts),
            float(r.order_value) if not math.isnan(r.order_value) else 100.0,
            None
            if r.customer_tier is None or r.customer_tier != r.customer_tier
            else str(r.customer_tier),
            cleared.get(int(r.case_id)),
        )
        for r in occ.itertuples(index=False)
    ]
    return cases, df


def wall_minutes(minutes: float, speed: float) -> int:
    """A simulated duration as Odoo will count it at ``speed``: whole wall minutes, >= 1."""
    return max(1, round(minutes / speed))


def at_speed(
    policy: Policy,
    speed: float,
    categories: list[str] | None = None,
    wake_lag_s: float | None = None,
    wake_drift_s: float = 0.0,
) -> tuple[Policy, list[str]]:
    """The policy as Odoo runs it at ``speed``, and one note per mechanism that changed.

    Scans: interval rounded to whole wall minutes (>= 1); time rules: delay likewise, and the
    shared job's interval a tenth of the shortest wall delay, >= 1 wall minute; every cron's
    wake-up lag (``lag_min``, real-time minutes) becomes ``lag_min x speed`` simulated
    minutes, or ``wake_lag_s`` (wall seconds) x speed / 60 when the run was started in step
    with Odoo's cron thread (``inject`` does: the lag is then that of the thread's passes, a
    few seconds, not up to a minute). Event rules and webhooks happen in the write and are
    left as they are. ``wake_drift_s`` is how much later each pass of the thread comes than
    the one before (its passes' own duration; ``technical.wake_fit`` measures it from Odoo's
    log). Speed 1 returns the policy unchanged."""
    if speed == 1.0:
        return policy, []
    from sim.policies.detection.time_rule import job_interval_min

    notes: list[str] = []

    def lag(real_min: float) -> float:
        return real_min * speed if wake_lag_s is None else wake_lag_s / 60.0 * speed

    cats = categories if categories is not None else list(policy.detection)
    timed = [
        d.time_rule
        for c, d in policy.detection.items()
        if d.time_rule is not None and (c in cats or c == "*")
    ]
    job_wall = job_interval_min([float(wall_minutes(t.delay_min, speed)) for t in timed])
    job_sim = job_wall * speed
    if timed:
        real = job_interval_min([t.delay_min for t in timed])
        if real != job_sim:
            notes.append(
                f"time-rule job: every {job_sim:g} simulated min, not {real:g} "
                f"(Odoo's 1-minute floor applies to wall-clock minutes)"
            )
    detection = {}
    for cat, det in policy.detection.items():
        update = {}
        if det.scan is not None:
            interval = wall_minutes(det.scan.interval_min, speed) * speed
            if interval != det.scan.interval_min:
                notes.append(
                    f"scan {cat}: every {interval:g} simulated min, not {det.scan.interval_min:g}"
                )
            update["scan"] = replace_model(
                det.scan,
                interval_min=interval,
                lag_min=lag(det.scan.lag_min),
                lag_drift_min=wake_drift_s / 60.0 * speed,
            )
        if det.time_rule is not None:
            delay = wall_minutes(det.time_rule.delay_min, speed) * speed
            if delay != det.time_rule.delay_min:
                notes.append(
                    f"time rule {cat}: {delay:g} simulated min after the trigger, "
                    f"not {det.time_rule.delay_min:g}"
                )
            update["time_rule"] = replace_model(
                det.time_rule,
                delay=int(delay),
                unit="minutes",
                lag_min=lag(det.time_rule.lag_min),
                lag_drift_min=wake_drift_s / 60.0 * speed,
                job_interval_min=job_sim,
            )
        detection[cat] = replace_model(det, **update) if update else det
    lags = sorted(
        {d.scan.lag_min for d in policy.detection.values() if d.scan}
        | {d.time_rule.lag_min for d in policy.detection.values() if d.time_rule}
    )
    if lags and lags[-1] > 0:
        notes.append(
            f"scheduled jobs start up to {lag(lags[-1]):g} simulated min late "
            + (
                f"(cron threads wake about every {lags[-1]:g} wall-clock min)"
                if wake_lag_s is None
                else f"(in step with the cron thread: {wake_lag_s:g} wall-clock s)"
            )
        )
    return replace_model(policy, detection=detection), notes


def replace_model(model, **update):
    """A copy of a pydantic model with ``update`` applied (values valid by construction)."""
    return model.model_copy(update=update)


def deployed_only(policy: Policy, categories: list[str], deployed: set[str]) -> Policy:
    """The policy with only the mechanisms actually deployed in Odoo (``<mech>_<category>``
    external ids): what Odoo could not take (e.g. activities on stock quants) detects nothing
    live, so the prediction must not count on it either. A category left with no mechanism
    gets an event rule that never fires (failure_prob 1): nothing detects it."""
    from sim.policies.schema import BUILTIN_MECHANISMS, Detection, EventRule

    mechanisms = BUILTIN_MECHANISMS
    detection = {}
    for cat in categories:
        det = policy.detection.get(cat) or policy.detection.get("*")
        if det is None:
            continue
        kept = {m: getattr(det, m) for m in mechanisms if f"{m}_{cat}" in deployed}
        if not any(kept.values()):
            kept = {"event_rule": EventRule(failure_prob=1.0)}
        detection[cat] = Detection(**kept)
    return replace_model(policy, detection=detection)
