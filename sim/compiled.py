"""Which of exsim's modules run compiled, and the guard that keeps stale ones from running.

The compiled build (``EXSIM_COMPILE=1 pip install .``, or ``python tools/compile.py`` in a
checkout; modules listed in pyproject.toml under ``[tool.exsim.compile]``) puts a C extension
(mypyc) beside each hot module's .py file. Python's import system prefers an extension to a
source file of the same name, so a .py edited after the build would silently lose to its old
compiled self. The build therefore records each compiled module's source hash in
``sim/_compiled.json``, and :func:`install` (run by ``import sim``, before any other module of
the package) decides once for all of them:

- compiled, when the manifest's hashes all match the .py files beside them;
- pure Python for every compiled module when any one is stale, its manifest missing, or
  ``EXSIM_PURE=1`` is set, with a warning in the stale case. All or none, because compiled
  modules call each other natively: a fresh compiled engine would still run its old compiled
  view of a team module edited since.

:func:`status` says what was decided (benchmarks print it; tests assert on it).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from pathlib import Path

MANIFEST = "_compiled.json"


class StaleBuildWarning(UserWarning):
    """A compiled module's source changed since the build: pure Python runs instead."""


class _SourceFirst(importlib.abc.MetaPathFinder):
    """Finds the listed modules' .py files ahead of the extensions beside them."""

    def __init__(self, sources: dict[str, Path]) -> None:
        self.sources = sources

    def find_spec(self, fullname, path=None, target=None):
        source = self.sources.get(fullname)
        if source is None:
            return None
        return importlib.util.spec_from_file_location(fullname, source)


class BuildChoice:
    """What :func:`decide` found for one package directory."""

    def __init__(
        self,
        compiled: list[str],
        pure: list[str],
        reason: str,
        sources: dict[str, Path] | None = None,
    ) -> None:
        self.compiled = compiled  # modules that import from their extension
        self.pure = pure  # modules that have an extension but import from their .py
        self.reason = reason  # why (for status and the warning)
        self.sources = sources or {}  # module name -> .py, for every module with an extension


def _extension_modules(package_dir: Path, package: str) -> dict[str, Path]:
    """module name -> .py source, for every module that has an extension beside its .py."""
    found: dict[str, Path] = {}
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    for folder, dirs, files in os.walk(package_dir):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for file in files:
            if not file.endswith(suffixes):
                continue
            stem = file[: -len(next(s for s in suffixes if file.endswith(s)))]
            if stem + ".py" in files:
                rel = Path(folder, stem).relative_to(package_dir)
                found[".".join((package, *rel.parts))] = Path(folder, stem + ".py")
    return found


def decide(package_dir: Path, package: str, environ=os.environ) -> BuildChoice:
    """Compiled or pure for the extension modules of ``package`` (at ``package_dir``)."""
    modules = _extension_modules(package_dir, package)
    if not modules:
        return BuildChoice([], [], "no compiled modules")
    names = sorted(modules)
    if environ.get("EXSIM_PURE", "").strip() not in ("", "0"):
        return BuildChoice([], names, "EXSIM_PURE is set", modules)
    try:
        recorded = json.loads((package_dir / MANIFEST).read_text())["modules"]
    except (OSError, ValueError, KeyError, TypeError):
        reason = f"{package_dir / MANIFEST} is missing or unreadable: rebuild"
        return BuildChoice([], names, reason, modules)
    for name in names:
        want = recorded.get(name)
        if want is None:
            reason = f"{name} has an extension the build did not record"
            return BuildChoice([], names, reason, modules)
        if hashlib.sha256(modules[name].read_bytes()).hexdigest() != want:
            return BuildChoice([], names, f"{modules[name]} changed since it was compiled", modules)
    return BuildChoice(names, [], "compiled build up to date", modules)


_decision: BuildChoice | None = None


def install(package_dir: Path | None = None, package: str = "sim") -> BuildChoice:
    """Decide for the package and, when pure, put the .py files first on the import path."""
    global _decision
    package_dir = package_dir or Path(__file__).parent
    decision = decide(package_dir, package)
    if decision.pure:
        sys.meta_path.insert(0, _SourceFirst({n: decision.sources[n] for n in decision.pure}))
        if not decision.reason.startswith("EXSIM_PURE"):
            warnings.warn(
                f"exsim runs pure Python: {decision.reason} "
                "(python tools/compile.py rebuilds, --clean removes the build)",
                StaleBuildWarning,
                stacklevel=2,
            )
    if package == "sim":
        _decision = decision
    return decision


def status() -> dict[str, object]:
    """Which modules run compiled (``compiled``), which fell back to pure Python (``pure``) and
    why; ``mode`` is "compiled" or "pure"; ``loaded_compiled``: compiled modules imported so far."""
    decision = _decision or decide(Path(__file__).parent, "sim")
    loaded = [
        n
        for n in decision.compiled
        if n in sys.modules and not str(getattr(sys.modules[n], "__file__", "")).endswith(".py")
    ]
    return {
        "mode": "compiled" if decision.compiled else "pure",
        "compiled": decision.compiled,
        "pure": decision.pure,
        "loaded_compiled": loaded,
        "reason": decision.reason,
    }


def is_compiled(module_name: str) -> bool:
    """Whether ``module_name`` (imported) runs from an extension module."""
    module = sys.modules[module_name]
    return not str(getattr(module, "__file__", "")).endswith(".py")
