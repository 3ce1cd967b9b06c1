"""Test helpers: run a model and read its log."""

from __future__ import annotations

import pandas as pd

from sim.engine import Simulation
from sim.eventlog import to_pandas
from sim.metrics import case_table


def run_log(scenario, policy, seed: int = 1, rep: int = 0) -> pd.DataFrame:
    return to_pandas(Simulation(scenario, policy, seed=seed, rep=rep).run().table())


def run_cases(scenario, policy, seed: int = 1) -> pd.DataFrame:
    return case_table(run_log(scenario, policy, seed))
