"""Experiments: many runs, one question.

``compare`` runs several policies on the same replications (common random numbers) and
reports each KPI with its 95% interval and the paired difference to the first policy;
``sweep`` runs a grid of parameter settings and finds the Pareto front; ``staffing.recommend``
searches the smallest headcount meeting a target; ``requirements`` judges outcomes against
thresholds (``exsim check``). All of them are bags of independent, fully seeded run units
(``jobs``) executed by a backend (``backends``: serial, local processes or Dask) that returns
the same numbers whichever one ran them. Every one takes a ``RunSettings`` (seed, replications,
warm-up, workers, backend: ``sim.runner``); ``evaluation`` is the one path from a policy to
judged requirements (``exsim check``, ``exsim staff``, ``sim.testing``).
"""

from sim.experiments.backends import BackendError, map_runs
from sim.experiments.compare import Comparison, compare
from sim.experiments.evaluation import Evaluation, evaluate_policy
from sim.experiments.jobs import Outcome, Unit, run_unit
from sim.experiments.requirements import Requirement, RequirementError, Verdict, evaluate, parse
from sim.experiments.staffing import StaffPlan, recommend
from sim.experiments.sweep import Sweep, sweep
from sim.pareto import pareto_front
from sim.runner import RunSettings

__all__ = [
    "BackendError",
    "Comparison",
    "Evaluation",
    "Outcome",
    "Requirement",
    "RequirementError",
    "RunSettings",
    "StaffPlan",
    "Sweep",
    "Unit",
    "Verdict",
    "compare",
    "evaluate",
    "evaluate_policy",
    "map_runs",
    "pareto_front",
    "parse",
    "recommend",
    "run_unit",
    "sweep",
]
