"""The engine reduced to M/M/c must agree with Erlang C (Wq and P(wait)) at light and heavy load.

Each check runs independent replications and asks that the analytic value fall inside the 99%
Student-t interval of the replication means (fixed seeds: the outcome is deterministic).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import erlang
from sim.reference import mmc
from sim.stats import mean_ci
from tests.helpers import run_cases

CASES = [
    # arrivals/hour, mean service (min), servers, days, replications
    pytest.param(30.0, 3.0, 3, 20, 8, id="rho=0.5"),
    pytest.param(54.0, 3.0, 3, 40, 8, id="rho=0.9", marks=pytest.mark.slow),
    pytest.param(50.0, 2.0, 2, 40, 8, id="rho=0.83,c=2", marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("lam", "service", "c", "days", "reps"), CASES)
def test_queue_wait_matches_erlang_c(lam, service, c, days, reps):
    scenario, policy = mmc(lam, service, c, days)
    warmup = 1440.0  # delete the first day (the queue starts empty)
    waits, waited = [], []
    for rep in range(reps):
        cases = run_cases(scenario, policy, seed=100 + rep)
        cases = cases[(cases["occurred"] >= warmup) & cases["work_started"].notna()]
        w = (cases["work_started"] - cases["assigned"]).to_numpy()
        waits.append(w.mean())
        waited.append(np.mean(w > 1e-9))
    lam_min, mu_min = lam / 60.0, 1.0 / service
    wq = erlang.mean_wait(lam_min, mu_min, c)
    pw = erlang.erlang_c(lam_min, mu_min, c)
    ci_w = mean_ci(waits, confidence=0.99)
    ci_p = mean_ci(waited, confidence=0.99)
    assert ci_w.lo <= wq <= ci_w.hi, (wq, ci_w)
    assert ci_p.lo <= pw <= ci_p.hi, (pw, ci_p)


def test_littles_law_on_long_run():
    """Time-average number in system = arrival rate x mean sojourn (stationary M/M/c)."""
    lam, service, c = 40.0, 4.0, 3
    scenario, policy = mmc(lam, service, c, days=60)
    cases = run_cases(scenario, policy, seed=3)
    done = cases[cases["resolved"].notna()]
    sojourn = (done["resolved"] - done["occurred"]).mean()
    lam_min = lam / 60.0
    theory_l = lam_min * (erlang.mean_wait(lam_min, 1 / service, c) + service)
    assert lam_min * sojourn == pytest.approx(theory_l, rel=0.05)
