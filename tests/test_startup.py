"""The CLI and the pytest plugin start without the heavy libraries (``exsim --help`` at once).

Each check imports in a fresh interpreter, because this test process has long imported them.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "scipy", "matplotlib", "pyarrow", "simpy", "sim.engine", "sim.metrics")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("module", ["sim.cli", "sim.testing"])
def test_importing_leaves_the_heavy_libraries_unloaded(module):
    loaded = _loaded_after(f"import {module}")
    assert module in loaded
    assert [m for m in HEAVY if m in loaded] == []


def test_help_lists_every_verb_without_the_heavy_libraries():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from sim.cli import app\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert all(v in result.output for v in ('run', 'compare', 'replay', 'report'))"
    )
    loaded = _loaded_after(code)
    assert [m for m in HEAVY if m in loaded] == []


def test_a_lazy_module_is_imported_at_its_first_use():
    loaded = _loaded_after(
        "from sim.lazy import lazy\n"
        "stats = lazy('sim.stats')\n"
        "import sys\n"
        "assert 'sim.stats' not in sys.modules\n"
        "assert stats.mean_ci([1.0, 2.0, 3.0]).mean == 2.0"
    )
    assert "sim.stats" in loaded and "scipy" in loaded
