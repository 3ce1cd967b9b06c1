"""Scheduled scan (``ir.cron`` running a search for records stuck past a threshold).

The job is due every ``interval_min`` (its ``nextcall`` advances by the interval whatever the
run's actual start), and cron workers poll about once a minute, so each run starts a uniform
``0..lag_min`` after it is due. A run that is still busy when the next one is due makes that
one skip (Odoo locks the job's row). A run catches every case of its category whose trigger
date is at least ``threshold_min`` old and that still matches (not resolved, not cleared); it
flags what it caught, so it never reports the same case twice. Latency after the threshold is
therefore 0..interval plus the lag.
"""

from __future__ import annotations

import heapq
from collections.abc import Generator
from typing import Any

from sim.case import Case
from sim.policies.detection import register
from sim.policies.schema import Scan
from sim.port import Port
from sim.streams import Stream


@register("scan")
class ScanDetector:
    params = Scan

    def __init__(self, port: Port, category: str, spec: Scan, stream: Stream) -> None:
        self.port = port
        self.spec = spec
        self.stream = stream
        self.pending: list[tuple[float, int, Case]] = []  # heap on trigger + threshold
        port.process(self._run())

    def watch(self, case: Case) -> None:
        heapq.heappush(self.pending, (case.trigger + self.spec.threshold_min, case.id, case))

    def _run(self) -> Generator[Any, Any, None]:
        port, spec, pending = self.port, self.spec, self.pending
        lag_min, drift, interval = spec.lag_min, spec.lag_drift_min, spec.interval_min
        run_min, only_undetected = spec.run_min, spec.only_undetected
        due: float = spec.offset_min
        busy_until = -1.0
        runs = 0
        while True:
            lag = lag_min * self.stream.random() if lag_min else 0.0
            start = due + lag + runs * drift
            runs += 1
            now = port.now
            if start >= now and start >= busy_until:
                yield port.sleep(start - now)
                now = start
                while pending and pending[0][0] <= now:
                    case = heapq.heappop(pending)[2]
                    if case.matching and not (only_undetected and case.detected):
                        port.detect(case, "scan")
                busy_until = now + run_min
            due += interval
