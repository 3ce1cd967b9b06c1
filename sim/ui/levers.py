"""The levers of the what-if page, read off the policy's own pydantic model.

Nothing here lists "agents" or "interval_min" by hand: :func:`policy_levers` walks a validated
:class:`~sim.policies.schema.Policy`, and every number (or choice) it finds under one of the
:data:`POLICY_LEVERS` subtrees becomes a :class:`Lever` with the bounds the model declares
(``Field(ge=1, le=10_000)`` gives a lever from 1 to 10,000). A field added to the schema
tomorrow shows up on the page without touching this module.

Edited values go back through the very same model (:func:`apply`): a bad value is refused
with the one-line message the CLI prints for a bad YAML file (:func:`sim.config.format_error`),
e.g. ``default (edited): staffing.teams.warehouse.shifts[0].agents: must be >= 1 (got 0)``.
"""

from __future__ import annotations

import copy
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types as at
from pydantic import BaseModel

from sim import config, plugins
from sim.policies.schema import BUILTIN_MECHANISMS, Policy
from sim.scenarios.schema import Scenario

Path = tuple[str | int, ...]

#: Subtrees of a policy whose numbers are levers, in the order the page shows them:
#: (dotted prefix with ``*`` for any key or index, group heading).
POLICY_LEVERS: tuple[tuple[str, str], ...] = (
    ("staffing.teams.*.agents", "Headcount"),
    ("staffing.teams.*.shifts.*.agents", "Headcount"),
    ("queue.discipline", "Queue"),
    ("detection.*.*", "Detection"),
    ("severity.rules.*.when.*", "Severity cut-offs"),
    ("escalation.ladders.*.*.after_min", "Escalation"),
    ("approvals.decisions.*.levels.*.max_value", "Approvals"),
    ("sla.by_severity.*", "SLA targets"),
)

#: Mechanism settings that are not worth a lever (identity, calendar, bookkeeping).
_SKIP_FIELDS = {
    "offset_min",
    "lag_min",
    "lag_drift_min",
    "run_min",
    "job_interval_min",
    "latency_min",
    "backoff_min",
    "retries",
    "loops",
}


@dataclass(frozen=True)
class Lever:
    """One editable value of a policy or scenario."""

    path: Path  # where it sits in the model's dump, e.g. ("staffing", "teams", "x", "agents")
    group: str
    kind: Literal["int", "float", "choice"]
    value: Any
    lo: float | None = None  # inclusive bounds the model declares (None: unbounded)
    hi: float | None = None
    choices: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The dotted field path, as validation messages print it."""
        return dotted(self.path)

    title: str = ""  # a friendlier name where the path has an index (a shift's name)

    @property
    def label(self) -> str:
        """The path without its group's fixed words: ``warehouse / early / agents``."""
        if self.title:
            return self.title
        words = [str(p) for p in self.path]
        for drop in ("staffing", "teams", "shifts", "detection", "escalation", "ladders"):
            words = [w for w in words if w != drop]
        return " / ".join(words)


def dotted(path: Path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + str(p)
    return out


def _matches(path: Path, pattern: str) -> bool:
    parts = pattern.split(".")
    if len(parts) != len(path):
        return False
    return all(p == "*" or p == str(q) for p, q in zip(parts, path, strict=True))


def _bounds(info) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in getattr(info, "metadata", ()):
        if isinstance(m, at.Ge):
            lo = m.ge
        elif isinstance(m, at.Gt):
            lo = m.gt  # the page's inputs step past it; the model refuses the bound itself
        elif isinstance(m, at.Le):
            hi = m.le
        elif isinstance(m, at.Lt):
            hi = m.lt
    return lo, hi


def _number_kind(annotation: Any) -> str | None:
    """'int' or 'float' for a numeric annotation (possibly Optional / Annotated)."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        kinds = {_number_kind(a) for a in args if a is not type(None)}
        kinds.discard(None)
        return kinds.pop() if len(kinds) == 1 else None
    if origin is typing.Annotated:
        return _number_kind(args[0])
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    return None


def _walk(obj: Any, path: Path, info=None):
    """(path, field info, value) of every leaf of a validated model."""
    if isinstance(obj, BaseModel):
        for name, field in type(obj).model_fields.items():
            yield from _walk(getattr(obj, name), (*path, name), field)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk(v, (*path, k), _value_info(info))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _walk(v, (*path, i), _value_info(info))
    else:
        yield path, info, obj


def _value_info(info):
    """The field info of a dict's values or a list's items (``dict[str, Annotated[float,
    Field(gt=0)]]`` gives the ``gt=0`` of each value)."""
    if info is None:
        return None
    args = typing.get_args(info.annotation)
    if not args:
        return None
    inner = args[-1]
    if typing.get_origin(inner) is typing.Annotated:
        base, *meta = typing.get_args(inner)
        return _Info(base, meta)
    return _Info(inner, [])


@dataclass
class _Info:
    annotation: Any
    metadata: list

    def __post_init__(self):
        flat = []
        for m in self.metadata:
            flat += list(getattr(m, "metadata", [])) or [m]
        self.metadata = flat


def policy_levers(policy: Policy) -> list[Lever]:
    """Every lever of ``policy``, grouped in :data:`POLICY_LEVERS` order."""
    found: list[tuple[int, Lever]] = []
    for path, info, value in _walk(policy, ()):
        for rank, (pattern, group) in enumerate(POLICY_LEVERS):
            if not _matches(path, pattern) and not _matches(path[:-1], pattern):
                continue
            if path[-1] in _SKIP_FIELDS or value is None or isinstance(value, bool):
                continue
            if path == ("queue", "discipline"):
                choices = tuple(plugins.names("disciplines"))
                found.append((rank, Lever(path, group, "choice", value, choices=choices)))
                break
            kind = _number_kind(getattr(info, "annotation", None))
            if kind is None or not isinstance(value, int | float):
                continue
            lo, hi = _bounds(info)
            title = _title(policy, path)
            found.append((rank, Lever(path, group, kind, value, lo, hi, title=title)))
            break
    found.sort(key=lambda t: t[0])
    return [lever for _, lever in found] + _choice_levers(policy)


#: Choices that stand for "take it away" in the choice levers below.
NO_ACTION = "none"


def _choice_levers(policy: Policy) -> list[Lever]:
    """Levers that swap a part rather than set a number: each category's detection mechanism
    (path ``detection.<cat>.mechanism``; several at once read ``scan+webhook`` and stay so
    unless switched) and each ladder tier's action (``escalation.ladders.<sev>[i].action``)."""
    out = []
    mechanisms = tuple(BUILTIN_MECHANISMS)
    for cat, det in policy.detection.items():
        on = [m for m in (*BUILTIN_MECHANISMS, *det.plugins) if getattr(det, m, None) is not None]
        on += [m for m in det.plugins if m not in on]
        value = "+".join(on)
        choices = mechanisms if value in mechanisms else (value, *mechanisms)
        path = ("detection", cat, "mechanism")
        out.append(Lever(path, "Detection", "choice", value, choices=choices))
    actions = (NO_ACTION, *plugins.names("escalation_actions"))
    for sev, ladder in policy.escalation.ladders.items():
        for i, tier in enumerate(ladder):
            names = [name for item in tier.actions for name in item]
            value = "+".join(names) or NO_ACTION
            choices = actions if value in actions else (value, *actions)
            path = ("escalation", "ladders", sev, i, "action")
            title = f"{sev} tier {i + 1} / action"
            out.append(Lever(path, "Escalation", "choice", value, choices=choices, title=title))
    return out


def _mechanism(policy: Policy, current: dict, name: str) -> dict:
    """A category's detection switched to mechanism ``name``: its own settings if it already
    has them, else the schema's defaults (a scan needs an interval: hourly)."""
    if name in current and current[name] is not None:
        return {name: current[name]}
    return {
        name: {"interval_min": 60.0}
        if name == "scan"
        else {"delay": 0}
        if name == "time_rule"
        else {}
    }


def _action(policy: Policy, current: list[dict], name: str) -> list[dict]:
    """A tier's actions switched to the one action ``name`` (``none``: no action): its own
    settings if the tier has it, else defaults where the action needs a target (the routing's
    default team, the first on-call rota)."""
    if name == NO_ACTION:
        return []
    for item in current:
        if name in item:
            return [item]
    rota = next(iter(policy.escalation.on_call), None)
    team = policy.routing.default
    settings = {"reassign": {"to": team}, "swarm": {"team": team}, "page": {"on_call": rota}}
    return [{name: settings.get(name, {})}]


def _title(policy: Policy, path: Path) -> str:
    """Shifts by their name (``warehouse / early / agents``), ladder tiers counted from 1
    (``critical tier 2 / after_min``); '' elsewhere."""
    if path[:2] == ("staffing", "teams") and len(path) == 6 and path[3] == "shifts":
        team = policy.staffing.teams[str(path[2])]
        return f"{path[2]} / {team.shift_list()[int(path[4])].name} / {path[5]}"
    if path[:2] == ("severity", "rules") and len(path) == 5:
        return f"{policy.severity.rules[int(path[2])].id} / {path[4]}"
    if path[:2] == ("escalation", "ladders") and len(path) == 5:
        return f"{path[2]} tier {int(path[3]) + 1} / {path[4]}"
    return ""


def set_at(data: dict, path: Path, value: Any) -> None:
    """Put ``value`` at ``path`` of a model dump (nested dicts and lists)."""
    node: Any = data
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value


def apply(policy: Policy, values: dict[Path, Any], source: str) -> Policy:
    """``policy`` with the lever ``values`` set, validated by :class:`Policy` itself.

    Raises :class:`sim.config.ConfigError` with the CLI's one-line message on a bad value.
    """
    data = copy.deepcopy(policy.model_dump(mode="json", exclude_unset=False))
    for path, value in values.items():
        if path[-1] == "mechanism" and path[0] == "detection" and "+" not in str(value):
            data["detection"][path[1]] = _mechanism(policy, data["detection"][path[1]], value)
            continue
        if path[-1] == "action" and path[:2] == ("escalation", "ladders") and "+" not in str(value):
            tier = data["escalation"]["ladders"][path[2]][path[3]]
            tier["actions"] = _action(policy, tier["actions"], value)
            continue
        if path[-1] in ("mechanism", "action"):
            continue  # several at once, left as they are
        if isinstance(value, float) and not math.isfinite(value):
            value = None  # an emptied input: the model says whether the field may be empty
        set_at(data, path, value)
    return config.validate(Policy, data, source)


def scaled_demand(scenario: Scenario, factor: float, source: str) -> Scenario:
    """``scenario`` with every arrival rate times ``factor`` (operations mode: its order
    intake), validated by :class:`Scenario`."""
    if not isinstance(factor, int | float) or not math.isfinite(factor) or factor <= 0:
        raise config.ConfigError(f"{source}: demand multiplier: must be > 0 (got {factor!r})")
    data = scenario.model_dump(mode="json")
    if factor != 1:
        for cat in data["categories"].values():
            if cat.get("rate_per_hour") is not None:
                cat["rate_per_hour"] *= factor
        demand = (data.get("operations") or {}).get("demand") or {}
        if isinstance(demand.get("orders_per_day"), int | float):
            demand["orders_per_day"] *= factor
    return config.validate(Scenario, data, source)


def _window_factor(volume: dict | None, start_h: float, end_h: float, factor: float) -> dict:
    """A category's ``volume`` (a dump, or None) re-expressed hour by hour, times ``factor``
    for the hours ``[start_h, end_h)`` from the scenario start; the old factors still apply."""
    period_h = volume["period_days"] * 24 if volume else math.inf
    old = volume["factors"] if volume else [1.0]
    span = max(end_h, len(old) * period_h if volume else 0)
    hours = math.ceil(span) + 1  # the last factor holds after the window (and the old periods)
    factors = []
    for h in range(hours):
        base = old[min(int((h + 0.5) // period_h), len(old) - 1)] if volume else 1.0
        factors.append(base * (factor if start_h <= h < end_h else 1.0))
    factors[-1] = old[-1]
    return {"period_days": 1 / 24, "factors": factors}


def _check(source: str, name: str, value: Any, lo: float, strict: bool) -> None:
    ok = isinstance(value, int | float) and math.isfinite(value)
    ok = ok and (value > lo if strict else value >= lo)
    if not ok:
        raise config.ConfigError(
            f"{source}: {name}: must be {'>' if strict else '>='} {lo} (got {value!r})"
        )


def carrier_outage(
    scenario: Scenario, day: float, hours: float, factor: float, source: str
) -> Scenario:
    """``scenario`` with the main carrier down for ``hours`` from ``day`` (days from the start,
    fractions are the time of day), validated by :class:`Scenario`.

    Operations mode uses the carriers' own ``outages`` (as ``carrier-outage.yaml`` does): every
    label of the first carrier requested in the window fails. Injected mode has no carriers, so
    the ``carrier_failure`` rate is multiplied by ``factor`` during the window (the category's
    ``volume``, hour by hour).
    """
    _check(source, "carrier outage.day", day, 0, strict=False)
    _check(source, "carrier outage.hours", hours, 0, strict=True)
    _check(source, "carrier outage.factor", factor, 0, strict=False)
    data = scenario.model_dump(mode="json")
    if scenario.mode == "operations":
        carrier = data["operations"]["carriers"][0]
        minute = round((day % 1) * 1440)
        at = f"{minute // 60:02d}:{minute % 60:02d}"
        outage = {"day": int(day), "at": at, "duration_min": hours * 60}
        carrier["outages"] = [*carrier.get("outages", []), outage]
    elif "carrier_failure" in data["categories"]:
        cat = data["categories"]["carrier_failure"]
        cat["volume"] = _window_factor(cat.get("volume"), day * 24, day * 24 + hours, factor)
    else:
        raise config.ConfigError(f"{source}: carrier outage: the scenario has no carrier_failure")
    return config.validate(Scenario, data, source)


def supplier_delay(
    scenario: Scenario, from_day: float, days: float, factor: float, days_late: float, source: str
) -> Scenario:
    """``scenario`` with the key supplier late on receipts planned in ``days`` from ``from_day``,
    validated by :class:`Scenario`.

    Operations mode adds a ``operations.suppliers.slips`` entry (as ``supplier-delay.yaml``
    does): receipts of supplier 0 arrive ``days_late`` late. Injected mode scales the
    ``inbound_delay`` rate by ``factor`` over the same days.
    """
    _check(source, "supplier delay.from_day", from_day, 0, strict=False)
    _check(source, "supplier delay.days", days, 0, strict=True)
    _check(source, "supplier delay.factor", factor, 0, strict=False)
    _check(source, "supplier delay.days_late", days_late, 0, strict=True)
    data = scenario.model_dump(mode="json")
    if scenario.mode == "operations":
        sup = data["operations"]["suppliers"]
        slip = {"supplier": 0, "from_day": from_day, "days": days, "days_late": days_late}
        sup["slips"] = [*sup.get("slips", []), slip]
    elif "inbound_delay" in data["categories"]:
        cat = data["categories"]["inbound_delay"]
        start = from_day * 24
        cat["volume"] = _window_factor(cat.get("volume"), start, start + days * 24, factor)
    else:
        raise config.ConfigError(f"{source}: supplier delay: the scenario has no inbound_delay")
    return config.validate(Scenario, data, source)
