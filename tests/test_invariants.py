"""Invariants of every event log: each shipped scenario under each shipped policy, briefly.

Whatever a policy does, a case's history must make sense: it occurs once, its events come in
time order, nothing happens to it after it is closed unless it is reopened (which starts a new
cycle), and every case is either resolved or still open at the horizon (conservation).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from sim import config
from sim.eventlog import to_pandas
from sim.metrics import summarize_reps
from sim.runner import simulate

SCENARIOS = sorted(config.library("scenarios"))
POLICIES = sorted(config.library("policies"))
DAYS = 2.0


def histories(df: pd.DataFrame):
    """Each case's history, ``(rep, case_id, event names, timestamps)``, cases in order of first
    appearance and events in log order (``groupby(sort=False)``, without a frame per case)."""
    if df.empty:
        return
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(df[["rep", "case_id"]]))
    order = np.argsort(codes, kind="stable")
    names = df["event"].astype(str).to_numpy()[order].tolist()
    ts = df["ts"].to_numpy()[order]
    ends = np.flatnonzero(np.diff(codes[order])) + 1
    for (rep, case), lo, hi in zip(uniques, [0, *ends], [*ends, len(order)], strict=True):
        yield rep, case, names[lo:hi], ts[lo:hi]


def violations(df: pd.DataFrame) -> list[str]:
    """Everything wrong with a log's case histories (empty when it is sound)."""
    out: list[str] = []
    for rep, case, names, ts in histories(df):
        where = f"rep {rep} case {case}"
        if names.count("occurred") != 1:
            out.append(f"{where}: {names.count('occurred')} 'occurred' events")
        # 'occurred' may be backdated before the trigger; every later event is in time order
        body = ts[1:] if names and names[0] == "occurred" else ts
        if (body[1:] < body[:-1] - 1e-9).any():
            out.append(f"{where}: events out of time order")
        closed = False
        for name in names:
            if closed and name != "reopened":
                out.append(f"{where}: {name!r} after 'closed'")
                break
            if name == "closed":
                closed = True
            elif name == "reopened":
                closed = False
    return out


@pytest.mark.parametrize(("scenario", "policy"), list(itertools.product(SCENARIOS, POLICIES)))
def test_every_shipped_pair_keeps_the_case_invariants(scenario, policy):
    scen = config.load_scenario(scenario, {"horizon_days": DAYS})
    pol = config.load_policy(policy)
    df = to_pandas(simulate(scen, pol, seed=3))
    assert len(df) > 0
    problems = violations(df)
    assert not problems, problems[:5]
    cases = summarize_reps(df)["cases"]
    assert cases["generated"] == cases["resolved"] + cases["open"]
    assert cases["generated"] == df.loc[df["event"] == "occurred", ["rep", "case_id"]].shape[0]


def test_a_webhook_retry_does_not_detect_a_case_that_closed_meanwhile():
    """carrier-outage under webhook-n8n-reconciled, 14 days, seed 3: case 632 was detected,
    assigned and notified after it had closed (a middleware retry after it cleared)."""
    scen = config.load_scenario("carrier-outage", {"horizon_days": 14})
    pol = config.load_policy("webhook-n8n-reconciled")
    df = to_pandas(simulate(scen, pol, seed=3))
    assert not violations(df)


def test_the_checker_sees_an_event_after_closed():
    rows = pd.DataFrame(
        {
            "rep": [0] * 4,
            "case_id": [1] * 4,
            "ts": [0.0, 1.0, 2.0, 3.0],
            "event": ["occurred", "resolved", "closed", "detected"],
        }
    )
    assert violations(rows) == ["rep 0 case 1: 'detected' after 'closed'"]
    rows.loc[3, "event"] = "reopened"
    assert violations(rows) == []
