"""Reference configurations that reduce the model to textbook queues.

``mmc`` builds the scenario and policy under which exsim *is* an M/M/c queue: one category with
Poisson arrivals, detection at occurrence, one team of c agents always on duty, exponential
handling, FIFO, no escalation. The tests compare it with the Erlang C formulas and the
benchmark races it against a bare SimPy M/M/c loop.
"""

from __future__ import annotations

from sim.policies.schema import Policy
from sim.scenarios.schema import Scenario


def mmc(
    arrivals_per_hour: float, mean_service_min: float, c: int, days: float = 30.0
) -> tuple[Scenario, Policy]:
    scenario = Scenario.model_validate(
        {
            "name": f"mmc-l{arrivals_per_hour:g}-s{mean_service_min:g}-c{c}",
            "horizon_days": days,
            "categories": {
                "exception": {
                    "rate_per_hour": arrivals_per_hour,
                    "handling_min": {"dist": "exponential", "mean": mean_service_min},
                    "has_customer": False,
                }
            },
        }
    )
    policy = Policy.model_validate(
        {
            "name": f"mmc-c{c}",
            "detection": {"*": {"event_rule": {}}},
            "routing": {"default": "desk"},
            "staffing": {"teams": {"desk": {"agents": c}}},
            "queue": {"discipline": "fifo"},
        }
    )
    return scenario, policy
