"""The layers of exsim, as import rules checked on the source (``ast``, nothing imported).

From the bottom up:

- **event log and config**: the ``sim.eventlog`` package imports no other exsim module;
  ``sim.config`` loads YAML into the models (``sim.policies.schema``, ``sim.scenarios.schema`` and
  ``.operations``, ``sim.schema_types``), which import only each other and the event log;
- **the model**: the engine with generators, policies, teams, shifts; it never imports the
  command line, the reports, the live Odoo backend, experiments or replay;
- **readers**: ``sim.metrics``, ``sim.reports`` and ``sim.exports`` read event logs (and their
  metadata) only: no engine, generators, policies, shifts, Odoo, experiments, replay or CLI;
- **one run path**: only the model (``sim.runner``) builds a ``Simulation``: nothing outside it
  imports ``sim.engine`` (experiments, live Odoo, replay, the UI run through ``sim.runner``);
- **the command line** on top: nothing but ``sim.__main__`` imports ``sim.cli``;
- no import cycles between packages;
- and nothing outside ``tests/`` imports from it (benchmarks included).

Imports inside functions count (a lazy import is still a dependency), so do the modules named
in ``sim.lazy.lazy("...")``; imports under ``if TYPE_CHECKING:`` do not (they never run).
What still breaks a rule is listed in :data:`KNOWN`, each with why; the test fails on any new
violation, and on a listed one that has gone (so the list only shrinks).

``python tests/test_layers.py`` prints the package dependency graph.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sim", "replay")

#: The config layer: the loader and the models it validates into.
CONFIG = (
    "sim.config",
    "sim.schema_types",
    "sim.policies.schema",
    "sim.scenarios.schema",
    "sim.scenarios.operations",
    "sim.plugins",  # the registry of named parts the models validate names against
    "sim.safe_yaml",  # the YAML reader the loader uses
)
#: Modules that only read event logs.
READERS = ("sim.metrics", "sim.reports", "sim.exports")
READERS_MAY_NOT = (
    "sim.engine",
    "sim.generators",
    "sim.policies",
    "sim.scenarios",
    "sim.shifts",
    "sim.team",
    "sim.case",
    "sim.runner",
    "sim.run_summary",
    "sim.odoo",
    "sim.experiments",
    "sim.testing",
    "sim.cli",
    "replay",
)
#: The simulation model.
MODEL = (
    "sim.engine",
    "sim.generators",
    "sim.policies",
    "sim.team",
    "sim.case",
    "sim.shifts",
    "sim.streams",
    "sim.runner",
    "sim.port",
    "sim.timers",
)
MODEL_MAY_NOT = ("sim.cli", "sim.reports", "sim.odoo", "sim.experiments", "sim.testing", "replay")

#: Violations not fixed yet: (rule, importer, imported) -> why it is still there.
KNOWN: dict[tuple[str, str, str], str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _imported(node: ast.AST, here: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parts = here.split(".")
            keep = len(parts) - node.level + (1 if is_package else 0)
            base = ".".join(parts[:keep] + ([base] if base else []))
        return [base] + [f"{base}.{a.name}" for a in node.names]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "lazy"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return [node.args[0].value]
    return []


@cache
def modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            out[module_name(path)] = path
    return out


@cache
def tree_of(path: Path) -> ast.Module:
    """The parsed source of ``path``, parsed once for every rule below (read, never changed)."""
    return ast.parse(path.read_text(encoding="utf-8"))


@cache
def imports_of(module: str) -> frozenset[str]:
    """The exsim modules ``module`` imports at run time (resolved to existing modules)."""
    path = modules()[module]
    tree = tree_of(path)
    found: set[str] = set()
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if _type_checking(node):
            stack.extend(node.orelse)
            continue
        for name in _imported(node, module, path.name == "__init__.py"):
            while name and name not in modules():
                name = name.rpartition(".")[0]  # 'sim.x.f' imports function f of sim.x
            if name in PACKAGES:  # ``from sim import x``: x is what is imported
                continue
            if name and name != module and name.split(".")[0] in PACKAGES:
                found.add(name)
                found.update(_parents(name, module))
        stack.extend(ast.iter_child_nodes(node))
    return frozenset(found)


def _parents(name: str, importer: str) -> set[str]:
    """Packages Python runs on the way to ``name`` (their ``__init__``), where they import
    anything themselves: importing ``sim.metrics.kpis`` runs ``sim/metrics/__init__.py``."""
    out = set()
    parts = name.split(".")
    for i in range(2, len(parts)):
        pkg = ".".join(parts[:i])
        if pkg in modules() and not importer.startswith(pkg) and imports_of(pkg):
            out.add(pkg)
    return out


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def unit(module: str) -> str:
    """The package a module belongs to for the graph: ``sim.x`` or ``replay``; the model
    schemas count as the config layer."""
    if within(module, CONFIG):
        return "sim.config"
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "sim" and len(parts) > 1 else parts[0]


def graph() -> dict[str, set[str]]:
    g: dict[str, set[str]] = defaultdict(set)
    for m in modules():
        for dep in imports_of(m):
            if unit(dep) != unit(m) and unit(dep) != "sim":
                g[unit(m)].add(unit(dep))
    return g


def rule_violations() -> set[tuple[str, str, str]]:
    out = set()
    for m in modules():
        deps = imports_of(m)
        for d in deps:
            if within(m, ("sim.eventlog",)) and not within(d, ("sim.eventlog",)):
                out.add(("bottom", m, d))
            if within(m, CONFIG) and not within(d, (*CONFIG, "sim.eventlog")):
                out.add(("bottom", unit(m), unit(d)))
            if within(m, READERS) and within(d, READERS_MAY_NOT) and not within(d, CONFIG):
                out.add(("readers", unit(m), unit(d)))
            if within(m, MODEL) and not within(m, CONFIG) and within(d, MODEL_MAY_NOT):
                out.add(("model", unit(m), unit(d)))
            if within(d, ("sim.engine",)) and not within(m, MODEL):
                out.add(("run path", unit(m), unit(d)))
            if within(d, ("sim.cli",)) and not within(m, ("sim.cli", "sim.__main__")):
                out.add(("cli", unit(m), unit(d)))
    return out


def cycles() -> set[tuple[str, str, str]]:
    """Pairs of packages each reachable from the other, as ('cycle', a, b) with a < b."""
    g = graph()

    def reach(a: str) -> set[str]:
        seen, todo = set(), [a]
        while todo:
            for b in g.get(todo.pop(), ()):
                if b not in seen:
                    seen.add(b)
                    todo.append(b)
        return seen

    reachable = {a: reach(a) for a in list(g)}
    return {
        ("cycle", a, b)
        for a in reachable
        for b in reachable[a]
        if a < b and a in reachable.get(b, set()) and b in g.get(a, set())
    }


def test_the_rules_see_every_kind_of_import(tmp_path) -> None:
    """The parser itself: plain, from, relative, lazy and TYPE_CHECKING imports."""
    tree = ast.parse(
        "import sim.eventlog\nfrom . import stats\nfrom sim.metrics import summarize\n"
        "x = lazy('sim.engine')\nif TYPE_CHECKING:\n    import sim.cli\n"
    )
    found = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if _type_checking(node):
            continue
        found.update(_imported(node, "sim.reports.html", False))
        stack.extend(ast.iter_child_nodes(node))
    assert {"sim.eventlog", "sim.reports", "sim.metrics.summarize", "sim.engine"} <= found
    assert "sim.cli" not in found and "sim.reports.stats" in found


def test_layers_hold_apart_from_the_known_debts() -> None:
    found = rule_violations() | cycles()
    new = sorted(found - set(KNOWN))
    assert not new, "new layer violations (importer imports imported): " + "; ".join(
        f"{rule}: {a} -> {b}" for rule, a, b in new
    )
    gone = sorted(set(KNOWN) - found)
    assert not gone, f"fixed, remove from KNOWN in tests/test_layers.py: {gone}"


def test_readers_read_logs_only() -> None:
    """No exception at all for metrics, reports and exports (not even a known one)."""
    assert not {v for v in rule_violations() if v[0] == "readers"}


def test_nothing_outside_the_tests_imports_them() -> None:
    """The package and the benchmarks stand without the tests (a benchmark that needs the Odoo
    test server starts it as a process: ``python -m tests.odoo_server``)."""
    offenders = []
    for folder in ("sim", "replay", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            here, is_package = module_name(path), path.name == "__init__.py"
            for node in ast.walk(tree_of(path)):
                names = _imported(node, here, is_package)
                if any(n == "tests" or n.startswith("tests.") for n in names):
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_only_the_ui_verb_imports_the_page() -> None:
    """The simulator never imports sim.ui, and only sim.ui.page imports the framework (the
    ``ui`` extra), so every other verb runs without it (``exsim ui``: tests/test_ui.py)."""
    users = sorted(
        m
        for m in modules()
        if not m.startswith(("sim.ui", "sim.cli"))
        and any(d == "sim.ui" or d.startswith("sim.ui.") for d in imports_of(m))
    )
    assert users == []
    framework = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "sim").rglob("*.py")
        if "from nicegui" in p.read_text() or "import nicegui" in p.read_text()
    )
    assert framework == ["sim/cli/ui.py", "sim/ui/page.py"]


def private_imports() -> list[str]:
    """``from sim.x import _name`` or ``x._name`` where ``x`` is another exsim module: a private
    name used outside its module (make it public, or keep it where it is used)."""
    found = []
    for module, path in modules().items():
        tree = tree_of(path)
        aliases: dict[str, str] = {}  # local name -> the exsim module it is
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
                for a in node.names:
                    if a.name.startswith("_") and not a.name.startswith("__"):
                        found.append(f"{module}: from {node.module} import {a.name}")
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    aliases[a.asname or a.name] = a.name  # ``import sim.x`` binds ``sim``
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name)
                and aliases.get(node.value.id) in modules()
                and aliases[node.value.id] != module
            ):
                found.append(f"{module}: {aliases[node.value.id]}.{node.attr}")
    return sorted(set(found))


def test_no_module_uses_another_modules_private_names() -> None:
    assert private_imports() == []


#: Class names defined twice, each with why it is still so (the list only shrinks).
KNOWN_TWINS: dict[str, str] = {}


def class_twins() -> dict[str, list[str]]:
    """Top-level class names defined in more than one exsim module."""
    where: dict[str, list[str]] = defaultdict(list)
    for module, path in modules().items():
        for node in tree_of(path).body:
            if isinstance(node, ast.ClassDef):
                where[node.name].append(module)
    return {name: found for name, found in where.items() if len(found) > 1}


def test_a_class_name_means_one_thing() -> None:
    """Two classes of one name (the policy's ``Team`` model and the engine's ``Team``) make a
    reader check the import every time: the policy models are ``TeamSpec``/``QueueSpec``."""
    twins = class_twins()
    assert sorted(set(twins) - set(KNOWN_TWINS)) == []
    assert sorted(set(KNOWN_TWINS) - set(twins)) == [], "renamed: remove from KNOWN_TWINS"


def main() -> None:
    g = graph()
    for k in sorted(g):
        print(f"{k:16} -> {', '.join(sorted(g[k]))}")
    for rule, a, b in sorted(rule_violations() | cycles()):
        print(
            f"violation {rule}: {a} -> {b}"
            + (f"  ({KNOWN[(rule, a, b)]})" if (rule, a, b) in KNOWN else "")
        )


if __name__ == "__main__":
    sys.exit(main())
