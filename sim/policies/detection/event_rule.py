"""Automation rule on create/update (``base.automation``, trigger on_create_or_write).

Odoo runs the rule synchronously inside the transaction of the write that made the record
match, so detection latency is zero. If the rule's action raises, the whole write rolls back:
the case is then not flagged by this rule at all and can only be caught by another mechanism.
``failure_prob`` models how often that happens.
"""

from __future__ import annotations

from sim.case import Case
from sim.policies.detection import register
from sim.policies.schema import EventRule
from sim.port import Port
from sim.streams import Stream


@register("event_rule")
class EventRuleDetector:
    params = EventRule

    def __init__(self, port: Port, category: str, spec: EventRule, stream: Stream) -> None:
        self.port = port
        self.p_fail = spec.failure_prob
        self.stream = stream

    def watch(self, case: Case) -> None:
        if self.p_fail and self.stream.random() < self.p_fail:
            return
        self.port.detect(case, "event_rule")
