"""Comparing policies on the very same exceptions: common random numbers and paired CIs.

Each policy runs the same replications of the same master seed. Arrivals, work content and
case attributes come from streams no policy setting touches (``sim.streams``), so replication
r puts the identical exceptions in front of every policy, and the difference between two
policies in replication r is due to the policies alone. The paired difference over
replications (``sim.stats.paired_diff``) then has a much narrower interval than two separate
intervals would suggest, and says with a p-value whether the second policy is really better.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from sim import config, eventlog, stats
from sim.experiments.backends import map_runs
from sim.experiments.jobs import Unit
from sim.experiments.kpis import better, flatten, fold
from sim.policies.schema import Policy
from sim.runner import RunSettings, write_run_dir
from sim.scenarios.schema import Scenario

Progress = Callable[[float], None]


@dataclass
class Comparison:
    """Policies run on the same seeds, their KPIs with 95% CIs and paired differences.

    ``table`` is tidy: one row per (policy, kpi) with ``mean, lo, hi, n`` and, for policies
    after the first (the baseline), ``diff, diff_lo, diff_hi, p_value, significant`` of
    ``policy - baseline`` paired over replications; ``better`` is +1 when more of the KPI is
    good, -1 when less is, 0 when neither.
    """

    scenario: Scenario
    policies: dict[str, Policy]
    seed: int
    reps: int
    warmup_min: float
    table: pd.DataFrame
    summaries: dict[str, dict]
    per_rep: dict[str, list[dict]]
    logs: dict[str, pa.Table] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def baseline(self) -> str:
        return next(iter(self.policies))

    def row(self, policy: str, kpi: str) -> pd.Series:
        """The table row of one policy and KPI."""
        hit = self.table[(self.table["policy"] == policy) & (self.table["kpi"] == kpi)]
        if hit.empty:
            raise KeyError(f"no KPI {kpi!r} for policy {policy!r}")
        return hit.iloc[0]

    def run_summary(self, name: str) -> dict[str, Any]:
        """The summary.json of one policy's run directory (the ``exsim run`` contract)."""
        s = self.summaries[name]
        head = {
            "scenario": self.scenario.name,
            "policy": self.policies[name].name,
            "seed": self.seed,
            "days": self.scenario.horizon_days,
            "reps": self.reps,
            "start": self.scenario.start.isoformat(),
            "warmup_days": self.warmup_min / 1440.0,
        }
        body = {k: v for k, v in s.items() if k != "reps"}
        events = sum(r.get("events", 0) for r in self.per_rep[name])
        if name in self.logs:
            events = self.logs[name].num_rows
        return {**head, **body, "events": int(events), "wall_s": round(self.wall_s, 3)}

    def write(self, out_dir: str | Path, force: bool = False) -> Path:
        """One run directory per policy plus ``comparison.csv`` and ``comparison.json``.

        Each ``out_dir/<policy>/`` holds what ``exsim run`` writes (``events.parquet`` only
        when the logs were kept). All or nothing: a failure leaves no partial directory; an
        existing ``out_dir`` is replaced only if exsim wrote it, or with ``force``.
        """
        files: dict[str, Callable[[Path], None]] = {}
        for name in self.policies:
            files[_dirname(name)] = lambda p, name=name: self._write_policy(p, name)
        files["comparison.csv"] = lambda p: self.table.to_csv(p, index=False)
        files["comparison.json"] = lambda p: p.write_text(json.dumps(self.to_json(), indent=2))
        return write_run_dir(Path(out_dir), files, force=force)

    def _write_policy(self, path: Path, name: str) -> None:
        path.mkdir()
        if name in self.logs:
            eventlog.write_table(self.logs[name], path / "events.parquet")
        summary = self.run_summary(name)
        (path / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        (path / "scenario.yaml").write_text(_dump(self.scenario))
        (path / "policy.yaml").write_text(_dump(self.policies[name]))

    def shared_cases(self) -> dict[str, Any] | None:
        """How many occurrences all policies share (:func:`shared_occurrences`); None
        when the logs were not kept."""
        if len(self.logs) != len(self.policies):
            return None
        return shared_occurrences(self.logs)

    def to_json(self) -> dict[str, Any]:
        rows = [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in self.table.to_dict(orient="records")
        ]
        return {
            "scenario": self.scenario.name,
            "policies": list(self.policies),
            "baseline": self.baseline,
            "seed": self.seed,
            "reps": self.reps,
            "warmup_days": self.warmup_min / 1440.0,
            "shared_cases": self.shared_cases(),
            "rows": rows,
        }


def compare(
    scenario: Scenario | str | Path,
    policies: Sequence[Policy | str | Path],
    settings: RunSettings = RunSettings(reps=5),
    progress: Progress | None = None,
    keep_logs: bool = True,
) -> Comparison:
    """Run every policy on the same ``settings.reps`` replications of ``settings.seed`` and
    compare them.

    The first policy is the baseline the others are differenced against. Policies with the
    same name are told apart as ``name``, ``name#2``, ...
    """
    t0 = time.perf_counter()
    scen = as_scenario(scenario)
    pols = _named([as_policy(p) for p in policies])
    if not pols:
        raise ValueError("compare needs at least one policy")
    settings.check(scen)
    units = [
        Unit(name, scen, pol, settings, r, keep_logs)
        for name, pol in pols.items()
        for r in range(settings.reps)
    ]
    outcomes = map_runs(units, settings, progress)
    per_rep: dict[str, list[dict]] = {name: [] for name in pols}
    tables: dict[str, list[pa.Table]] = {name: [] for name in pols}
    for o in sorted(outcomes, key=lambda o: (list(pols).index(o.key), o.rep)):
        per_rep[o.key].append(o.summary)
        if o.table is not None:
            tables[o.key].append(o.table)
    logs = {}
    for name, ts in tables.items():
        if ts:
            meta = eventlog.joined_meta(
                [eventlog.LogMeta.from_bytes(t.schema.metadata[b"exsim"]) for t in ts]
            )
            logs[name] = eventlog.concat(ts, meta)
    return Comparison(
        scenario=scen,
        policies=pols,
        seed=settings.seed,
        reps=settings.reps,
        warmup_min=settings.warmup_min,
        table=comparison_table(per_rep),
        summaries={name: fold(runs) for name, runs in per_rep.items()},
        per_rep=per_rep,
        logs=logs,
        wall_s=time.perf_counter() - t0,
    )


def occurrence_keys(table: pa.Table) -> Counter:
    """Each occurrence of a log as (replication, category, cause, time): the stable key that
    pairs the same exception across policies (case ids are numbered in order of occurrence,
    so they pair only while the two runs agree on everything before)."""
    table = table.select(["rep", "event", "category", "detail", "ts"])
    occurred = table.filter(pc.equal(table["event"].cast(pa.string()), "occurred"))
    cols = [occurred[c].to_pylist() for c in ("rep", "category", "detail", "ts")]
    return Counter(zip(*cols, strict=True))


def shared_occurrences(logs: dict[str, pa.Table]) -> dict[str, Any]:
    """Occurrences common to every policy's log, matched by :func:`occurrence_keys`.

    ``shared`` counts those every policy has (a key present twice in each counts twice);
    ``occurrences`` is each policy's own total. With common random numbers the exceptions the
    world makes on its own are shared; what differs is a consequence of how cases were handled.
    """
    keys = {name: occurrence_keys(t) for name, t in logs.items()}
    common = None
    for counter in keys.values():
        common = counter if common is None else common & counter
    return {
        "shared": sum((common or Counter()).values()),
        "occurrences": {name: sum(c.values()) for name, c in keys.items()},
    }


def comparison_table(per_rep: dict[str, list[dict]]) -> pd.DataFrame:
    """Tidy (policy, kpi) table from aligned per-replication summaries; first = baseline."""
    flat = {name: [flatten(s) for s in runs] for name, runs in per_rep.items()}
    kpis = list(dict.fromkeys(k for runs in flat.values() for s in runs for k in s))
    names = list(flat)
    rows = []
    for name in names:
        for kpi in kpis:
            values = [s.get(kpi) for s in flat[name]]
            ci = stats.mean_ci(values)
            row = {
                "policy": name,
                "kpi": kpi,
                "mean": ci.mean,
                "lo": ci.lo,
                "hi": ci.hi,
                "n": ci.n,
                "diff": math.nan,
                "diff_lo": math.nan,
                "diff_hi": math.nan,
                "p_value": math.nan,
                "significant": False,
                "better": better(kpi),
            }
            if name != names[0]:
                base = [s.get(kpi) for s in flat[names[0]]]
                d = stats.paired_diff(values, base)
                row.update(
                    diff=d.mean,
                    diff_lo=d.lo,
                    diff_hi=d.hi,
                    p_value=d.p_value,
                    significant=bool(d.significant),
                )
            rows.append(row)
    return pd.DataFrame(rows)


def as_scenario(ref: Scenario | str | Path) -> Scenario:
    return ref if isinstance(ref, Scenario) else config.load_scenario(ref)


def as_policy(ref: Policy | str | Path) -> Policy:
    return ref if isinstance(ref, Policy) else config.load_policy(ref)


def _named(policies: list[Policy]) -> dict[str, Policy]:
    out: dict[str, Policy] = {}
    for pol in policies:
        name, k = pol.name, 1
        while name in out:
            k += 1
            name = f"{pol.name}#{k}"
        out[name] = pol
    return out


def _dirname(name: str) -> str:
    return re.sub(r"[^\w.\-#]+", "_", name) or "policy"


def _dump(model) -> str:
    return yaml.safe_dump(model.model_dump(mode="json"), sort_keys=False)
