"""Exception arrivals: a Poisson process whose rate follows the clock.

Exceptions cluster in working hours and on weekdays. A category's arrivals are a
non-homogeneous Poisson process with a rate that is constant within each hour of the week:
``rate_per_hour`` (the weekly average) times the normalised hour-of-day and day-of-week profile.
The next arrival is found by inversion: draw one unit exponential and walk forward through the
hourly segments until the integrated rate reaches it. Exact, and one random number per arrival.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from sim.scenarios.schema import Profile, Volume


def week_rates(rate_per_hour: float, profile: Profile | None) -> list[float]:
    """Rate per minute for each of the 168 hours of the week (Monday 00:00 first)."""
    if profile is None:
        return [rate_per_hour / 60.0] * 168
    shape = [d * h for d in profile.weekly for h in profile.hourly]
    scale = rate_per_hour / 60.0 * 168 / sum(shape)
    return [s * scale for s in shape]


class ArrivalClock:
    """Successive arrival times of one category (minutes since the scenario start).

    With a ``volume`` the rate is also scaled by the factor of the period ``t`` falls in
    (``sim.scenarios.schema.Volume``), so segments end at period boundaries too.
    """

    __slots__ = ("rates", "offset", "exp", "constant", "period", "factors")

    def __init__(
        self,
        rate_per_hour: float,
        profile: Profile | None,
        start: datetime,
        exp: Callable[[], float],
        volume: Volume | None = None,
    ) -> None:
        self.rates = week_rates(rate_per_hour, profile)
        self.offset = start.weekday() * 1440 + start.hour * 60 + start.minute + start.second / 60
        self.exp = exp
        self.constant = self.rates[0] if len(set(self.rates)) == 1 else None
        self.period = volume.period_days * 1440.0 if volume is not None else math.inf
        self.factors = list(volume.factors) if volume is not None else [1.0]
        if volume is not None:
            self.constant = None

    def next_after(self, t: float) -> float:
        """Time of the next arrival after ``t`` (``inf`` when the rate is zero for good)."""
        e = self.exp()
        if self.constant is not None:
            return t + e / self.constant if self.constant > 0 else math.inf
        rates, offset = self.rates, self.offset
        if self.period == math.inf:  # no volume over time: the weekly profile alone (hot path)
            idle_hours = 0
            while True:
                hour = int((t + offset) // 60)
                seg_end = (hour + 1) * 60 - offset
                r = rates[hour % 168]
                if r > 0:
                    idle_hours = 0
                    cap = r * (seg_end - t)
                    if e <= cap:
                        return t + e / r
                    e -= cap
                else:  # a whole week without a positive rate: never again
                    idle_hours += 1
                    if idle_hours > 168:
                        return math.inf
                t = seg_end
        period, factors, last = self.period, self.factors, len(self.factors) - 1
        idle_hours = 0
        while True:
            hour = int((t + offset) // 60)
            seg_end = (hour + 1) * 60 - offset
            k = min(int(t // period), last) if period < math.inf else 0
            if k < last:
                seg_end = min(seg_end, (k + 1) * period)
            r = rates[hour % 168] * factors[k]
            if r > 0:
                idle_hours = 0
                cap = r * (seg_end - t)
                if e <= cap:
                    return t + e / r
                e -= cap
            elif k == last:  # idle in the last period: idle for good after a week of it
                idle_hours += 1
                if idle_hours > 168:
                    return math.inf
            t = seg_end
