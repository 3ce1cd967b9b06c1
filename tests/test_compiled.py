"""The compiled build: stale extensions never run, EXSIM_PURE forces the .py files, and (slow:
it builds with mypyc) compiled and pure Python write the same event logs for a seed."""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from sim import compiled

ROOT = Path(__file__).resolve().parent.parent
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def _package(tmp_path: Path, name: str, manifest: dict | None) -> Path:
    """A package whose module ``mod`` has a .py (value 1) and an 'extension' that is not one:
    importing the extension fails, so a test sees at once which of the two was imported."""
    pkg = tmp_path / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("value = 1\n")
    (pkg / f"mod{SUFFIX}").write_bytes(b"not a shared object")
    if manifest is not None:
        (pkg / compiled.MANIFEST).write_text(json.dumps(manifest))
    return pkg


def _hash(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def clean_import(tmp_path, monkeypatch):
    """tmp_path on sys.path; the meta-path finders and imported test packages put back after."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("EXSIM_PURE", raising=False)  # a developer's setting is not the test's
    finders = list(sys.meta_path)
    yield
    sys.meta_path[:] = finders
    for name in [n for n in sys.modules if n.startswith("fake_")]:
        del sys.modules[name]


def test_a_source_edited_since_the_build_runs_as_python_with_a_warning(tmp_path, clean_import):
    pkg = _package(tmp_path, "fake_stale", {"modules": {"fake_stale.mod": "0" * 64}})
    with pytest.warns(compiled.StaleBuildWarning, match="changed since it was compiled"):
        decision = compiled.install(pkg, "fake_stale")
    assert decision.pure == ["fake_stale.mod"] and decision.compiled == []
    assert importlib.import_module("fake_stale.mod").value == 1


def test_without_the_guard_the_stale_extension_would_win(tmp_path, clean_import):
    _package(tmp_path, "fake_unguarded", {"modules": {"fake_unguarded.mod": "0" * 64}})
    with pytest.raises(ImportError):  # the import system prefers the extension to the .py
        importlib.import_module("fake_unguarded.mod")


def test_a_build_without_its_manifest_is_not_trusted(tmp_path, clean_import):
    pkg = _package(tmp_path, "fake_nomanifest", None)
    with pytest.warns(compiled.StaleBuildWarning, match="missing"):
        compiled.install(pkg, "fake_nomanifest")
    assert importlib.import_module("fake_nomanifest.mod").value == 1


def test_an_up_to_date_build_is_imported_compiled(tmp_path, clean_import):
    pkg = _package(tmp_path, "fake_fresh", None)
    (pkg / compiled.MANIFEST).write_text(
        json.dumps({"modules": {"fake_fresh.mod": _hash(pkg / "mod.py")}})
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decision = compiled.install(pkg, "fake_fresh")
    assert decision.compiled == ["fake_fresh.mod"] and decision.pure == []
    with pytest.raises(ImportError):  # the (fake) extension is what gets imported
        importlib.import_module("fake_fresh.mod")


def test_exsim_pure_runs_the_python_files_of_an_up_to_date_build(
    tmp_path, clean_import, monkeypatch
):
    pkg = _package(tmp_path, "fake_pure", None)
    (pkg / compiled.MANIFEST).write_text(
        json.dumps({"modules": {"fake_pure.mod": _hash(pkg / "mod.py")}})
    )
    env = {**os.environ, "EXSIM_PURE": "1"}
    assert compiled.decide(pkg, "fake_pure", env).pure == ["fake_pure.mod"]
    monkeypatch.setenv("EXSIM_PURE", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # asked for: no warning
        compiled.install(pkg, "fake_pure")
    assert importlib.import_module("fake_pure.mod").value == 1


def test_one_stale_module_sends_every_compiled_module_back_to_python(tmp_path, clean_import):
    """Compiled modules call each other natively, so it is all of them or none."""
    pkg = _package(tmp_path, "fake_group", None)
    (pkg / "other.py").write_text("value = 2\n")
    (pkg / f"other{SUFFIX}").write_bytes(b"not a shared object")
    (pkg / compiled.MANIFEST).write_text(
        json.dumps(
            {"modules": {"fake_group.mod": _hash(pkg / "mod.py"), "fake_group.other": "0" * 64}}
        )
    )
    with pytest.warns(compiled.StaleBuildWarning):
        decision = compiled.install(pkg, "fake_group")
    assert decision.pure == ["fake_group.mod", "fake_group.other"]
    assert importlib.import_module("fake_group.mod").value == 1


def test_the_compiled_list_names_modules_that_exist():
    import tomllib

    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["exsim"]["compile"]
    assert listed["modules"], "nothing to compile"
    for path in listed["modules"]:
        assert (ROOT / path).is_file(), path
        assert path != "sim/compiled.py", "the guard itself must stay Python"


# -- the compiled build against pure Python (builds with mypyc: slow) -------------------------

_LOGS = r"""
import hashlib, json, sys
from sim import compiled, runner
from sim.config import load_policy, load_scenario
from sim.reference import mmc
from pathlib import Path

def table_hash(table):
    h = hashlib.sha256()
    for name in table.column_names:
        h.update(name.encode())
        h.update(json.dumps(table.column(name).combine_chunks().to_pylist(), default=str).encode())
    return h.hexdigest()

runs = {"mmc": (*mmc(54.0, 3.0, 3, 5), 1), "default-120d": (
    load_scenario("default", {"horizon_days": 120}), load_policy("default"), 1)}
scen_dir = Path(__import__("sim.scenarios").scenarios.__file__).parent
pol_dir = Path(__import__("sim.policies").policies.__file__).parent
for s in sorted(p.stem for p in scen_dir.glob("*.yaml")):
    for p in sorted(p.stem for p in pol_dir.glob("*.yaml")):
        runs[f"{s}x{p}"] = (load_scenario(s, {"horizon_days": 3}), load_policy(p), 1)
runs["baseline-reps2"] = (load_scenario("baseline", {"horizon_days": 3}), load_policy("default"), 2)
out = {}
for key, (scen, pol, reps) in runs.items():
    res = runner.run(scen, pol, runner.RunSettings(seed=11, reps=reps, workers=1))
    extra = json.dumps(res.meta.extra, sort_keys=True, default=str)
    out[key] = [table_hash(res.table), hashlib.sha256(extra.encode()).hexdigest()]
print(json.dumps({"status": compiled.status(), "logs": out}))
"""


@pytest.mark.slow
def test_the_compiled_build_writes_the_same_logs_as_pure_python(tmp_path):
    """Build a copy of the package with mypyc, then run every shipped scenario under every
    shipped policy (and M/M/c, a long default run, an operations run with two replications)
    compiled and pure: the event logs and their metadata must be identical."""
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    ignore = shutil.ignore_patterns("__pycache__", f"*{SUFFIX}", compiled.MANIFEST)
    shutil.copytree(ROOT / "sim", tmp_path / "sim", ignore=ignore)
    shutil.copytree(ROOT / "tools", tmp_path / "tools", ignore=ignore)
    build = subprocess.run(
        [sys.executable, "tools/compile.py", "-q"], cwd=tmp_path, capture_output=True, text=True
    )
    assert build.returncode == 0, build.stderr[-3000:]

    def logs(**env) -> dict:
        done = subprocess.run(
            [sys.executable, "-c", _LOGS],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(tmp_path), **env},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.splitlines()[-1])

    fast, pure = logs(EXSIM_PURE="0"), logs(EXSIM_PURE="1")
    assert fast["status"]["mode"] == "compiled" and pure["status"]["mode"] == "pure"
    listed = [
        p.removesuffix(".py").replace("/", ".")
        for p in __import__("tomllib").loads((ROOT / "pyproject.toml").read_text())["tool"][
            "exsim"
        ]["compile"]["modules"]
    ]
    assert sorted(fast["status"]["compiled"]) == sorted(listed)
    assert set(fast["status"]["loaded_compiled"]) >= {"sim.engine", "sim.team", "sim.timers"}
    different = [k for k in pure["logs"] if fast["logs"][k] != pure["logs"][k]]
    assert not different, f"compiled logs differ from pure Python: {different}"
