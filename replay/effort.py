"""Hands-on effort from a recorded log: the time a case was actually being worked on.

Elapsed time is not effort. A service-desk ticket that took nine days to resolve may have had
forty minutes of work in it: the rest was queues, waits for the customer or a vendor, nights
and weekends, and other teams' backlogs. So effort is summed over *work intervals*: a case is
in a working state from ``work_started`` until the next ``on_hold``,
``approval_requested``, ``resolved``, ``closed`` or hand-over to another team
(``reassigned``, derived from a level change in a mapped log), and again after a
``reopened`` case is started anew. With the desk's working hours given (the mapping's
``working_hours``), only the minutes inside them count.

A case whose log never shows work starting, or that was still being worked when the log
ends, has no measured effort (NaN): replay then draws it from the category's fitted
distribution and says so. Elapsed time is never used in its place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from sim.eventlog import EVENT_CODE
from sim.metrics.cases import event_codes
from sim.policies.schema import Shift
from sim.shifts import Calendar

#: Events that put a case into a working state. Not ``resumed``: the wait is over, but the
#: case goes back to its team's queue until someone starts work on it again.
STARTS = ("work_started",)
#: Events that take it out of one (work paused, handed over, or done).
STOPS = ("on_hold", "approval_requested", "resolved", "closed", "reassigned")


@dataclass
class Efforts:
    """Per case (index: case_id): hands-on minutes (NaN: unknown) and how it was measured."""

    minutes: pd.Series
    intervals: pd.Series  # work intervals counted per case
    unfinished: int  # cases still in a working state at the end of their log
    never_started: int  # cases whose log never shows work starting
    #: hands-on minutes done before the case's first hold (NaN: never held or unknown)
    before_hold: pd.Series | None = None


def work_efforts(
    log: pd.DataFrame,
    start: datetime | None = None,
    working_hours: list[Shift] | None = None,
) -> Efforts:
    """Hands-on minutes of each case of one replication's log (rows of any order).

    ``start`` is minute 0 on the desk's local clock; with ``working_hours`` only the minutes
    of each work interval inside those hours count.
    """
    ev = event_codes(log)
    starts = np.isin(ev, [EVENT_CODE[e] for e in STARTS])
    stops = np.isin(ev, [EVENT_CODE[e] for e in STOPS])
    frame = pd.DataFrame(
        {
            "case": log["case_id"].to_numpy(np.int64),
            "ts": log["ts"].to_numpy(float),
            "kind": np.where(starts, 1, np.where(stops, -1, 0)),
            "code": ev,
        }
    )
    frame = frame[frame["kind"] != 0]
    # at equal times a start follows a stop (hand-over then pick-up), in lifecycle order
    frame = frame.sort_values(["case", "ts", "code"], kind="stable")
    calendar = Calendar.from_shifts(working_hours, start) if working_hours and start else None
    minutes: dict[int, float] = {}
    counted: dict[int, int] = {}
    before_hold: dict[int, float] = {}
    unfinished = 0
    cases = frame["case"].to_numpy()
    ts, kind = frame["ts"].to_numpy(), frame["kind"].to_numpy()
    hold = frame["code"].to_numpy() == EVENT_CODE["on_hold"]
    bounds = list(np.flatnonzero(np.r_[True, cases[1:] != cases[:-1]])) if len(cases) else []
    ends = bounds[1:] + [len(cases)] if bounds else []
    for a, b in zip(bounds, ends, strict=True):
        total, n, since = 0.0, 0, None
        case = int(cases[a])
        for t, k, h in zip(ts[a:b], kind[a:b], hold[a:b], strict=True):
            if k > 0 and since is None:
                since = t
            elif k < 0 and since is not None:
                total += calendar.on_minutes(since, t) if calendar else t - since
                n, since = n + 1, None
            if h and case not in before_hold:
                before_hold[case] = total
        if since is not None:
            unfinished += 1
            minutes[case] = np.nan
        elif n:
            minutes[case] = total
        counted[case] = n
    all_cases = np.unique(log["case_id"].to_numpy(np.int64))
    out = pd.Series(minutes, dtype=float).reindex(all_cases)
    started = set(cases[kind > 0].tolist())
    return Efforts(
        minutes=out,
        intervals=pd.Series(counted, dtype=float).reindex(all_cases).fillna(0).astype(int),
        unfinished=unfinished,
        never_started=int(sum(1 for c in all_cases if int(c) not in started)),
        before_hold=pd.Series(before_hold, dtype=float).reindex(all_cases),
    )


#: Rows that end a hold.
HOLD_ENDS = ("resumed", "work_started", "resolved", "closed")


def hold_minutes(frame: pd.DataFrame, horizon: float) -> pd.Series:
    """Per held case (index), minutes on hold; ``frame`` has columns case, ts, ev."""
    rows = frame[frame["ev"].isin(("on_hold", *HOLD_ENDS))].sort_values(
        ["case", "ts"], kind="stable"
    )
    total: dict[int, float] = {}
    since: dict[int, float] = {}
    for case, t, e in rows.itertuples(index=False):
        if e == "on_hold":
            since.setdefault(case, t)
            total.setdefault(case, 0.0)
        elif case in since:
            total[case] += t - since.pop(case)
    for case, t in since.items():
        total[case] += max(horizon - t, 0.0)
    return pd.Series(total, dtype=float).sort_index()
