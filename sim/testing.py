"""Policy outcomes as plain pytest assertions, for QA suites that gate a policy change.

A QA engineer writes what the desk must achieve, the same requirements ``exsim check`` takes::

    from sim.testing import run_policy

    def test_odoo_rules_keep_the_sla():
        outcome = run_policy("baseline", "odoo-rules", days=7, reps=3, seed=1)
        outcome.require("sla.overall>=0.9", "missed_detections==0")

``require`` raises an AssertionError listing every failed requirement with its observed value
and 95% interval. The runs are seeded, so a test that passes keeps passing until the policy or
the model changes. Installing exsim registers this module as a pytest plugin (``pytest11``
entry point ``exsim``), which provides the ``exsim`` fixture, whose ``run`` is
:func:`run_policy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the plugin is imported by every pytest run in the venv: keep it light
    from sim.experiments.requirements import Requirement, Verdict
    from sim.policies.schema import Policy
    from sim.scenarios.schema import Scenario


@dataclass
class PolicyOutcome:
    """The summary of a replicated run (``summarize_reps`` shape) and checks against it."""

    scenario: str
    policy: str
    seed: int
    reps: int
    summary: dict

    def value(self, path: str) -> float | None:
        """The KPI at a dotted path, e.g. ``outcome.value("queue_wait_min.p90")``."""
        from sim.experiments.requirements import lookup

        return lookup(self.summary, path)

    def check(self, *requirements: str | Requirement) -> list[Verdict]:
        from sim.experiments.evaluation import requirements_of
        from sim.experiments.requirements import evaluate

        return evaluate(self.summary, requirements_of(requirements))

    def require(self, *requirements: str | Requirement) -> list[Verdict]:
        """Assert every requirement; the AssertionError lists each failure with its value."""
        verdicts = self.check(*requirements)
        failed = [v for v in verdicts if not v.passed]
        if failed:
            lines = [
                f"{len(failed)} of {len(verdicts)} requirements failed for "
                f"{self.scenario} × {self.policy} (seed {self.seed}, {self.reps} reps):"
            ]
            for v in failed:
                ci = f" 95% CI [{v.lo:.4g}, {v.hi:.4g}]" if v.lo is not None else ""
                seen = "undefined" if v.observed is None else f"{v.observed:.4g}"
                lines.append(f"  {v.requirement}: observed {seen}{ci}")
            raise AssertionError("\n".join(lines))
        return verdicts


def run_policy(
    scenario: Scenario | str | Path = "default",
    policy: Policy | str | Path = "default",
    days: float | None = None,
    reps: int = 1,
    seed: int = 1,
    warmup_days: float = 0.0,
    workers: int | None = None,
    backend: Any = "processes",
) -> PolicyOutcome:
    """Run ``reps`` replications of a scenario (library name, path or model) under a policy."""
    from sim import config
    from sim.experiments.compare import as_policy
    from sim.experiments.evaluation import evaluate_policy
    from sim.runner import RunSettings
    from sim.scenarios.schema import Scenario

    if isinstance(scenario, Scenario):
        scen = scenario
        if days is not None:
            scen = config.validate(
                Scenario, {**scen.model_dump(exclude_unset=True), "horizon_days": days}, scen.name
            )
    else:
        scen = config.load_scenario(scenario, {"horizon_days": days} if days else None)
    pol = as_policy(policy)
    settings = RunSettings(seed, reps, warmup_days * 1440.0, workers, backend)
    outcome = evaluate_policy(scen, pol, (), settings)
    return PolicyOutcome(scen.name, pol.name, seed, reps, outcome.summary)


class _Harness:
    """What the ``exsim`` fixture gives a test: ``exsim.run(...)`` -> :class:`PolicyOutcome`."""

    run = staticmethod(run_policy)


try:  # the fixture exists only where pytest does
    import pytest

    @pytest.fixture
    def exsim() -> _Harness:
        """Run policies and assert their outcomes: ``exsim.run(...).require(...)``."""
        return _Harness()

except ImportError:  # pragma: no cover
    pass
