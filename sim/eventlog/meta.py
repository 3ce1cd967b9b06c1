"""What a log carries besides its rows: the run's metadata (:class:`LogMeta`).

The wall-clock anchor (minute 0 as a datetime), horizon, scenario, policy, seed, team
capacities and the operations world's outcomes travel with the rows in the Arrow schema /
Parquet footer metadata, so a log can be read on its own.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sim.eventlog.schema import SCHEMA_VERSION


@dataclass
class LogMeta:
    """What a log needs besides its rows to be read on its own."""

    start: str  # ISO datetime of minute 0 (the wall-clock anchor)
    horizon_min: float
    scenario: str = ""
    policy: str = ""
    seed: int = 0
    reps: int = 1
    source: str = "simulation"  # simulation | odoo | replay
    capacity_min: dict[str, float] = field(default_factory=dict)  # team -> agent-minutes on shift
    extra: dict = field(default_factory=dict)

    def start_datetime(self) -> datetime:
        return datetime.fromisoformat(self.start)

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> LogMeta:
        data = json.loads(raw)
        data.pop("schema_version", None)
        return cls(**data)


#: Metadata each replication has of its own (the operations world's business outcomes, what
#: each detector dropped: ``sim.port.Port.outcome``). A log
#: joining several replications keeps them per replication, ``extra["by_rep"][r]`` (without
#: their hourly series, which stay those of the first), so each one's summary reads its own.
PER_REP_EXTRA = ("operations", "detectors")


def joined_meta(metas: list[LogMeta]) -> LogMeta:
    """The metadata of one log joining replications 0..n-1: the first's, plus each one's own
    outcomes under ``extra["by_rep"]`` (see :data:`PER_REP_EXTRA`)."""
    first = metas[0]
    per_rep = [
        {k: _without_hourly(m.extra[k]) for k in PER_REP_EXTRA if k in (m.extra or {})}
        for m in metas
    ]
    extra = dict(first.extra or {})
    if len(metas) > 1 and any(per_rep):
        extra["by_rep"] = per_rep
    return LogMeta(**{**asdict(first), "extra": extra})


def rep_meta(meta: LogMeta, rep: int) -> LogMeta:
    """The metadata as replication ``rep`` saw it: its own outcomes in place of the first's."""
    by_rep = (meta.extra or {}).get("by_rep")
    if not by_rep or not 0 <= rep < len(by_rep):
        return meta
    return LogMeta(**{**asdict(meta), "extra": {**meta.extra, **by_rep[rep]}})


def _without_hourly(value):
    if isinstance(value, dict):
        return {k: _without_hourly(v) for k, v in value.items() if k != "hourly"}
    return value


def schema_metadata(meta: LogMeta) -> dict[bytes, bytes]:
    return {b"exsim": meta.to_bytes(), b"exsim.schema_version": str(SCHEMA_VERSION).encode()}
