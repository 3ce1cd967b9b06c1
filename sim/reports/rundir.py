"""Run directories, as ``exsim run`` writes them, loaded and checked for a report.

A run directory holds ``events.parquet`` (the log), ``summary.json`` (its KPIs),
``scenario.yaml`` and ``policy.yaml`` (what produced it). A report must never show a chart of
one run next to the settings of another, nor half a page, so everything is read and checked
before anything is drawn; what is wrong becomes a :class:`RunDirError` whose one-line message
names the file and, where it applies, the field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim import config
from sim.eventlog import SCHEMA, LogMeta, read_log
from sim.policies.schema import Policy

FILES = ("events.parquet", "summary.json", "scenario.yaml", "policy.yaml")
#: Fields of summary.json a report needs.
SUMMARY_FIELDS = ("scenario", "policy", "seed", "reps", "days", "sla", "cases")


class RunDirError(Exception):
    """A run directory that cannot be reported on; the message is one line."""


@dataclass
class RunDir:
    path: Path
    log: pd.DataFrame
    summary: dict
    scenario_yaml: str
    policy_yaml: str
    policy: Policy

    @property
    def meta(self) -> LogMeta:
        return self.log.attrs["meta"]

    @property
    def policy_name(self) -> str:
        return str(self.summary["policy"])

    @property
    def warmup_min(self) -> float:
        return float(self.summary.get("warmup_days") or 0.0) * 1440.0


def expand(path: str | Path) -> list[Path]:
    """The run directories behind ``path``: itself, or for a directory written by
    ``exsim compare --out`` (``comparison.json`` and one run directory per policy) those, in
    the comparison's order, baseline first."""
    path = Path(path)
    index = path / "comparison.json"
    if (path / "events.parquet").exists() or not index.is_file():
        return [path]
    try:
        names = json.loads(index.read_text(encoding="utf-8"))["policies"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        raise RunDirError(f"{index}: policies: cannot read the list of policies") from None
    return [path / (re.sub(r"[^\w.\-#]+", "_", str(n)) or "policy") for n in names]


def load_run_dir(path: str | Path) -> RunDir:
    """Read and check a run directory; raises :class:`RunDirError`."""
    path = Path(path)
    if not path.is_dir():
        raise RunDirError(f"{path}: not a run directory (expected {', '.join(FILES)})")
    for name in FILES:
        if not (path / name).is_file():
            raise RunDirError(f"{path / name}: missing (a run directory holds {', '.join(FILES)})")
    events = path / "events.parquet"
    try:
        log = read_log(events)
    except Exception as exc:  # pyarrow raises many kinds for a file that is not Parquet
        raise RunDirError(
            f"{events}: not a readable Parquet event log ({_first_line(exc)})"
        ) from None
    missing = [c for c in SCHEMA.names if c not in log.columns]
    if missing:
        raise RunDirError(f"{events}: not an exsim event log (no column {missing[0]!r})")
    if not isinstance(log.attrs.get("meta"), LogMeta):
        raise RunDirError(f"{events}: no exsim metadata (start, horizon) in the Parquet file")
    summary = _read_summary(path / "summary.json")
    try:
        scenario_yaml = (path / "scenario.yaml").read_text(encoding="utf-8")
        config.read_yaml(path / "scenario.yaml")
        policy = config.load_policy(path / "policy.yaml")
        policy_yaml = (path / "policy.yaml").read_text(encoding="utf-8")
    except config.ConfigError as exc:
        raise RunDirError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{path}: cannot read: {_first_line(exc)}") from None
    return RunDir(path, log, summary, scenario_yaml, policy_yaml, policy)


def _read_summary(file: Path) -> dict:
    try:
        summary = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{file}: cannot read: {_first_line(exc)}") from None
    except json.JSONDecodeError as exc:
        raise RunDirError(f"{file}: line {exc.lineno}: invalid JSON: {exc.msg}") from None
    if not isinstance(summary, dict):
        raise RunDirError(f"{file}: expected a JSON object")
    for key in SUMMARY_FIELDS:
        if key not in summary:
            raise RunDirError(f"{file}: {key}: required field is missing")
    return summary


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
