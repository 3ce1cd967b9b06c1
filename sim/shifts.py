"""Shift calendars: when a group of agents is on duty.

A calendar is a set of weekly windows ("Mon-Fri 06:00-14:00") laid onto simulated time, which
counts minutes from the scenario start (itself some weekday and time of day). Windows that touch,
such as a night shift running past midnight or shifts back to back, merge into one stretch of
duty. Times are plain minutes: no time zones, no daylight saving.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from datetime import datetime

from sim.policies.schema import ALL_DAYS, Shift

WEEK = 7 * 1440


class Calendar:
    """Weekly on-duty windows, queried in simulated minutes."""

    def __init__(self, windows: Iterable[tuple[float, float]], start: datetime) -> None:
        merged: list[list[float]] = []
        for a, b in sorted((a % WEEK, a % WEEK + (b - a)) for a, b in windows if b > a):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        # a window running past the end of the week wraps onto Monday
        if merged and merged[-1][1] > WEEK:
            a, b = merged.pop()
            merged.append([a, WEEK])
            head = [0.0, b - WEEK]
            if merged[0][0] <= head[1]:
                merged[0][0] = 0.0
                merged[0][1] = max(merged[0][1], head[1])
            else:
                merged.insert(0, head)
        self.always = sum(b - a for a, b in merged) >= WEEK
        self.windows = [(a, b) for a, b in merged]
        self._starts = [a for a, _ in self.windows]
        self.offset = start.weekday() * 1440 + start.hour * 60 + start.minute + start.second / 60

    @classmethod
    def from_shift(cls, shift: Shift, start: datetime) -> Calendar:
        """Calendar of one policy shift (overnight when ``end`` is before ``start``)."""
        return cls.from_shifts([shift], start)

    @classmethod
    def from_shifts(cls, shifts: Iterable[Shift], start: datetime) -> Calendar:
        """One calendar covering every given shift's weekly windows (merged where they touch)."""
        windows = []
        for shift in shifts:
            s, e = shift.start_min, shift.end_min
            if e <= s:
                e += 1440
            windows += [
                (ALL_DAYS.index(d) * 1440 + s, ALL_DAYS.index(d) * 1440 + e) for d in shift.days
            ]
        return cls(windows, start)

    def _window_at(self, t: float) -> tuple[float, float] | None:
        """The window (in absolute minutes) containing t, or None."""
        w = (t + self.offset) % WEEK
        base = t - w
        i = bisect.bisect_right(self._starts, w) - 1
        if i >= 0:
            a, b = self.windows[i]
            if a <= w < b:
                return base + a, base + b
        return None

    def is_on(self, t: float) -> bool:
        return self.always or self._window_at(t) is not None

    def spans(self, t0: float, t1: float) -> Iterator[tuple[float, float]]:
        """On-duty stretches intersecting [t0, t1), clipped to it, in order."""
        if self.always:
            yield t0, t1
            return
        if not self.windows:
            return
        week_start = t0 - (t0 + self.offset) % WEEK
        while week_start < t1:
            for a, b in self.windows:
                lo, hi = max(week_start + a, t0), min(week_start + b, t1)
                if lo < hi:
                    yield lo, hi
            week_start += WEEK

    def on_minutes(self, t0: float, t1: float) -> float:
        return sum(b - a for a, b in self.spans(t0, t1))
