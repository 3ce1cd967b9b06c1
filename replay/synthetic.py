"""A realistic service-desk export, generated: the public incident logs' quirks, without their data.

Tests cannot ship a third party's incident log, so this module writes one that behaves like
them: an ITSM tool's status history with one row per status change, columns named the tool's
way, and everything that made exsim's first replays of such logs unbelievable:

- statuses with sub-statuses (``Wait`` + ``Customer``/``Vendor``), spelled inconsistently
  (``in progress``, `` In Progress ``), some the desk ignores (``Accepted``), and cases whose
  first row is such an ignored or waiting status;
- holds (waits on the customer or a vendor, hours to days), reopened cases, and hand-overs
  from the first-level desk to second- and third-level teams (a change of the ``Support
  Level`` column, not a status);
- an ``Impact`` column (the recorded severity), a ``Product`` (the category);
- work started before the case was queued (an agent took it straight away, the queue status
  came afterwards), exact duplicate rows, rows in no particular order;
- volume that drifts: the daily rate grows over the period (a tool being rolled out), with
  weekday and office-hour rhythms in the desk's own time zone;
- cases still open when the export was taken (rows after it are not in the file).

``service_desk_export(seed)`` returns the rows as text, as a CSV export holds them;
``SERVICE_DESK_MAPPING`` is the mapping file that reads them. The generator is a plain numpy
loop on one seeded generator: the same seed gives the same export.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: The mapping (as a dict; ``replay.parse_mapping`` validates it) for the generated export.
SERVICE_DESK_MAPPING: dict = {
    "columns": {
        "case_id": "Incident ID",
        "timestamp": "Timestamp",
        "activity": ["Status", "Sub Status"],
        "level": "Support Level",
        "team": "Team",
        "actor": "Agent",
        "severity": "Impact",
        "category": "Product",
    },
    "activities": {
        "Queued": "assigned",
        "Accepted": None,
        "In Progress": "work_started",
        "Wait": "on_hold",
        "Wait / Customer": "on_hold",
        "Wait / Vendor": "on_hold",
        "Resolved": "resolved",
        "Closed": "closed",
        "Reopened": "reopened",
    },
    "levels": ["L1", "L2", "L3"],
    "severity_map": {"Major": "critical"},
    "source_detects": True,
    "timezone": "Europe/Amsterdam",
}

TEAMS = {"L1": "Service Desk", "L2": "Application Support", "L3": "Vendor Engineering"}
PRODUCTS = ("email", "erp", "network", "workplace")
IMPACTS = ("Low", "Medium", "High", "Major")


@dataclass(frozen=True)
class DeskShape:
    """How the generated desk behaves (minutes unless said otherwise)."""

    days: int = 120
    start: str = "2025-01-06"  # a Monday
    cases_per_day_first: float = 6.0
    cases_per_day_last: float = 30.0  # volume grows linearly over the period
    queue_wait_mean: float = 90.0
    work_mean: float = 35.0
    work_cv: float = 0.8
    hold_prob: float = 0.3
    hold_mean: float = 1440.0
    escalate_prob: float = 0.22  # L1 -> L2, and again L2 -> L3
    reopen_prob: float = 0.07
    close_after: float = 2 * 1440.0
    ignored_first_prob: float = 0.1  # first row 'Accepted' (ignored by the mapping)
    wait_first_prob: float = 0.04  # first row a waiting status
    started_before_queued_prob: float = 0.03
    duplicate_prob: float = 0.01
    #: a desk of this many agents on duty around the clock, first come first served, makes
    #: the queue waits (instead of drawing them) and every ticket is just queued, worked and
    #: resolved: a history a policy describing that desk should reproduce
    agents: int | None = None


class _Case:
    """The rows of one ticket as it is generated: the clock and level move along."""

    def __init__(self, t: float, impact: str, product: str) -> None:
        self.t, self.impact, self.product = t, impact, product
        self.level = "L1"
        self.rows: list[tuple] = []

    def row(self, status: str, sub: str | None = None, agent: str | None = None) -> None:
        team = TEAMS[self.level]
        self.rows.append((self.t, status, sub, self.level, team, agent, self.impact, self.product))


def _arrivals(rng: np.random.Generator, shape: DeskShape, zone: str) -> np.ndarray:
    """Arrival times (minutes from the start, local midnight) of a drifting, rhythmic rate."""
    out = []
    for day in range(shape.days):
        weekday = (pd.Timestamp(shape.start) + pd.Timedelta(days=day)).weekday()
        level = shape.cases_per_day_first + (
            shape.cases_per_day_last - shape.cases_per_day_first
        ) * day / max(shape.days - 1, 1)
        level *= 1.0 if weekday < 5 else 0.15
        n = rng.poisson(level)
        # office hours: most arrivals 08:00-18:00 local, a few at night
        office = rng.random(n) < 0.9
        minute = np.where(office, rng.uniform(480, 1080, n), rng.uniform(0, 1440, n))
        out.append(day * 1440 + minute)
    return np.sort(np.concatenate(out)) if out else np.zeros(0)


def _work(rng: np.random.Generator, shape: DeskShape) -> float:
    sigma = np.sqrt(np.log1p(shape.work_cv**2))
    return float(rng.lognormal(np.log(shape.work_mean) - sigma**2 / 2, sigma))


def _messy(rng: np.random.Generator, status: str) -> str:
    roll = rng.random()
    if roll < 0.05:
        return status.lower()
    if roll < 0.08:
        return f" {status} "
    return status


def service_desk_export(seed: int = 7, shape: DeskShape | None = None) -> pd.DataFrame:
    """The export's rows (all text, as in the CSV), in no particular order."""
    shape = shape or DeskShape()
    rng = np.random.default_rng(seed)
    zone = SERVICE_DESK_MAPPING["timezone"]
    origin = pd.Timestamp(shape.start).tz_localize(zone)
    export_at = shape.days * 1440.0
    rows: list[tuple] = []
    free = [0.0] * (shape.agents or 0)  # when each agent of a simulated desk is next free
    for i, t0 in enumerate(_arrivals(rng, shape, zone)):
        cid = f"INC{100000 + i}"
        product = PRODUCTS[int(rng.integers(len(PRODUCTS)))]
        impact = IMPACTS[min(int(rng.exponential(0.9)), 3)]
        c = _Case(float(t0), impact, product)
        if free:
            c.row("Queued")
            k = int(np.argmin(free))
            c.t = max(c.t, free[k])
            c.row("In Progress", agent=f"agent{k}")
            c.t += _work(rng, shape)
            free[k] = c.t
            c.row("Resolved")
            rows += [(cid, *r) for r in c.rows if r[0] < export_at]
            continue
        first = rng.random()
        if first < shape.ignored_first_prob:
            c.row("Accepted")
            c.t += rng.uniform(1, 30)
        elif first < shape.ignored_first_prob + shape.wait_first_prob:
            c.row("Wait", "Customer")
            c.t += rng.exponential(shape.hold_mean / 4)
        if rng.random() < shape.started_before_queued_prob:
            c.row("In Progress", agent=f"agent{int(rng.integers(12))}")
            c.t += rng.uniform(5, 60)
            c.row("Queued")
            c.t += _work(rng, shape)
        else:
            c.row("Queued")
            c.t += rng.exponential(shape.queue_wait_mean)
            c.row("In Progress", agent=f"agent{int(rng.integers(12))}")
            c.t += _work(rng, shape)
        for lvl in ("L2", "L3"):
            if rng.random() >= shape.escalate_prob:
                break
            if rng.random() < shape.hold_prob:
                c.row("Wait", rng.choice(["Customer", "Vendor"]))
                c.t += rng.exponential(shape.hold_mean)
                c.row("In Progress", agent=f"agent{int(rng.integers(12))}")
                c.t += _work(rng, shape)
            c.level = lvl
            c.row("Queued")
            c.t += rng.exponential(shape.queue_wait_mean * 3)
            c.row("In Progress", agent=f"{lvl.lower()}-{int(rng.integers(5))}")
            c.t += _work(rng, shape)
        if rng.random() < shape.hold_prob:
            c.row("Wait", rng.choice(["Customer", "Vendor"]))
            c.t += rng.exponential(shape.hold_mean)
            c.row("In Progress", agent=f"agent{int(rng.integers(12))}")
            c.t += _work(rng, shape)
        c.row("Resolved")
        if rng.random() < shape.reopen_prob:
            c.t += rng.exponential(1440)
            c.row("Reopened")
            c.t += rng.exponential(shape.queue_wait_mean)
            c.row("In Progress", agent=f"agent{int(rng.integers(12))}")
            c.t += _work(rng, shape)
            c.row("Resolved")
        if rng.random() < 0.85:
            c.t += shape.close_after
            c.row("Closed")
        for r in c.rows:
            if r[0] < export_at:
                rows.append((cid, *r))
    frame = pd.DataFrame(
        rows,
        columns=[
            "Incident ID",
            "_min",
            "Status",
            "Sub Status",
            "Support Level",
            "Team",
            "Agent",
            "Impact",
            "Product",
        ],
    )
    # whole seconds, as the tool writes them; ISO with the local offset
    stamps = origin + pd.to_timedelta(np.round(frame["_min"].to_numpy() * 60), unit="s")
    frame["Timestamp"] = [s.isoformat() for s in pd.DatetimeIndex(stamps).tz_convert(zone)]
    frame["Status"] = [_messy(rng, s) for s in frame["Status"]]
    frame = frame.drop(columns="_min")
    dup = rng.random(len(frame)) < shape.duplicate_prob
    frame = pd.concat([frame, frame[dup]], ignore_index=True)
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    cols = ["Incident ID", "Timestamp", "Status", "Sub Status", "Support Level", "Team"]
    return frame[[*cols, "Agent", "Impact", "Product"]].astype(object)
