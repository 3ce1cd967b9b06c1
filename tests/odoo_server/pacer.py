"""Driving an injection on the test server's clock: simulated minutes pass in no time.

``ClockPacer`` is a pacer for ``sim.odoo.inject.Injector.run``: before each case (or
self-clearing) it moves the server's clock to its time, running every scheduled action that
falls due on the way exactly at its ``nextcall`` (as a cron worker without wake-up lag
would), so time rules and scans run on the same schedule as the simulator's (with
``lag_min: 0``). ``finish`` plays the clock on to the end of the horizon. Test server
only: a real Odoo keeps its own time.
"""

from __future__ import annotations

from collections.abc import Iterator

from sim.odoo.plan import Clear, PlannedCase, TimeMap

from .clock import format_datetime, parse_datetime
from .server import OdooTestServer


class ClockPacer:
    def __init__(self, server: OdooTestServer, time_map: TimeMap) -> None:
        self.server = server
        self.time = time_map

    def _next_due(self):
        rows = [r for r in self.server.db.tables["ir.cron"].values() if r["active"]]
        return min((parse_datetime(r["nextcall"]) for r in rows), default=None)

    def advance_to(self, minute: float, inclusive: bool = True) -> None:
        target = self.time.at(minute).replace(microsecond=0)
        while True:
            due = self._next_due()
            if due is None or due > target or (due == target and not inclusive):
                break
            self.server.clock.set(format_datetime(due))
            self.server.run_due_crons()
        self.server.clock.set(format_datetime(target))

    def __call__(self, items: list[PlannedCase | Clear]) -> Iterator[list[PlannedCase | Clear]]:
        for item in items:
            self.advance_to(item.at)
            yield [item]

    def finish(self, minute: float) -> None:
        """Play on to the horizon; a job due exactly then does not run (the simulation
        stops at its horizon before handling events scheduled there)."""
        self.advance_to(minute, inclusive=False)
