"""Loading scenarios and policies: YAML in, validated models out, or one clear error line.

This is the boundary where user input is checked. A reference is either the name of a file
shipped in the library (``sim/scenarios/*.yaml``, ``sim/policies/*.yaml``) or a path. Whatever
goes wrong (no such file, broken YAML, an unknown field, a wrong type, a negative rate) becomes a
:class:`ConfigError` whose message names the file and the field path, e.g.
``policy.yaml: staffing.teams.desk.agents: must be >= 1``. The CLI prints it and exits 2.
"""

from __future__ import annotations

import copy
import re
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sim import safe_yaml
from sim.policies.schema import Policy
from sim.scenarios.schema import Scenario

M = TypeVar("M", bound=BaseModel)


class ConfigError(Exception):
    """Bad user input; the message is one line naming the file and the field."""


def library(kind: str) -> dict[str, Path]:
    """Shipped YAML files of a kind ('scenarios' or 'policies') by name."""
    folder = resources.files(f"sim.{kind}")
    return {
        Path(str(entry)).stem: Path(str(entry))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    }


def resolve(ref: str | Path, kind: str) -> Path:
    """Library name or path → path of the YAML file."""
    shipped = library(kind)
    if isinstance(ref, str) and ref in shipped:
        return shipped[ref]
    path = Path(ref)
    if path.is_file():
        return path
    names = ", ".join(shipped)
    raise ConfigError(f"{ref}: no such file, and not a shipped {kind[:-1]} ({names})")


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML file's top-level mapping, read within :mod:`sim.safe_yaml`'s budgets (size,
    alias expansion, nesting; unique keys, finite numbers)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(safe_yaml.MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = safe_yaml.load(raw)
    except safe_yaml.YamlError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of fields at the top level")
    return data


def _loc(parts: tuple) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


_MESSAGES = {
    "greater_than_equal": "must be >= {ge}",
    "greater_than": "must be > {gt}",
    "less_than_equal": "must be <= {le}",
    "extra_forbidden": "unknown field",
    "missing": "required field is missing",
    "too_short": "must not be empty",
    "finite_number": "must be a finite number",
}


def format_error(source: str, exc: ValidationError) -> str:
    """First validation error as ``source: field.path: message`` (+ how many more)."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    # pydantic puts union members' names in the path (e.g. 'int'); drop those labels
    loc = tuple(p for p in loc if p not in ("int", "float", "str", "list[str]", "constrained-int"))
    template = _MESSAGES.get(err["type"])
    if template:
        ctx = {
            k: f"{v:g}" if isinstance(v, int | float) else v
            for k, v in (err.get("ctx") or {}).items()
        }
        msg = template.format(**ctx)
    else:
        msg = err["msg"].removeprefix("Value error, ")
    value = err.get("input")
    if err["type"] not in ("missing", "extra_forbidden") and _short(value):
        msg += f" (got {value!r})"
    # model validators report their own dotted paths inside the message
    path = _loc(loc)
    line = f"{source}: {path}: {msg}" if path else f"{source}: {msg}"
    if len(errors) > 1:
        line += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return line


def _short(value: Any) -> bool:
    """Whether a rejected input is worth quoting: a scalar of a few characters (never repr a
    container or a long string: it can be huge)."""
    if isinstance(value, str):
        return len(value) <= 38
    if isinstance(value, int):
        return value.bit_length() <= 64
    return isinstance(value, float)


def validate(model: type[M], data: dict[str, Any], source: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_error(source, exc)) from None


def set_path(data: dict[str, Any], dotted: str, value: Any, create: bool = True) -> None:
    """Set ``a.b.c`` or ``a.b[0].c`` in a nested document, e.g. a sweep parameter.

    Missing mapping levels are created (so an override can give a field the file leaves at its
    default) unless ``create`` is false. A list is addressed by index (``shifts[0]``); a path
    that does not fit the document (indexing a mapping, an index out of range, a key under a
    plain value, or with ``create`` false a missing level) raises :class:`ConfigError` naming
    the path.
    """
    steps: list[str | int] = []
    for part in dotted.split("."):
        m = re.fullmatch(r"([^\[\]]*)((?:\[\d+\])*)", part)
        if m is None or (not m.group(1) and not m.group(2)):
            raise ConfigError(f"{dotted}: malformed path (use a.b.c or a.b[0].c)")
        if m.group(1):
            steps.append(m.group(1))
        steps += [int(i) for i in re.findall(r"\[(\d+)\]", m.group(2))]
    node: Any = data
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        here = _loc(tuple(steps[:i])) or "the document"
        if isinstance(step, int):
            if not isinstance(node, list):
                raise ConfigError(f"{dotted}: {here} is not a list, cannot take [{step}]")
            if step >= len(node):
                raise ConfigError(f"{dotted}: {here} has {len(node)} items, no [{step}]")
        elif not isinstance(node, dict):
            kind = "a list" if isinstance(node, list) else "a value"
            raise ConfigError(f"{dotted}: {here} is {kind}, not a mapping with {step!r}")
        if last:
            node[step] = value
            return
        nxt = node.get(step) if isinstance(node, dict) else node[step]
        if isinstance(nxt, dict | list):
            node = nxt
            continue
        where = _loc(tuple(steps[: i + 1]))
        if nxt is not None:
            raise ConfigError(f"{dotted}: {where} is a value, not a mapping or list")
        if not create:
            known = ", ".join(map(str, node)) if isinstance(node, dict) else ""
            raise ConfigError(f"{dotted}: no {where}" + (f" (have: {known})" if known else ""))
        nxt = node[step] = {}
        node = nxt


def read_document(path: Path, kind: str, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A document with its ``extends:`` chain resolved (a library name or a relative path).

    The extending file replaces each top-level section it gives (``detection``, ``staffing``,
    ...) as a whole and inherits the others: what a section says is never a mix of two files.
    A ``patch:`` mapping of dotted paths to values then changes single nested fields (a
    variant: ``operations.demand.peaks: [...]``).
    """
    data = read_yaml(path)
    parent = data.pop("extends", None)
    patch = data.pop("patch", None)
    if patch is not None and not isinstance(patch, dict):
        raise ConfigError(f"{path}: patch: must map dotted paths to values")
    if parent is None:
        return _patched(data, patch, path)
    if not isinstance(parent, str):
        raise ConfigError(f"{path}: extends: must be a library name or a path")
    ref: str | Path = parent
    if parent not in library(kind):
        ref = (path.parent / parent).resolve()
    try:
        base_path = resolve(ref, kind)
    except ConfigError as exc:
        raise ConfigError(f"{path}: extends: {exc}") from None
    if base_path.resolve() in seen:
        raise ConfigError(f"{path}: extends: cycle through {base_path.name}")
    base = read_document(base_path, kind, (*seen, path.resolve()))
    base.pop("name", None)
    base.pop("description", None)
    return _patched({**base, **data}, patch, path)


def _patched(data: dict[str, Any], patch: dict[str, Any] | None, path: Path) -> dict[str, Any]:
    """Apply ``patch: {dotted.path: value}`` (a variant changing a few nested fields)."""
    if not patch:
        return data
    data = copy.deepcopy(data)
    for dotted, value in patch.items():
        try:
            set_path(data, str(dotted), value)
        except ConfigError as exc:
            raise ConfigError(f"{path}: patch: {exc}") from None
        except (TypeError, KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"{path}: patch: {dotted}: {exc}") from None
    return data


def load(
    model: type[M], ref: str | Path, kind: str, overrides: dict[str, Any] | None = None
) -> tuple[M, dict[str, Any]]:
    """Load and validate one file; returns the model and the raw (overridden) document."""
    path = resolve(ref, kind)
    data = read_document(path, kind)
    if overrides:
        data = copy.deepcopy(data)
        for dotted, value in overrides.items():
            set_path(data, dotted, value)
    return validate(model, data, path.name if path.parent == _lib_dir(kind) else str(path)), data


def _lib_dir(kind: str) -> Path:
    return Path(str(resources.files(f"sim.{kind}")))


def load_scenario(ref: str | Path = "default", overrides: dict[str, Any] | None = None) -> Scenario:
    return load(Scenario, ref, "scenarios", overrides)[0]


def load_policy(ref: str | Path = "default", overrides: dict[str, Any] | None = None) -> Policy:
    return load(Policy, ref, "policies", overrides)[0]


def detect_kind(data: dict[str, Any], path: Path | None = None, seen: tuple[Path, ...] = ()) -> str:
    """Whether a document is a scenario or a policy (for ``exsim validate``).

    By the sections it gives, directly or through ``patch:`` (a scenario has ``categories``,
    ``operations``, ``horizon_days``...; a policy ``detection``, ``staffing``, ``sla``...);
    a document that gives neither (``extends:`` and a description) is what it extends: a name
    only one library has, or the file at that path (relative to ``path``), followed up the
    chain.
    """
    patch = data.get("patch")
    keys = set(data) | {
        re.split(r"[.\[]", str(k), maxsplit=1)[0]
        for k in (patch if isinstance(patch, dict) else {})
    }
    scenario_only = set(Scenario.model_fields) - set(Policy.model_fields)
    policy_only = set(Policy.model_fields) - set(Scenario.model_fields)
    if keys & scenario_only:
        return "scenarios"
    if keys & policy_only:
        return "policies"
    parent = data.get("extends")
    if isinstance(parent, str):
        in_scenarios, in_policies = parent in library("scenarios"), parent in library("policies")
        if in_scenarios != in_policies:
            return "scenarios" if in_scenarios else "policies"
        base = (path.parent / parent) if path is not None else None
        if base is not None and base.is_file() and base.resolve() not in seen:
            return detect_kind(read_yaml(base), base, (*seen, path.resolve()))
    return "policies"


def check_fits(scenario: Scenario, policy: Policy, policy_ref: str | Path = "policy") -> None:
    """Refuse a policy that names categories or sites the scenario does not have.

    A policy is validated on its own, so ``routing.by_category: {carier_failure: desk}`` (a
    typo) is a well-formed rule that silently never applies: the cases go to the default team.
    Checked when both are known, before a run; raises :class:`ConfigError` naming the policy
    file and the field.
    """
    source = _source(policy_ref, "policies")
    categories = set(scenario.categories)
    sites = {w.site for w in scenario.warehouses}
    warehouses = {w.name for w in scenario.warehouses}
    refs: list[tuple[str, str, set[str]]] = []

    def names(field: str, values, known: set[str], wildcard: bool = False) -> None:
        refs.extend((field, str(v), known) for v in values if not (wildcard and v == "*"))

    names("detection", policy.detection, categories, wildcard=True)
    names("routing.by_category", policy.routing.by_category, categories)
    for site, table in policy.routing.by_site.items():
        names("routing.by_site", [site], sites)
        names(f"routing.by_site.{site}", table, categories)
    names("sla.by_category", policy.sla.by_category, categories)
    names("sla.by_category_severity", policy.sla.by_category_severity, categories)
    for i, rule in enumerate(policy.severity.rules):
        names(f"severity.rules[{i}].when.category", rule.when.category or [], categories)
        names(f"severity.rules[{i}].when.site", rule.when.site or [], sites)
        names(f"severity.rules[{i}].when.warehouse", rule.when.warehouse or [], warehouses)
    for i, decision in enumerate(policy.approvals.decisions):
        names(f"approvals.decisions[{i}].categories", decision.categories, categories)
    names("resolution.auto_resolve", policy.resolution.auto_resolve, categories, wildcard=True)
    for team, spec in policy.staffing.teams.items():
        names(f"staffing.teams.{team}.skills", spec.skills or [], categories)
    for field, value, known in refs:
        if value not in known:
            kind = "category" if known is categories else "site" if known is sites else "warehouse"
            have = ", ".join(sorted(known))
            raise ConfigError(
                f"{source}: {field}: {value!r} is not a {kind} of scenario "
                f"{scenario.name!r} ({have})"
            )


def _source(ref: str | Path, kind: str) -> str:
    try:
        path = resolve(ref, kind)
    except ConfigError:
        return str(ref)
    return path.name if path.parent == _lib_dir(kind) else str(path)
