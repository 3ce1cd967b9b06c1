"""Build of exsim: pure Python by default, the hot modules compiled with mypyc on request.

    pip install .                       pure Python (installs anywhere, no compiler needed)
    EXSIM_COMPILE=1 pip install .       the modules listed in pyproject.toml
                                        ([tool.exsim.compile]) compiled, beside their .py files
    python tools/compile.py             the same, built in place in a checkout (developers)

Everything else about the package is in pyproject.toml; this file only adds the extension
modules. The compiled build also writes ``sim/_compiled.json``: the source hash of every compiled
module, which ``sim.compiled`` checks at import so that a .py edited after the build is never
shadowed by its stale extension (the .py runs instead, with a warning).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tomllib
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
MANIFEST = "sim/_compiled.json"
#: mypyc the compiled build is made and tested with (also in the dev extra)
MYPY = "mypy==2.4.1"


def compiled_modules() -> list[str]:
    """Source paths (relative to the project root) of the modules the compiled build compiles."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["exsim"]["compile"]["modules"])


def source_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def module_name(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def manifest(paths: list[str]) -> dict:
    """What ``sim.compiled`` checks at import: each compiled module's source hash."""
    return {
        "python": sys.implementation.cache_tag,
        "mypy": MYPY,
        "modules": {module_name(p): source_hash(ROOT / p) for p in paths},
    }


class BuildNative(build_ext):
    """build_ext that also writes the manifest beside the compiled modules (in place, or into
    the build tree that becomes the wheel)."""

    def run(self) -> None:
        super().run()
        paths = compiled_modules()
        base = ROOT if self.inplace else Path(self.build_lib)
        target = base / MANIFEST
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(manifest(paths), indent=1, sort_keys=True) + "\n")


def _wanted() -> bool:
    value = os.environ.get("EXSIM_COMPILE", "0").strip().lower()
    if value in ("", "0", "no", "false", "off"):
        return False
    if value in ("1", "yes", "true", "on"):
        return True
    raise SystemExit(f"EXSIM_COMPILE={value!r}: use 1 (compile the hot modules) or 0 (pure)")


def _extensions() -> tuple[list, list[str]]:
    """(extension modules, extra build requirements) for this build."""
    if not _wanted():
        return [], []
    try:
        from mypyc.build import mypycify
    except ImportError:  # pip's isolated build env: ask for mypy first, build on the next pass
        return [], [MYPY]
    paths = compiled_modules()
    os.chdir(ROOT)  # mypy resolves the package (and reads [tool.mypy]) from the project root
    ext = mypycify(
        ["--config-file", str(ROOT / "pyproject.toml"), *paths],
        opt_level="3",
        group_name="exsim",
    )
    return ext, []


ext_modules, setup_requires = _extensions()
setup(
    ext_modules=ext_modules,
    setup_requires=setup_requires,
    cmdclass={"build_ext": BuildNative},
)
