"""Staffing: the smallest headcount per team and shift that meets a target, by simulation.

First the textbook guess. Each team owns some categories (``sim.policies.routing.owner``),
whose arrivals follow their hour-of-week profiles; a shift must absorb the work arriving while
it is on duty plus what piled up while nobody was (it lands at the next shift start). That
gives per (team, shift) an arrival rate, a mean handling time and an offered load, and Erlang
C (``sim.erlang.min_servers``) the fewest agents that pick cases up in time. Real desks are
not M/M/c (shifts, priorities, detection delays, escalations), so the guess is then checked by
simulation on common random numbers: add one agent at a time to the team with the worst SLA
(on its busiest shift) until every requirement holds, then take agents away one at a time,
cheapest-first, while they still hold. The answer is a headcount from which no single agent
can be removed without breaking the target, on these seeds.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sim import erlang
from sim.config import validate
from sim.experiments.backends import map_runs
from sim.experiments.compare import as_policy, as_scenario
from sim.experiments.evaluation import judge, requirements_of
from sim.experiments.jobs import Unit
from sim.experiments.requirements import Requirement, Verdict
from sim.generators.arrivals import week_rates
from sim.policies.routing import owner
from sim.policies.schema import ALL_DAYS, Policy
from sim.runner import RunSettings
from sim.scenarios.schema import Scenario

Progress = Callable[[float], None]
Headcount = dict[str, list[int]]  # team -> agents per shift, in the policy's shift order
HOURS = 168


@dataclass
class ShiftLoad:
    """The Erlang view of one team's shift: what it must absorb and the agents that takes."""

    team: str
    shift: str
    arrivals_per_hour: float
    mean_service_min: float
    offered_load: float  # busy agents on average while on duty
    erlang: int  # Erlang C / square-root staffing estimate


@dataclass
class StaffPlan:
    """The recommendation: headcount, the policy that has it, and how it performed."""

    policy: Policy
    headcount: Headcount
    loads: list[ShiftLoad]
    summary: dict
    verdicts: list[Verdict]
    met: bool
    evaluations: int
    history: list[tuple[str, Headcount, bool]] = field(default_factory=list)

    @property
    def cost(self) -> float | None:
        return (self.summary.get("labour") or {}).get("cost")

    def shift_names(self) -> dict[str, list[str]]:
        return {
            t: [s.name for s in spec.shift_list()] for t, spec in self.policy.staffing.teams.items()
        }


def offered_loads(
    scenario: Scenario, policy: Policy, service_level: float = 0.8
) -> list[ShiftLoad]:
    """Per (team, shift): arrival rate, mean handling time, offered load and Erlang estimate.

    ``service_level`` is the share of cases to pick up within the tightest category SLA of the
    team, less the handling time (the Erlang C service-level target).
    """
    total_weight = sum(w.weight for w in scenario.warehouses)
    sites: dict[str, float] = {}
    for w in scenario.warehouses:
        sites[w.site] = sites.get(w.site, 0.0) + w.weight / total_weight
    out = []
    for team, spec in policy.staffing.teams.items():
        arrivals = [0.0] * HOURS  # cases per hour of the week
        work = [0.0] * HOURS  # handling minutes per hour of the week
        slack: list[float] = []
        for name, cat in scenario.categories.items():
            share = sum(s for site, s in sites.items() if owner(policy.routing, name, site) == team)
            if share == 0:
                continue
            for h, r in enumerate(
                week_rates(cat.rate_per_hour, scenario.profiles.get(cat.profile or ""))
            ):
                arrivals[h] += r * 60 * share
                work[h] += r * 60 * share * cat.handling_min.mean
            slack.append(policy.sla.target(name, None) - cat.handling_min.mean)
        shifts = spec.shift_list()
        duty = [_duty(s) for s in shifts]
        got_a, got_w = _attribute(arrivals, duty), _attribute(work, duty)
        within = max(min(slack), 0.0) if slack else 0.0
        for s, d, a_s, w_s in zip(shifts, duty, got_a, got_w, strict=True):
            minutes = 60.0 * sum(d)
            lam = a_s / minutes if minutes else 0.0
            load = w_s / minutes if minutes else 0.0
            if lam > 0 and load > 0:
                mu = lam / load
                c = erlang.min_servers(lam, mu, service_level_target=service_level, within=within)
            else:
                mu, c = 0.0, 1
            out.append(ShiftLoad(team, s.name, lam * 60, 1 / mu if mu else 0.0, load, max(c, 1)))
    return out


def _duty(shift) -> list[float]:
    """Fraction of each hour of the week (Monday 00:00 first) the shift is on duty."""
    on = [0.0] * HOURS
    s, e = shift.start_min, shift.end_min
    if e <= s:
        e += 1440
    for day in shift.days:
        a, b = ALL_DAYS.index(day) * 1440 + s, ALL_DAYS.index(day) * 1440 + e
        for h in range(a // 60, math.ceil(b / 60)):
            overlap = min(b, (h + 1) * 60) - max(a, h * 60)
            if overlap > 0:
                on[h % HOURS] = min(1.0, on[h % HOURS] + overlap / 60)
    return on


def _attribute(amount: list[float], duty: list[list[float]]) -> list[float]:
    """Split each hour's amount among the shifts on duty; off-duty amounts go to the next."""
    got = [0.0] * len(duty)
    for h in range(HOURS):
        on = [d[h] for d in duty]
        total = sum(on)
        covered = min(total, 1.0)
        for i, f in enumerate(on):
            if f:
                got[i] += amount[h] * covered * f / total
        if covered < 1.0:
            for k in range(1, HOURS + 1):
                nxt = [d[(h + k) % HOURS] for d in duty]
                if any(nxt):
                    got[max(range(len(nxt)), key=nxt.__getitem__)] += amount[h] * (1 - covered)
                    break
    return got


def with_headcount(policy: Policy, headcount: Headcount) -> Policy:
    """``policy`` with each team's agents per shift replaced (teams not named are kept)."""
    doc = copy.deepcopy(policy.model_dump(mode="json", exclude_unset=True))
    for team, counts in headcount.items():
        spec = doc["staffing"]["teams"][team]
        if spec.get("shifts") is not None:
            for shift, n in zip(spec["shifts"], counts, strict=True):
                shift["agents"] = int(n)
        else:
            spec["agents"] = int(counts[0])
    return validate(Policy, doc, f"policy {policy.name}")


def headcount_of(policy: Policy) -> Headcount:
    return {t: [s.agents for s in spec.shift_list()] for t, spec in policy.staffing.teams.items()}


def recommend(
    scenario: Scenario | str | Path,
    policy: Policy | str | Path,
    targets: Sequence[Requirement | str],
    settings: RunSettings = RunSettings(reps=3),
    progress: Progress | None = None,
    max_steps: int = 60,
) -> StaffPlan:
    """Smallest headcount meeting every target, from the Erlang estimate, confirmed by runs.

    ``progress`` gets the fraction of ``max_steps`` search steps used (a rough bar: the search
    usually stops well before). Gives up after ``max_steps`` additions with ``met`` false.
    """
    scen, pol = as_scenario(scenario), as_policy(policy)
    reqs = requirements_of(targets)
    if not reqs:
        raise ValueError("staff needs at least one target")
    settings.check(scen)
    sla_targets = [r.value for r in reqs if r.path.startswith("sla") and r.op in (">=", ">")]
    level = min(max(sla_targets, default=0.8), 0.999)
    loads = offered_loads(scen, pol, service_level=level)
    shift_load = {
        (ld.team, i): ld
        for t in pol.staffing.teams
        for i, ld in enumerate(x for x in loads if x.team == t)
    }
    names = list(pol.staffing.teams)
    start: Headcount = {
        t: [shift_load[(t, i)].erlang for i in range(len(headcount_of(pol)[t]))] for t in names
    }
    cats = _team_categories(scen, pol)
    history: list[tuple[str, Headcount, bool]] = []
    steps = [0]

    def run(hcs: list[Headcount], label: str) -> list[tuple[dict, list[Verdict], bool]]:
        pols = [with_headcount(pol, hc) for hc in hcs]
        units = [
            Unit(i, scen, p, settings, r) for i, p in enumerate(pols) for r in range(settings.reps)
        ]
        outs = sorted(map_runs(units, settings), key=lambda o: (o.key, o.rep))
        res = []
        for i, hc in enumerate(hcs):
            judged = judge([o.summary for o in outs if o.key == i], reqs)
            summary, verdicts, ok = judged.summary, judged.verdicts, judged.passed
            history.append((label, copy.deepcopy(hc), ok))
            res.append((summary, verdicts, ok))
        steps[0] += 1
        if progress is not None:
            progress(min(steps[0] / max_steps, 1.0))
        return res

    current = copy.deepcopy(start)
    ((summary, verdicts, ok),) = run([current], "erlang")
    adds = 0
    while not ok and adds < max_steps:
        team = _worst_team(summary, cats, current)
        loads_t = [shift_load[(team, i)].offered_load / n for i, n in enumerate(current[team])]
        current[team][max(range(len(loads_t)), key=loads_t.__getitem__)] += 1
        adds += 1
        ((summary, verdicts, ok),) = run([current], f"add {team}")
    if ok:
        hourly = _cost_weights(pol)
        while True:
            options = [(t, i) for t in names for i, n in enumerate(current[t]) if n > 1]
            if not options:
                break
            trials = []
            for t, i in options:
                hc = copy.deepcopy(current)
                hc[t][i] -= 1
                trials.append(hc)
            results = run(trials, "remove")
            held = [
                (hourly[opt], k)
                for k, (opt, res) in enumerate(zip(options, results, strict=True))
                if res[2]
            ]
            if not held:
                break
            _, k = max(held)
            current = trials[k]
            summary, verdicts, ok = results[k]
    if progress is not None:
        progress(1.0)
    return StaffPlan(
        policy=with_headcount(pol, current),
        headcount=current,
        loads=loads,
        summary=summary,
        verdicts=verdicts,
        met=ok,
        evaluations=len(history),
        history=history,
    )


def _team_categories(scenario: Scenario, policy: Policy) -> dict[str, dict[str, float]]:
    """team -> {category: expected cases per hour it owns} (the weights of its SLA)."""
    total = sum(w.weight for w in scenario.warehouses)
    out: dict[str, dict[str, float]] = {t: {} for t in policy.staffing.teams}
    for w in scenario.warehouses:
        for name, cat in scenario.categories.items():
            t = owner(policy.routing, name, w.site)
            out[t][name] = out[t].get(name, 0.0) + cat.rate_per_hour * w.weight / total
    return out


def _worst_team(summary: dict, cats: dict[str, dict[str, float]], current: Headcount) -> str:
    """The team whose categories met the fewest deadlines (weighted by their arrivals)."""
    by_cat = (summary.get("sla") or {}).get("by_category") or {}
    scores = {}
    for team, weights in cats.items():
        num = den = 0.0
        for c, w in weights.items():
            if by_cat.get(c) is not None:
                num += w * by_cat[c]
                den += w
        if den:
            scores[team] = num / den
    if not scores:  # nothing to judge by: the team with most arrivals per agent
        return max(cats, key=lambda t: sum(cats[t].values()) / sum(current[t]))
    return min(scores, key=lambda t: (scores[t], -sum(cats[t].values())))


def _cost_weights(policy: Policy) -> dict[tuple[str, int], float]:
    """Weekly cost of one more agent on each (team, shift): what removing one saves."""
    out = {}
    for t, spec in policy.staffing.teams.items():
        for i, s in enumerate(spec.shift_list()):
            hours = sum(_duty(s))
            out[(t, i)] = hours * spec.cost_per_hour + hours * 1e-6  # longer shift first on ties
    return out
