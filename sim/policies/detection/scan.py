"""Scheduled scan (``ir.cron`` running a search for records stuck past a threshold).

The job is due every ``interval_min`` (its ``nextcall`` advances by the interval whatever the
run's actual start), and cron workers poll about once a minute, so each run starts a uniform
``0..lag_min`` after it is due. A run catches every case of its category that has been in the
condition for at least ``threshold_min`` and is not yet resolved; it flags what it caught, so it
never reports the same case twice. Latency is therefore threshold + (0..interval) + lag.
"""

from __future__ import annotations

from collections import deque

from sim.case import Case
from sim.policies.detection import register
from sim.policies.schema import Scan
from sim.streams import Stream


@register("scan")
class ScanDetector:
    def __init__(self, sim, category: str, spec: Scan, stream: Stream) -> None:
        self.sim = sim
        self.spec = spec
        self.stream = stream
        self.pending: deque[Case] = deque()  # in occurrence order
        sim.env.process(self._run())

    def watch(self, case: Case) -> None:
        self.pending.append(case)

    def _run(self):
        env, spec, pending = self.sim.env, self.spec, self.pending
        due = spec.offset_min
        while True:
            lag = spec.lag_min * self.stream.random() if spec.lag_min else 0.0
            start = due + lag
            if start >= env.now:
                yield env.timeout(start - env.now)
                cutoff = env.now - spec.threshold_min
                while pending and pending[0].occurred <= cutoff:
                    case = pending.popleft()
                    if not case.resolved:
                        self.sim.detect(case, "scan")
            due += spec.interval_min
