"""Plug-ins: the named parts a policy is assembled from, built in or from a user's package.

Five kinds of part reach the engine, each registered under a name that policy YAML uses:

=====================  ==========================  =============================================
kind                   entry-point group           what it is
=====================  ==========================  =============================================
``mechanisms``         ``exsim.mechanisms``        a detection mechanism (``detection.<cat>``)
``scorers``            ``exsim.scorers``           a severity scorer (``severity.scorer``)
``disciplines``        ``exsim.disciplines``       a queue order (``queue.discipline``)
``escalation_actions`` ``exsim.escalation_actions`` what an escalation tier does (``actions``)
``decisions``          ``exsim.decisions``         an approval decision type (``decisions``)
=====================  ==========================  =============================================

A built-in part registers itself with :func:`register`; a user's package adds one by naming
it in its own ``pyproject.toml``::

    [project.entry-points."exsim.escalation_actions"]
    call_customer = "my_desk.actions:CallCustomer"

and nothing else: the first time a policy names ``call_customer``, :func:`get` finds the entry
point and loads it. A part that takes settings declares them as a pydantic model in its
``params`` attribute, so YAML naming it is validated like every other field. At run time a part
talks to the engine only through :class:`sim.port.Port` (record, schedule, read a case, draw
from a named stream, and the desk's few moves), never through the engine's internals.
"""

from __future__ import annotations

import contextlib
import importlib
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel, ValidationError

#: kind -> entry-point group
GROUPS: dict[str, str] = {
    "mechanisms": "exsim.mechanisms",
    "scorers": "exsim.scorers",
    "disciplines": "exsim.disciplines",
    "escalation_actions": "exsim.escalation_actions",
    "decisions": "exsim.decisions",
}
#: kind -> module registering the built-in parts (imported on first use, avoiding cycles)
_BUILTIN: dict[str, str] = {
    "mechanisms": "sim.policies.detection",
    "scorers": "sim.policies.severity",
    "disciplines": "sim.policies.disciplines",
    "escalation_actions": "sim.policies.escalation",
    "decisions": "sim.policies.approvals",
}
_REGISTRY: dict[str, dict[str, Any]] = {kind: {} for kind in GROUPS}


class PluginError(ValueError):
    """A policy names a part nobody registered, or gives it settings it does not take."""


def register(kind: str, name: str):
    """Decorator adding a part of ``kind`` under ``name`` (also sets its ``name`` attribute)."""
    if kind not in GROUPS:
        raise ValueError(f"unknown plug-in kind {kind!r} (one of {', '.join(GROUPS)})")

    def add(obj):
        _REGISTRY[kind][name] = obj
        with contextlib.suppress(AttributeError, TypeError):
            obj.name = name  # (a builtin object keeps its own name)
        return obj

    return add


def _builtins(kind: str) -> None:
    importlib.import_module(_BUILTIN[kind])


def _entry_point(kind: str, name: str) -> Any:
    for ep in entry_points(group=GROUPS[kind]):
        if ep.name == name:
            return register(kind, name)(ep.load())
    return None


def names(kind: str) -> list[str]:
    """Every name of ``kind`` available: built in, registered, or offered by an entry point."""
    _builtins(kind)
    found = set(_REGISTRY[kind]) | {ep.name for ep in entry_points(group=GROUPS[kind])}
    return sorted(found)


def get(kind: str, name: str) -> Any:
    """The part of ``kind`` called ``name``; PluginError listing the known names if none."""
    _builtins(kind)
    found = _REGISTRY[kind].get(name)
    if found is None:
        found = _entry_point(kind, name)
    if found is None:
        raise PluginError(
            f"unknown {kind.rstrip('s').replace('_', ' ')} {name!r} "
            f"(known: {', '.join(names(kind))}; a package adds one through "
            f"the {GROUPS[kind]!r} entry point)"
        )
    return found


def params(kind: str, name: str, raw: Any) -> BaseModel | None:
    """Validate ``raw`` (YAML settings) against the part's ``params`` model (None: takes none)."""
    model = getattr(get(kind, name), "params", None)
    if model is None:
        if raw not in (None, {}, True):
            raise PluginError(f"{name!r} takes no settings")
        return None
    try:
        return model.model_validate({} if raw in (None, True) else raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise PluginError(f"{name}{'.' + where if where else ''}: {err['msg']}") from None
