"""Webhook to middleware (server action "Send Webhook Notification" to an n8n workflow).

Odoo POSTs the record as JSON with a 1-second timeout and does not retry: a push that times out
or fails (``loss_prob``), or finds the middleware down (``outages``), is simply gone, and only
another mechanism (a reconciliation scan) can still catch the case. A received event runs the
workflow after ``latency_min``; its downstream step (create the alert, open the ticket) fails
with ``step_fail_prob`` and is retried with exponential backoff (``backoff_min``, doubling),
``retries`` times; an event that exhausts them waits in the dead-letter queue until the next
review. Some deliveries arrive twice (``duplicate_prob``). Every attempt, like the dead-letter
review, first checks the record still matches: a case that cleared meanwhile raises no alert
(and a closed case never gets an event). Each step is a timeout callback: no process per case.
"""

from __future__ import annotations

from sim.case import Case
from sim.policies.detection import register
from sim.policies.schema import Webhook
from sim.port import Port
from sim.streams import Stream


@register("webhook")
class WebhookDetector:
    params = Webhook

    def __init__(self, port: Port, category: str, spec: Webhook, stream: Stream) -> None:
        self.port = port
        self.spec = spec
        self.stream = stream
        self.outages = [(o.start_min, o.start_min + o.duration_min) for o in spec.outages]
        self.lost = 0  # pushes Odoo sent into a timeout, a failure or an outage
        self.dead_lettered = 0  # events whose workflow step failed every retry
        self.category = category
        port.at_end(self._report)

    def _report(self) -> None:
        self.port.outcome(
            ("detectors", "webhook", self.category),
            {"lost": self.lost, "dead_lettered": self.dead_lettered},
        )

    def down(self, t: float) -> bool:
        return any(a <= t < b for a, b in self.outages)

    def watch(self, case: Case) -> None:
        spec = self.spec
        lost = self.stream.random() < spec.loss_prob
        if lost or self.down(self.port.now):
            self.lost += 1
            return
        self._later(spec.latency_min, (case, 0))

    def _later(self, delay: float, value) -> None:
        self.port.schedule(delay, self._attempt, value)

    def _attempt(self, value) -> None:
        case, attempt = value
        spec = self.spec
        if not case.matching:
            # the workflow's step looks the record up before it alerts (as the dead-letter
            # review does): a case that cleared (and may have closed) meanwhile is dropped
            return
        if self.stream.random() >= spec.step_fail_prob:
            self.port.detect(case, "webhook")
            if spec.duplicate_prob and self.stream.random() < spec.duplicate_prob:
                self.port.duplicate(case, "webhook")
            return
        if attempt < spec.retries:
            self._later(spec.backoff_min * 2**attempt, (case, attempt + 1))
            return
        self.dead_lettered += 1
        review = spec.dead_letter
        if review is None:
            return
        now = self.port.now
        k = max(0, -(-(now - review.offset_min) // review.every_min))
        at = review.offset_min + k * review.every_min
        self.port.schedule(at - now, self._from_dead_letter, case)

    def _from_dead_letter(self, case) -> None:
        if case.matching:
            self.port.detect(case, "webhook")
