"""The notebooks run top to bottom on a fresh kernel, as a newcomer would run them.

Each is executed with nbclient in a temporary working directory, with small horizons and
replication counts (set through ``EXSIM_NB_*``), and must finish without an error.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

nbformat = nbclient = None  # imported by the fixture below


@pytest.fixture(scope="module", autouse=True)
def notebook_libraries():
    """nbformat and nbclient (with Jupyter's client and zmq: ~0.5 s to import), only on the
    worker that runs this module: every xdist worker imports every test module to collect it.
    The module's tests skip where they are not installed."""
    global nbformat, nbclient
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")


NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _execute(name: str, tmp_path: Path, monkeypatch, **env: str):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    return nb


def _outputs(nb, kind: str) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if kind in str(o)]


@pytest.mark.parametrize("name", ["quickstart.ipynb", "threshold_tuning.ipynb", "live_odoo.ipynb"])
def test_notebooks_are_stored_without_outputs(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.slow  # a whole notebook run: CI runs it in its second step
def test_quickstart_runs_and_shows_kpis_and_charts(tmp_path, monkeypatch) -> None:
    nb = _execute("quickstart.ipynb", tmp_path, monkeypatch, EXSIM_NB_DAYS="2", EXSIM_NB_REPS="2")
    assert _outputs(nb, "SLA attainment")
    assert len(_outputs(nb, "image/png")) >= 4


@pytest.mark.slow  # a whole notebook run: CI runs it in its second step
def test_threshold_tuning_compares_sweeps_and_draws_the_front(tmp_path, monkeypatch) -> None:
    pytest.importorskip("sim.experiments")
    nb = _execute(
        "threshold_tuning.ipynb", tmp_path, monkeypatch, EXSIM_NB_DAYS="1", EXSIM_NB_REPS="2"
    )
    assert _outputs(nb, "detection latency by")
    assert len(_outputs(nb, "image/png")) >= 2


def test_live_odoo_skips_itself_without_settings(tmp_path, monkeypatch) -> None:
    for key in [k for k in os.environ if k.startswith("EXSIM_ODOO_")]:
        monkeypatch.delenv(key)
    if shutil.which("exsim") is None:
        pytest.skip("exsim entry point not on PATH")
    nb = _execute("live_odoo.ipynb", tmp_path, monkeypatch)
    assert len(_outputs(nb, "skipped (no EXSIM_ODOO_* settings)")) == 6
    assert not list(tmp_path.iterdir())  # nothing was run, nothing written
