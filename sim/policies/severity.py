"""Severity scoring: ordered rules over a case's business attributes, optionally AI-assisted.

Like an on-call tool's routing tree, the first rule whose conditions all hold wins and its id is
written to the log as the reason (``classified`` row, ``detail`` column); no match gives the
policy's default severity. The AI-assisted scorer (``AiScorer``) is a calibrated noisy
classifier in front of the rules: see ``sim.policies.schema.AiScorer`` for the model and what it
costs. A package adds a scorer through the ``exsim.scorers`` entry point: a class built as
``Scorer(port, severity_policy, params)`` and called as ``scorer(case, now) -> (severity rank,
reason, extra triage minutes)``; subclassing :class:`RuleScorer` gives it the rules as truth.
"""

from __future__ import annotations

import sim.plugins as plugins
from sim.case import Case
from sim.eventlog import SEVERITIES, SEVERITY_RANK
from sim.generators.distributions import Sampler
from sim.policies.schema import AiScorer, Condition, SeverityPolicy
from sim.streams import Streams


def matches(cond: Condition, case: Case, now: float = 0.0) -> bool:
    if cond.category is not None and case.category not in cond.category:
        return False
    if cond.customer_tier is not None and case.tier not in cond.customer_tier:
        return False
    if cond.site is not None and case.site not in cond.site:
        return False
    if cond.warehouse is not None and case.warehouse not in cond.warehouse:
        return False
    if cond.recorded_severity is not None and case.recorded_severity not in cond.recorded_severity:
        return False
    if cond.order_value_min is not None and not case.value >= cond.order_value_min:
        return False
    if cond.order_value_max is not None and not case.value <= cond.order_value_max:
        return False
    if cond.hours_to_promise_max is not None and not (
        (case.promise - now) / 60.0 <= cond.hours_to_promise_max
    ):
        return False  # (no promise: NaN never matches)
    return cond.sla_minutes_left_max is None or case.due - now <= cond.sla_minutes_left_max


@plugins.register("scorers", "rules")
class RuleScorer:
    """Scores a case: returns (severity rank, reason, extra triage minutes)."""

    params = None

    def __init__(self, policy: SeverityPolicy, *_: object) -> None:
        self.rules = [(r.when, SEVERITY_RANK[r.severity], f"rule:{r.id}") for r in policy.rules]
        self.default = (SEVERITY_RANK[policy.default], "default")

    def truth(self, case: Case, now: float = 0.0) -> tuple[int, str]:
        for cond, rank, reason in self.rules:
            if matches(cond, case, now):
                return rank, reason
        return self.default

    def __call__(self, case: Case, now: float = 0.0) -> tuple[int, str, float]:
        rank, reason = self.truth(case, now)
        return rank, reason, 0.0


class AiAssistedScorer(RuleScorer):
    """The rules are the ground truth; a calibrated classifier sits in front.

    Its confidence ``c`` ~ Beta(accuracy * sharpness, (1 - accuracy) * sharpness) and it is right
    with probability ``c``, so the confidence predicts correctness and the threshold trades
    human triage time for accuracy of what the model decides alone.
    """

    def __init__(self, policy: SeverityPolicy, spec: AiScorer, streams: Streams) -> None:
        super().__init__(policy)
        self.spec = spec
        self.stream = streams.stream("severity/ai")
        self.confidence = streams.generator("severity/ai-confidence")
        self.a = spec.accuracy * spec.sharpness
        self.b = (1.0 - spec.accuracy) * spec.sharpness
        self.triage = Sampler(spec.triage_min, streams.generator("severity/ai-triage"))

    def __call__(self, case: Case, now: float = 0.0) -> tuple[int, str, float]:
        true_rank, reason = self.truth(case, now)
        spec, u = self.spec, self.stream
        confidence = float(self.confidence.beta(self.a, self.b))
        right = u.random() < confidence
        if confidence < spec.confidence_threshold:
            return true_rank, f"human-triage ({reason})", self.triage()
        if right:
            predicted = true_rank
        else:
            others = [r for r in range(len(SEVERITIES)) if r != true_rank]
            predicted = others[int(u.random() * len(others))]
        label = SEVERITIES[predicted]
        if spec.authoritative:
            return predicted, f"ai:{label}", 0.0
        return true_rank, f"{reason} (ai advised {label})", 0.0


def scorer(policy: SeverityPolicy, streams: Streams, port=None):
    """The policy's scorer: a plug-in named in ``severity.scorer``, the AI-assisted one, or the
    rules alone."""
    if policy.scorer is not None:
        ((name, raw),) = policy.scorer.items()
        return plugins.get("scorers", name)(port, policy, plugins.params("scorers", name, raw))
    if policy.ai is not None:
        return AiAssistedScorer(policy, policy.ai, streams)
    return RuleScorer(policy)
