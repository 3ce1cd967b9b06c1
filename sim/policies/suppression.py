"""Alert suppression: deciding whether a routed case notifies a human, or is kept quiet.

Borrowed from alerting tools: grouping by a correlation key within a group interval, inhibition
of child cases while their parent is open, and a rate cap per agent on duty. Deduplication of
repeated detections happens earlier, at detection (``Simulation.duplicate``). The decision
returns the reason to suppress, or None to notify; either way the engine logs it, so alert load
before and after suppression is measurable from the log.
"""

from __future__ import annotations

from collections import deque

from sim.case import Case
from sim.policies.schema import Suppression


class Suppressor:
    def __init__(self, spec: Suppression) -> None:
        self.spec = spec
        self.group_by = spec.group_by
        self.last_group_alert: dict[tuple, float] = {}
        self.recent: dict[str, deque[float]] = {}

    @property
    def active(self) -> bool:
        s = self.spec
        return bool(s.group_by or s.inhibit_children or s.max_alerts_per_agent_hour)

    def decide(
        self, case: Case, now: float, team_name: str, agents_on: int
    ) -> tuple[str | None, float]:
        """(reason to suppress the notification, or None; minutes to hold it back)."""
        spec = self.spec
        if spec.inhibit_children and case.parent is not None and not case.parent.resolved:
            return "inhibited:parent-open", 0.0
        wait = 0.0
        if self.group_by:
            key = tuple(
                case.category if f == "category" else getattr(case, _ATTR[f]) for f in self.group_by
            )
            last = self.last_group_alert.get(key)
            if last is not None and now - last < spec.group_interval_min:
                return "grouped", 0.0
            wait = spec.group_wait_min  # a new group: its notification goes out after the wait
            self.last_group_alert[key] = now + wait
        cap = spec.max_alerts_per_agent_hour
        if cap:  # decisions come in time order, so the window only moves forward
            window = self.recent.setdefault(team_name, deque())
            while window and window[0] <= now - 60.0:
                window.popleft()
            if len(window) >= cap * max(agents_on, 1):
                return "rate-capped", 0.0
            window.append(now)
        return None, wait


_ATTR = {"warehouse": "warehouse", "site": "site", "customer_tier": "tier"}
