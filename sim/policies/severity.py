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
from sim.policies.conditions import Check, Rules
from sim.policies.schema import AiScorer, Condition, SeverityPolicy
from sim.streams import Streams


def matches(cond: Condition, case: Case, now: float = 0.0) -> bool:
    """Whether ``case`` meets ``cond`` at ``now``: every field it sets must hold."""
    return Check(cond).holds(case, now)


@plugins.register("scorers", "rules")
class RuleScorer:
    """Scores a case: returns (severity rank, reason, extra triage minutes)."""

    params = None

    def __init__(self, policy: SeverityPolicy, *_: object) -> None:
        #: (test, severity rank, reason) per rule, in order; a check is the rule's condition
        #: copied into plain values once (see :mod:`sim.policies.conditions`)
        self.rules = [
            (Check(r.when), SEVERITY_RANK[r.severity], f"rule:{r.id}") for r in policy.rules
        ]
        self.default = (SEVERITY_RANK[policy.default], "default")
        #: the same scoring as a compiled object (what the engine calls for the rules alone)
        self.scoring = Rules(self.rules, self.default)

    def truth(self, case: Case, now: float = 0.0) -> tuple[int, str]:
        """(severity rank, reason) the rules give ``case`` at ``now``."""
        return self.scoring.truth(case, now)

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
    return RuleScorer(policy).scoring  # the rules alone: called natively in a compiled build
