"""One evaluation path: run a policy on run settings, then judge requirements on its outcome.

``exsim check`` judges one policy, ``exsim staff`` judges every headcount it tries, and
``sim.testing.run_policy`` gives a QA test the outcome to judge; all three fold the
replications' summaries into one (``kpis.fold``: means with 95% intervals) and judge that with
``requirements.evaluate``, through :func:`judge`. :func:`evaluate_policy` is the whole path for
one policy: load is the caller's (the CLI reports bad input its own way), then run
(``compare`` on one policy: the same units, backend and seeds as any experiment) and judge.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sim.experiments.compare import as_policy, as_scenario, compare
from sim.experiments.kpis import fold
from sim.experiments.requirements import Requirement, Verdict, evaluate, parse
from sim.policies.schema import Policy
from sim.runner import RunSettings
from sim.scenarios.schema import Scenario


@dataclass
class Evaluation:
    """A policy's folded summary (``summarize_reps`` shape) and the verdict on each
    requirement (none when only the outcome was asked for)."""

    summary: dict
    verdicts: list[Verdict]

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)


def requirements_of(texts: Sequence[Requirement | str]) -> list[Requirement]:
    """Requirements given as text (``'sla.overall>=0.95'``) or already parsed."""
    return [t if isinstance(t, Requirement) else parse(t) for t in texts]


def judge(
    per_rep: Sequence[dict], requirements: Sequence[Requirement], on_ci: bool = False
) -> Evaluation:
    """The replications' summaries folded into one and judged (on the mean, or with
    ``on_ci`` on the 95% interval's bound)."""
    summary = fold(list(per_rep))
    return Evaluation(summary, evaluate(summary, list(requirements), on_ci))


def evaluate_policy(
    scenario: Scenario | str | Path,
    policy: Policy | str | Path,
    requirements: Sequence[Requirement | str] = (),
    settings: RunSettings = RunSettings(),
    progress: Callable[[float], None] | None = None,
    on_ci: bool = False,
) -> Evaluation:
    """Run ``policy`` on ``settings`` and judge ``requirements`` against the outcome."""
    reqs = requirements_of(requirements)
    pol = as_policy(policy)
    res = compare(as_scenario(scenario), [pol], settings, progress, keep_logs=False)
    return judge(res.per_rep[pol.name], reqs, on_ci)
