"""The history world: recorded exceptions occur again, exactly when and as they did.

Where the injected world draws arrivals from rates, this world walks the historical cases
in time order and makes each occur at its recorded minute, with its category, business
attributes, trigger date, promise date and parent case. Its hands-on effort is the recorded
one where the log has it; otherwise a draw from the category's fitted handling distribution,
from the named stream ``replay/effort/<category>`` (so every policy replayed on the same seed
faces the same drawn efforts: common random numbers). A case the world cleared by itself keeps
its clearing delay. Its recorded severity (a service desk's priority or impact) goes with
it, for policy rules that read ``recorded_severity``, and so do its waits on others
(customer, vendor), as one hold after the same work done first. Nothing else is taken from
the log:
detection, routing, queueing, escalation and approvals are the policy's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.generators.distributions import Sampler
from sim.scenarios.schema import Distribution

if TYPE_CHECKING:
    from sim.case import Case
    from sim.engine import Simulation, World


def _opt(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _col(rows: pd.DataFrame, name: str) -> list[float]:
    if name not in rows:
        return [math.nan] * len(rows)
    return rows[name].to_numpy(float).tolist()


def recorded_hold(effort: float, hold_min: float, after: float) -> tuple | None:
    """The engine's hold of a case (work done first, minutes, reason) from its record.

    The engine puts a case down once, after part of its work; a history may wait several
    times, so the waits are summed into one. A wait before any work (or of a case whose
    effort is drawn) comes right after work starts; one after all of it just before the end.
    """
    if not (math.isfinite(hold_min) and hold_min > 0):
        return None
    work = effort if math.isfinite(effort) else math.nan
    first = after if math.isfinite(after) and math.isfinite(work) else 0.0
    if math.isfinite(work):
        first = min(first, work * (1 - 1e-6))
    return (max(first, 1e-6), hold_min, "recorded")


def _recorded(rows: pd.DataFrame) -> list:
    if "recorded_severity" not in rows:
        return [None] * len(rows)
    return [None if pd.isna(v) else str(v) for v in rows["recorded_severity"].astype(object)]


def history_world(cases: pd.DataFrame, handling: dict[str, Distribution]) -> World:
    """A world (``Simulation(world=...)``) replaying ``cases`` (see ``replay.history``).

    ``handling`` gives each category's distribution for the efforts the log does not know.
    """
    rows = cases.sort_values(["occurred", "case_id"], kind="stable")
    records = list(
        zip(
            rows["case_id"].to_numpy(np.int64).tolist(),
            rows["occurred"].to_numpy(float).tolist(),
            rows["category"].astype(str).tolist(),
            rows["effort"].to_numpy(float).tolist(),
            rows["order_value"].to_numpy(float).tolist(),
            [_opt(v) for v in rows["customer_tier"].astype(object)],
            [_opt(v) for v in rows["warehouse"].astype(object)],
            [_opt(v) for v in rows["site"].astype(object)],
            rows["trigger"].to_numpy(float).tolist(),
            rows["promise"].to_numpy(float).tolist(),
            rows["cleared_after"].to_numpy(float).tolist(),
            rows["parent_case_id"].astype("Float64").to_numpy(float, na_value=np.nan).tolist(),
            [_opt(v) for v in _recorded(rows)],
            _col(rows, "hold_min"),
            _col(rows, "hold_after"),
            strict=True,
        )
    )
    categories = sorted(set(rows["category"].astype(str)))

    def world(sim: Simulation) -> None:
        for name in categories:
            sim.watchers(name)  # scans start at minute 0, as in the injected world
        draws = {
            name: Sampler(handling[name], sim.streams.generator(f"replay/effort/{name}"))
            for name in categories
        }
        sim.env.process(_walk(sim, records, draws))

    return world


def _walk(sim: Simulation, records: list[tuple], draws: dict[str, Sampler]):
    env, horizon = sim.env, sim.horizon
    opened: dict[int, Case] = {}
    for record in records:
        (cid, t, category, effort, value, tier, wh, site, trigger, promise, cleared, parent,
         sev, hold_min, hold_after) = record  # fmt: skip
        if t >= horizon:
            break
        if t > env.now:
            yield env.timeout(t - env.now)
        # the draw is taken for every case, known effort or not, so that one case's draw
        # does not depend on how many others lacked an effort
        drawn = draws[category]()
        work = effort if math.isfinite(effort) else drawn
        case = sim.occur(
            category,
            env.now,
            work,
            value,
            tier,
            wh,
            site,
            trigger if math.isfinite(trigger) else None,
            cleared if math.isfinite(cleared) else None,
            opened.get(int(parent)) if math.isfinite(parent) else None,
            promise=promise,
            recorded_severity=sev,
            hold=recorded_hold(work, hold_min, hold_after),
        )
        opened[cid] = case
