"""A recorded log read as history: what happened in the world, case by case.

Replay keeps the world fixed and re-simulates only the desk, so from a log it needs, per
case, the facts that belong to the world: when the exception occurred, its category and
business attributes, its trigger date, the date promised to the customer, its hands-on
effort and whether it went away by itself. Everything else in the log (who detected it, when
it was assigned, resolved) is the *as-is policy's* doing and is what a candidate policy is
compared against.

- Occurrence: the ``occurred`` event; a mapped log that starts later in the lifecycle (many
  exports begin at "ticket created") uses the case's first event and says so.
- Effort: hands-on minutes summed over the case's work intervals (``replay.effort``: work
  started -> on hold, handed over, to approval, resolved), inside the desk's
  working hours when the mapping gives them. Unknown when the log never shows work starting,
  or the case was still being worked at the end; never the elapsed time.
- Holds: the minutes the case waited on others (``on_hold`` until work resumed), and the
  hands-on minutes done before its first hold: a fact of the world (the customer answers
  when they answer), replayed as one hold per case.
- Recorded severity: the last severity the log gives the case (a service desk's priority or
  impact), which policy rules can read (``recorded_severity`` conditions).
- Cleared by itself: resolved by ``system`` with detail ``cleared`` (exsim's own marker for a
  transient condition): that case keeps its clearing delay, which is a fact of the world.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from replay.effort import Efforts, hold_minutes, work_efforts
from sim.eventlog import EVENT_CODE, LogMeta
from sim.metrics import case_table
from sim.metrics.cases import codes_of, event_codes, log_meta
from sim.policies.schema import Shift

#: Details that mark a case the world resolved without anyone's work.
CLEARED_DETAILS = ("cleared",)


@dataclass
class History:
    """One row per historical case (``cases``) and the log it came from (one replication).

    ``cases`` columns: case_id, occurred, category, order_value, customer_tier, warehouse,
    site, parent_case_id, trigger, promise (NaN: none at stake), effort (NaN unknown),
    cleared_after (NaN: not transient),
    plus the case-table columns (detected, resolved, due, n_escalated, ...) of the as-is run.
    """

    cases: pd.DataFrame
    log: pd.DataFrame
    meta: LogMeta
    occurred_from_first_event: int  # cases whose log has no 'occurred' event
    reps_in_log: int
    work: Efforts | None = field(default=None, repr=False)

    @property
    def replay_info(self) -> dict:
        """What the mapping recorded about the source (time zone, working hours...)."""
        return (self.meta.extra or {}).get("replay") or {}

    @property
    def categories(self) -> list[str]:
        return sorted(self.cases["category"].astype(str).unique())

    @property
    def horizon_min(self) -> float:
        return float(self.meta.horizon_min)

    def efforts(self, category: str) -> np.ndarray:
        rows = self.cases["category"].astype(str) == category
        x = self.cases.loc[rows, "effort"].to_numpy(dtype=float)
        return x[np.isfinite(x)]


def history_of(log: pd.DataFrame, rep: int | None = None) -> History:
    """The history held in an exsim event log (replication ``rep``; default the first)."""
    meta = log_meta(log)
    reps = sorted(pd.unique(log["rep"]).tolist()) if len(log) else [0]
    rep = reps[0] if rep is None else rep
    one = log[log["rep"].to_numpy() == rep].reset_index(drop=True)
    one.attrs = dict(log.attrs)
    cases = case_table(one)
    first_ts = one.groupby("case_id", sort=True)["ts"].min()
    no_occ = cases["occurred"].isna().to_numpy()
    cases["occurred"] = cases["occurred"].fillna(cases["case_id"].map(first_ts))
    trigger = one.groupby("case_id", sort=True)["trigger_ts"].first()
    cases["trigger"] = cases["case_id"].map(trigger).to_numpy(dtype=float)
    promise = one.groupby("case_id", sort=True)["promise_ts"].first()
    cases["promise"] = cases["case_id"].map(promise).to_numpy(dtype=float)

    hours = [Shift(**w) for w in ((meta.extra or {}).get("replay") or {}).get("working_hours", [])]
    efforts = work_efforts(one, local_start(meta), hours)
    effort = cases["case_id"].map(efforts.minutes).to_numpy(float)
    cases["effort"] = np.where(np.isfinite(effort) & (effort >= 0), effort, np.nan)
    cases["recorded_severity"] = cases["severity"].astype(object)
    # waits on others (customer, vendor) are the world's: replayed as one hold per case
    frame = pd.DataFrame(
        {
            "case": one["case_id"].to_numpy(np.int64),
            "ts": one["ts"].to_numpy(float),
            "ev": one["event"].astype(str).to_numpy(),
        }
    )
    held = hold_minutes(frame, float(meta.horizon_min))
    cases["hold_min"] = cases["case_id"].map(held).to_numpy(float)
    cases["hold_after"] = cases["case_id"].map(efforts.before_hold).to_numpy(float)

    ev = event_codes(one)
    detail = codes_of(one["detail"])
    names = one["detail"].astype("category").cat.categories
    cleared_codes = [i for i, d in enumerate(names) if str(d) in CLEARED_DETAILS]
    cleared_rows = (ev == EVENT_CODE["resolved"]) & np.isin(detail, cleared_codes)
    cleared_at = one.loc[cleared_rows].groupby("case_id")["ts"].min()
    cleared = cases["case_id"].map(cleared_at).to_numpy(dtype=float)
    cases["cleared_after"] = cleared - cases["occurred"].to_numpy(float)
    cases["category"] = cases["category"].astype(str)
    cases = cases.sort_values(["occurred", "case_id"], kind="stable", ignore_index=True)
    from_first = int(((meta.extra or {}).get("replay") or {}).get("occurred_from_first_row", 0))
    return History(cases, one, meta, int(no_occ.sum()) + from_first, len(reps), efforts)


def local_start(meta: LogMeta) -> datetime:
    """Minute 0 of the log on the operation's local clock (for profiles, shifts, hours).

    A mapped log's anchor is UTC; its mapping's time zone (kept in the meta) gives the
    wall clock the shifts and the hour-of-day profile should speak.
    """
    start = pd.Timestamp(meta.start)
    zone = ((meta.extra or {}).get("replay") or {}).get("timezone")
    if zone and start.tzinfo is not None:
        start = start.tz_convert(zone)
    return start.to_pydatetime()
