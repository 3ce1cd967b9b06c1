"""Requirements on run outcomes: ``sla.overall>=0.95``, ``missed_detections==0``.

A requirement is a KPI path of the run summary (as ``sim.metrics.get_path`` reads it), a
comparison operator and a number (``95%`` means 0.95). It is judged on the mean over the
replications; the 95% interval is reported beside it so a reader sees how close the call was.
Judged ``on_ci``, a requirement must hold for the whole interval: ``>=``/``>`` on its lower
bound, ``<=``/``<`` on its upper bound (so "SLA at least 95%" passes only when the data show
it with 95% confidence). A KPI that is undefined in the run (an SLA share with no cases to
judge, or no interval on the bound asked for) fails: a requirement that cannot be shown to
hold does not hold.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sim.metrics import get_path

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_FORM = re.compile(r"^\s*([^<>=!\s]+)\s*(>=|<=|==|!=|>|<)\s*([^<>=!\s]+)\s*$")


class RequirementError(ValueError):
    """A requirement that is malformed or names no KPI; one line for the user."""


@dataclass(frozen=True)
class Requirement:
    path: str
    op: str
    value: float

    def __str__(self) -> str:
        return f"{self.path}{self.op}{self.value:g}"

    def holds(self, observed: float | None) -> bool:
        if observed is None or not math.isfinite(observed):
            return False
        return OPS[self.op](observed, self.value)


@dataclass(frozen=True)
class Verdict:
    requirement: Requirement
    observed: float | None
    lo: float | None
    hi: float | None
    passed: bool
    judged_on: str = "mean"  # mean, ci_lo or ci_hi

    def to_json(self) -> dict[str, Any]:
        return {
            "requirement": str(self.requirement),
            "path": self.requirement.path,
            "op": self.requirement.op,
            "value": self.requirement.value,
            "observed": self.observed,
            "ci95": None if self.lo is None else [self.lo, self.hi],
            "judged_on": self.judged_on,
            "passed": self.passed,
        }


def parse(text: str) -> Requirement:
    """``'path OP number'`` -> :class:`Requirement`; RequirementError when malformed."""
    m = _FORM.match(text)
    if m is None:
        raise RequirementError(
            f"requirement {text!r}: expected PATH OP NUMBER with OP one of "
            f"{', '.join(OPS)} (e.g. 'sla.overall>=0.95')"
        )
    path, op, raw = m.groups()
    if path.startswith(".") or path.endswith(".") or ".." in path:
        raise RequirementError(f"requirement {text!r}: malformed KPI path {path!r}")
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise RequirementError(f"requirement {text!r}: {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise RequirementError(f"requirement {text!r}: {raw!r} is not a finite number")
    return Requirement(path, op, value)


def lookup(summary: dict, path: str) -> float | None:
    """The KPI at ``path``; RequirementError when there is none or it is a group of KPIs."""
    try:
        value = get_path(summary, path)
    except KeyError as exc:
        raise RequirementError(f"unknown KPI {exc.args[0]}") from None
    if isinstance(value, dict):
        keys = ", ".join(map(str, value))
        raise RequirementError(f"{path!r} is a group of KPIs, pick one of: {keys}")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequirementError(f"{path!r} is not a number ({value!r})")
    return float(value)


def evaluate(
    summary: dict, requirements: Iterable[Requirement], on_ci: bool = False
) -> list[Verdict]:
    """Judge each requirement against a (``summarize_reps``-shaped) summary: on the mean, or
    ``on_ci`` on the interval's bound that must clear the threshold."""
    out = []
    for req in requirements:
        observed = lookup(summary, req.path)
        lo = hi = None
        try:
            ci = get_path(summary.get("ci95") or {}, req.path)
        except KeyError:
            ci = None
        if isinstance(ci, list | tuple) and len(ci) == 2 and None not in ci:
            lo, hi = float(ci[0]), float(ci[1])
        if not on_ci:
            out.append(Verdict(req, observed, lo, hi, req.holds(observed)))
            continue
        if req.op in ("==", "!="):
            raise RequirementError(f"requirement {req}: --ci judges >, >=, < and <= only")
        lower = req.op in (">=", ">")
        bound = lo if lower else hi
        out.append(Verdict(req, observed, lo, hi, req.holds(bound), "ci_lo" if lower else "ci_hi"))
    return out
