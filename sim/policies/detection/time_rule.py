"""Time-based automation rule (``base.automation`` with trigger "based on date field").

Odoo evaluates every time-based rule from one scheduled job, "Automation Rules: check and
execute". Its interval is a tenth of the shortest delay among all time rules (integer minutes),
at least 1 minute and at most 4 hours (and 4 hours when that shortest delay is 0); cron workers
then start it up to a minute late. Each rule remembers ``last_run``: on every evaluation it
searches the records matching its domain, computes ``action = trigger date + delay`` for each,
acts on those with ``last_run <= action < now`` and sets ``last_run = now``.

Two consequences are reproduced exactly. The blind spot: a record that starts matching after
its action time already fell behind ``last_run`` is never acted on. The go-live burst: a new
rule has no ``last_run``, so its first evaluation acts on every matching record already due.
A record acted on once is not acted on again (its action time stays behind ``last_run``).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator
from typing import Any

from sim.case import Case
from sim.policies.detection import register
from sim.policies.schema import TimeRule
from sim.port import Port
from sim.streams import Stream


def job_interval_min(delays_min: list[float]) -> float:
    """Interval of Odoo's shared time-rule job for rules with these delays (minutes)."""
    delay = min(delays_min, default=0)
    if not delay:
        return 240.0
    return float(min(max(1, math.floor(delay) // 10), 240))


class TimeRuleJob:
    """The one ir.cron that evaluates all time rules of a policy."""

    def __init__(self, port: Port) -> None:
        self.port = port
        self.rules: list[TimeRuleDetector] = []
        self.stream = port.stream("detection/time_rule_job")
        self.interval = 240.0
        self.lag = 1.0
        port.process(self._run())

    def _run(self) -> Generator[Any, Any, None]:
        # rules register while the model is built; the job starts once it first runs
        port = self.port
        given = [r.spec.job_interval_min for r in self.rules if r.spec.job_interval_min]
        self.interval = (
            min(given) if given else job_interval_min([r.spec.delay_min for r in self.rules])
        )
        self.lag = max(r.spec.lag_min for r in self.rules)
        drift = max(r.spec.lag_drift_min for r in self.rules)
        due = 0.0
        runs = 0
        while True:
            start = due + (self.lag * self.stream.random() if self.lag else 0.0) + runs * drift
            runs += 1
            now = port.now
            if start >= now:
                yield port.sleep(start - now)
                for rule in self.rules:
                    rule.evaluate(start)
            due += self.interval


@register("time_rule")
class TimeRuleDetector:
    params = TimeRule

    def __init__(self, port: Port, category: str, spec: TimeRule, stream: Stream) -> None:
        self.port = port
        self.spec = spec
        self.delay = spec.delay_min
        self.last_run = -math.inf if spec.new_rule else 0.0
        self.pending: list[tuple[float, int, Case]] = []  # heap on action time
        self.missed = 0  # cases whose window passed before they matched (the blind spot)
        self.category = category
        port.at_end(self._report)
        port.shared("time_rule_job", self._job).rules.append(self)

    def _job(self) -> TimeRuleJob:
        return TimeRuleJob(self.port)

    def _report(self) -> None:
        self.port.outcome(("detectors", "time_rule", self.category), {"missed": self.missed})

    def watch(self, case: Case) -> None:
        heapq.heappush(self.pending, (case.trigger + self.delay, case.id, case))

    def evaluate(self, now: float) -> None:
        pending, last_run = self.pending, self.last_run
        while pending and pending[0][0] < now:
            action, _, case = heapq.heappop(pending)
            if not case.matching:
                continue
            if action >= last_run:
                self.port.detect(case, "time_rule")
            else:
                self.missed += 1  # the blind spot: its window passed before it matched
        self.last_run = now
