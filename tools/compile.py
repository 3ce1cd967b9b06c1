"""Compile exsim's hot modules in place, in a checkout (the developer's compiled build).

    python tools/compile.py           build: C extensions beside the .py files (a minute or two)
    python tools/compile.py --clean   remove them: pure Python again

Which modules: ``[tool.exsim.compile] modules`` in pyproject.toml; type-checked under
``[tool.mypy]`` and compiled by mypyc (``pip install mypy``, in the dev extra). The extensions
win over their .py files at import, so the build also writes ``sim/_compiled.json`` (each
module's source hash): a module edited since the build makes ``import sim`` fall back to pure
Python for every compiled module, with a warning, until this is run again (``sim/compiled.py``).
``EXSIM_PURE=1`` runs pure Python without removing anything.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")


def built_files() -> list[Path]:
    """Every in-place artefact of a compiled build (any module, any earlier build)."""
    found = [p for p in (ROOT / "sim").rglob(f"*{SUFFIX}")]
    found += list(ROOT.glob(f"*__mypyc{SUFFIX}"))
    manifest = ROOT / "sim" / "_compiled.json"
    return found + ([manifest] if manifest.exists() else [])


def clean() -> None:
    for path in built_files():
        path.unlink()
    shutil.rmtree(ROOT / "build", ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", action="store_true", help="remove the compiled modules")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    args = parser.parse_args()
    clean()  # never leave an earlier build's modules beside a new one
    if args.clean:
        return 0
    env = {**os.environ, "EXSIM_COMPILE": "1"}
    done = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--inplace", "-j", str(os.cpu_count())],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL if args.quiet else None,
    )
    if done.returncode != 0:
        clean()  # a half-built set of extensions must not be imported
        return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
