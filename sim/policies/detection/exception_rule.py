"""OCA exception rule (``exception.rule`` of ``base_exception``), checked at confirmation.

Unlike an automation rule, which runs inside every write that makes the record match, an
exception rule is evaluated when the document is confirmed (``action_confirm`` of a sale,
``button_confirm`` of a purchase, ``action_confirm``/``button_validate`` of a transfer): if
the condition holds then, the confirmation is refused and the exception linked to the
document, so the case is detected at that moment; it stays blocked until the desk fixes it or
waives it (``ignore_exception``). A condition that only arises after the document was
confirmed is never seen by the rule (``at_confirmation`` is the share of cases whose condition
is there in time), and one that clears before the confirmation is not there to see.
"""

from __future__ import annotations

from sim.case import Case
from sim.policies.detection import register
from sim.policies.schema import ExceptionRule
from sim.port import Port
from sim.streams import Stream


@register("exception_rule")
class ExceptionRuleDetector:
    params = ExceptionRule

    def __init__(self, port: Port, category: str, spec: ExceptionRule, stream: Stream) -> None:
        self.port = port
        self.spec = spec
        self.stream = stream

    def watch(self, case: Case) -> None:
        share = self.spec.at_confirmation
        if share < 1.0 and self.stream.random() >= share:
            return  # confirmed before the condition arose: the rule never looks again
        if self.spec.confirm_after_min:
            self.port.schedule(self.spec.confirm_after_min, self._confirm, case)
        else:
            self._confirm(case)

    def _confirm(self, case: Case) -> None:
        if case.matching and not case.resolved:
            self.port.detect(case, "exception_rule")
