"""exsim never destroys what it did not write: ``--out`` and ``-o`` over existing paths.

Every refusal is exit 2 with one line naming the path, and leaves the folder exactly as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim import outdir
from sim.cli import app

runner = CliRunner()
REFUSAL = "exists and was not written by exsim; choose another --out or pass --force"


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its bytes (None for directories)."""
    out: dict[str, bytes | None] = {}
    for p in sorted(folder.rglob("*")):
        out[str(p.relative_to(folder))] = None if p.is_dir() else p.read_bytes()
    return out


def one_line_error(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def user_project(tmp_path: Path) -> Path:
    d = tmp_path / "d"
    (d / "src").mkdir(parents=True)
    (d / "src" / "main.py").write_text("print('mine')\n")
    return d


@pytest.mark.parametrize(
    "verb",
    [
        ["run", "--days", "0.5"],
        ["compare", "--days", "0.5", "--reps", "2", "--workers", "1"],
    ],
)
def test_out_over_a_users_directory_is_refused_and_left_alone(tmp_path, verb):
    d = user_project(tmp_path)
    before = snapshot(tmp_path)
    result = runner.invoke(app, [*verb, "--out", str(d)])
    assert result.exit_code == 2
    assert f"{d}: {REFUSAL}" in one_line_error(result)
    assert snapshot(tmp_path) == before


def test_force_replaces_only_after_the_run_succeeded(tmp_path, monkeypatch):
    d = user_project(tmp_path)

    def boom(*a, **k):
        raise RuntimeError("run failed")

    monkeypatch.setattr("sim.cli.core._dump", boom)
    before = snapshot(tmp_path)
    with pytest.raises(RuntimeError):
        runner.invoke(
            app, ["run", "--days", "0.5", "--out", str(d), "--force"], catch_exceptions=False
        )
    assert snapshot(tmp_path) == before
    monkeypatch.undo()
    ok = runner.invoke(app, ["run", "--days", "0.5", "--out", str(d), "--force"])
    assert ok.exit_code == 0, ok.output
    assert not (d / "src").exists() and (d / "events.parquet").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_exsims_own_run_directory_is_replaced_but_not_with_a_users_file_in_it(tmp_path):
    out = tmp_path / "run"
    assert runner.invoke(app, ["run", "--days", "0.5", "--out", str(out)]).exit_code == 0
    assert (out / outdir.MARKER).is_file()
    again = runner.invoke(app, ["run", "--days", "0.5", "--seed", "2", "--out", str(out)])
    assert again.exit_code == 0, again.output
    (out / "notes.txt").write_text("my notes")
    before = snapshot(tmp_path)
    result = runner.invoke(app, ["run", "--days", "0.5", "--out", str(out)])
    assert result.exit_code == 2
    assert "holds notes.txt, which exsim did not write" in one_line_error(result)
    assert snapshot(tmp_path) == before


def test_compare_out_is_replaceable_by_compare(tmp_path):
    out = tmp_path / "cmp"
    args = ["compare", "--days", "0.5", "--reps", "2", "--workers", "1", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output


def test_out_naming_a_file_or_the_current_directory(tmp_path, monkeypatch):
    f = tmp_path / "some-file.txt"
    f.write_text("keep me")
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    for target in (str(f), ".", str(tmp_path.parent)):
        result = runner.invoke(app, ["run", "--days", "0.5", "--out", target])
        assert result.exit_code == 2, (target, result.output)
        assert target in one_line_error(result)
    forced = runner.invoke(app, ["run", "--days", "0.5", "--out", ".", "--force"])
    assert forced.exit_code == 2
    assert snapshot(tmp_path) == before


@pytest.fixture(scope="module")
def half_day_run(tmp_path_factory):
    """A run directory that the tests below read (and write nothing into)."""
    run = tmp_path_factory.mktemp("run") / "run"
    assert runner.invoke(app, ["run", "--days", "0.5", "--out", str(run)]).exit_code == 0
    return run


def test_report_and_export_refuse_to_overwrite_a_users_file(tmp_path, half_day_run):
    run = half_day_run
    for verb, name in (("report", "notes.html"), ("export", "data.csv"), ("export", "x.xes")):
        target = tmp_path / name
        target.write_text("the user's own file")
        result = runner.invoke(app, [verb, str(run), "-o", str(target)])
        assert result.exit_code == 2, result.output
        assert f"{target}: {REFUSAL}" in one_line_error(result)
        assert target.read_text() == "the user's own file"
        # --force overwrites; then the file is exsim's and is overwritten without it
        assert runner.invoke(app, [verb, str(run), "-o", str(target), "--force"]).exit_code == 0
        assert outdir.written_by_exsim(target)
        inode = target.stat().st_ino
        again = runner.invoke(app, [verb, str(run), "-o", str(target)])
        assert again.exit_code == 0, again.output
        assert target.stat().st_ino != inode  # written anew (atomically: a new file)
        if verb == "report":  # exsim's own earlier report is replaced, and the output says so
            assert "replaced the earlier report" in again.stdout


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xes", "ocel.json"])
def test_every_export_format_is_recognised_as_exsims(tmp_path, fmt, half_day_run):
    run = half_day_run
    target = tmp_path / f"log.{fmt}"
    assert runner.invoke(app, ["export", str(run), "-o", str(target)]).exit_code == 0
    assert outdir.written_by_exsim(target)
    assert runner.invoke(app, ["export", str(run), "-o", str(target)]).exit_code == 0


def test_a_killed_runs_leftovers_are_cleaned_by_the_next_run(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = outdir.temp_sibling(tmp_path / "a", "events.parquet")
    stale = stale.with_name(stale.name.replace(f".{os.getpid()}.", f".{dead.pid}.") + ".partial")
    stale.write_bytes(b"half a log")
    alive = outdir.temp_sibling(tmp_path / "b", "events.parquet")  # this process: still running
    alive.write_bytes(b"in progress")
    foreign = tmp_path / ".a.events.parquet.partial"  # not exsim's naming: never touched
    foreign.write_bytes(b"someone else's")
    result = runner.invoke(app, ["run", "--days", "0.5", "--out", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert not stale.exists() and alive.exists() and foreign.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["c"]


def test_a_streamed_run_leaves_no_hidden_file_behind(tmp_path):
    out = tmp_path / "r"
    assert runner.invoke(app, ["run", "--days", "0.5", "--out", str(out)]).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


# -- bad input: one line naming file and field, exit 2, nothing written -----------------------
def laughs(levels: int = 9) -> str:
    """A 'billion laughs' value: ``levels`` of anchors, each ten aliases of the one before."""
    parts = ['&a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        parts.append(f"&a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    return "[" + ", ".join(parts) + "]"


SCENARIO_CASES = {
    "alias bomb in name": (f"name: {laughs()}\n", "expands to more than"),
    "alias bomb in patch": (f"patch: {{description: {laughs()}}}\n", "expands to more than"),
    "duplicate key": (
        "horizon_days: 3\nhorizon_days: 5\n",
        "horizon_days: duplicate key (first given on line 2)",
    ),
    "infinite horizon": ("horizon_days: .inf\n", "horizon_days: must be a finite number"),
    "nan rate": (
        "patch: {categories.stock_shortage.rate_per_hour: .nan}\n",
        "patch.categories.stock_shortage.rate_per_hour: must be a finite number",
    ),
    "huge horizon": ("horizon_days: 1e9\n", "horizon_days: must be <= 3660"),
    "huge rate": (
        "patch: {categories.stock_shortage.rate_per_hour: 1e9}\n",
        "categories.stock_shortage.rate_per_hour: must be <= 1000",
    ),
    "huge backlog": (
        "patch: {categories.stock_shortage.open_at_start: 1000000000000}\n",
        "categories.stock_shortage.open_at_start: must be <= 100000",
    ),
    "deep nesting": ("name: " + "[" * 20_000 + "]" * 20_000 + "\n", "nested deeper than"),
    "huge integer": ("horizon_days: " + "9" * 5000 + "\n", "line 2: 999999999999...: a number"),
}

POLICY_CASES = {
    "scan every nanosecond": (
        "patch: {detection.picking_sla.scan.interval_min: 1e-9}\n",
        "detection.picking_sla.scan.interval_min: must be >= 1",
    ),
    "a billion agents": (
        'patch: {"staffing.teams.planning.shifts[0].agents": 1000000000}\n',
        "staffing.teams.planning.shifts[0].agents: must be <= 10000",
    ),
    "agents: true": (
        'patch: {"staffing.teams.planning.shifts[0].agents": true}\n',
        "staffing.teams.planning.shifts[0]: agents: must be a number, not true",
    ),
    "no shifts": (
        "patch: {staffing.teams.planning.shifts: []}\n",
        "staffing.teams.planning.shifts: must not be empty",
    ),
    "24:00 to 24:00": (
        'patch: {"staffing.teams.planning.shifts[0].start": "24:00",'
        ' "staffing.teams.planning.shifts[0].end": "24:00"}\n',
        "start: 24:00 ends a day",
    ),
    "negative delay": (
        "patch: {detection.picking_sla: {time_rule: {delay: -5}}}\n",
        "detection.picking_sla.time_rule.delay: must be >= 0",
    ),
    "a billion loops": (
        "patch: {escalation.ladders.high: [{after_min: 30, repeat_every_min: 5, loops: 1.0e+9}]}\n",
        "escalation.ladders.high[0].loops: must be <= 100",
    ),
    "typo in routing": (
        "patch: {routing.by_category.carier_failure: logistics}\n",
        "routing.by_category: 'carier_failure' is not a category of scenario 'default'",
    ),
    "typo in detection": (
        "patch: {detection.stock_shortgae: {scan: {interval_min: 60}}}\n",
        "detection: 'stock_shortgae' is not a category",
    ),
    "typo in sla": (
        "patch: {sla.by_category.credit_hld: 60}\n",
        "sla.by_category: 'credit_hld' is not a category",
    ),
    "typo in severity": (
        'patch: {"severity.rules[0].when.category": [pod_dispte]}\n',
        "severity.rules[0].when.category: 'pod_dispte' is not a category",
    ),
}


def assert_refused(tmp_path: Path, args: list[str], expected: str, name: str) -> None:
    before = snapshot(tmp_path)
    out = [] if args[0] == "sweep" else ["--out", str(tmp_path / "out")]
    result = runner.invoke(app, [*args, *out])
    assert result.exit_code == 2, result.output
    line = one_line_error(result)
    assert name in line and expected in line, line
    assert len(line) < 400
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("case", sorted(SCENARIO_CASES))
def test_bad_scenario_is_refused_in_one_line(tmp_path, case):
    body, expected = SCENARIO_CASES[case]
    path = tmp_path / "bad-scenario.yaml"
    path.write_text("extends: default\n" + body)
    assert_refused(tmp_path, ["run", str(path)], expected, path.name)


@pytest.mark.parametrize("case", sorted(POLICY_CASES))
def test_bad_policy_is_refused_in_one_line(tmp_path, case):
    body, expected = POLICY_CASES[case]
    path = tmp_path / "bad-policy.yaml"
    path.write_text("extends: default\n" + body)
    assert_refused(tmp_path, ["run", "--policy", str(path), "--days", "0.5"], expected, path.name)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--days", "inf"], "--days: must be a finite number"),
        (["run", "--days", "nan"], "--days: must be a finite number"),
        (["compare", "--days", "inf"], "--days: must be a finite number"),
        (["run", "--days", "1e9"], "horizon_days: must be <= 3660"),
        (["run", "--seed", "-1", "--days", "0.5"], "--seed: must be >= 0"),
        (["compare", "--seed", "-1", "--days", "0.5"], "--seed: must be >= 0"),
        (["run", "--days", "1", "--warmup-days", "1"], "--warmup-days: must be less than"),
        (
            ["sweep", "--days", "0.5", "--param", "scenario.horizon_days=1e9"],
            "horizon_days: must be <= 3660",
        ),
    ],
)
def test_bad_command_line_numbers_are_refused(tmp_path, args, expected):
    assert_refused(tmp_path, args, expected, expected.split(":")[0])


def test_binary_files_are_refused_in_one_line(tmp_path):
    blob = bytes(range(256)) * 8
    scen = tmp_path / "scenario.yaml"
    scen.write_bytes(blob)
    assert_refused(tmp_path, ["run", str(scen)], "not UTF-8 text", scen.name)
    mapping = tmp_path / "m.yaml"
    mapping.write_bytes(blob)
    log = Path(__file__).parent / "data" / "odoo_exceptions.csv"
    assert_refused(tmp_path, ["replay", str(log), "--mapping", str(mapping)], "UTF-8", "m.yaml")


def test_duplicate_keys_in_a_mapping_file_are_refused(tmp_path):
    from replay import ReplayInputError, load_mapping

    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  case_id: a\n  case_id: b\n")
    with pytest.raises(ReplayInputError, match=r"^m.yaml: line 3: case_id: duplicate key"):
        load_mapping(mapping)


# -- stopping: SIGTERM and Ctrl-C end the whole run, workers included, leaving nothing --------
@pytest.mark.parametrize(
    ("verb", "sig", "code"),
    [
        ("run", "SIGINT", 130),
        ("compare", "SIGTERM", 143),
        # the other two pairs (a whole run of exsim and its pool each) in CI's slow step
        pytest.param("run", "SIGTERM", 143, marks=pytest.mark.slow),
        pytest.param("compare", "SIGINT", 130, marks=pytest.mark.slow),
    ],
)
def test_a_signal_stops_a_parallel_run_with_its_workers(tmp_path, sig, code, verb):
    import signal
    import time

    import psutil

    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim",
            verb,
            "--days",
            "200",
            "--reps",
            "6",
            "--workers",
            "2",
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell gives a job
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
        # a terminal's foreground job: Ctrl-C live even when this suite itself was started in
        # the background (where the shell ignores SIGINT, and the ignore is inherited)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    workers: list = []
    while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        workers = parent.children(recursive=True)
    assert len(workers) >= 2, "the run did not start its workers"
    time.sleep(1.0)
    if sig == "SIGINT":
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    else:
        proc.send_signal(signal.SIGTERM)  # e.g. a job scheduler stopping the command
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    gone, alive = psutil.wait_procs(workers, timeout=5)
    assert not alive, f"orphaned workers: {alive}"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# -- a full disk: one line, exit 2, nothing half-written --------------------------------------
def disk_full(*args, **kwargs):
    import errno

    raise OSError(errno.ENOSPC, "No space left on device", "/data/out")


@pytest.mark.parametrize(
    "verb",
    [
        ["run", "--days", "0.5"],
        ["compare", "--days", "0.5", "--reps", "2", "--workers", "1"],
    ],
)
def test_a_full_disk_while_writing_a_run_is_one_line(tmp_path, monkeypatch, verb):
    monkeypatch.setattr("sim.outdir.write_manifest", disk_full)
    before = snapshot(tmp_path)
    result = runner.invoke(app, [*verb, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "/data/out: no space left on device" in one_line_error(result)
    assert snapshot(tmp_path) == before


def test_a_full_disk_in_report_and_export_is_one_line(tmp_path, monkeypatch):
    import sim.exports

    run = tmp_path / "run"
    assert runner.invoke(app, ["run", "--days", "0.5", "--out", str(run)]).exit_code == 0
    monkeypatch.setitem(sim.exports.FORMATS, "csv", disk_full)
    monkeypatch.setattr("sim.reports.html.write_report", disk_full)
    before = snapshot(tmp_path)
    for args in (["export", str(run), "-o", "x.csv"], ["report", str(run), "-o", "r.html"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "no space left on device" in one_line_error(result)
    assert snapshot(tmp_path) == before


# -- a server that is not Odoo, and a password inside the URL ---------------------------------
@pytest.fixture
def not_odoo():
    """A loopback web server answering every request with an HTML page."""
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _page(self):
            body = b"<html><body>a router's login page</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _page

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "args",
    [
        ["odoo", "check"],
        # a whole exsim process each: two of the four verbs in CI's slow step
        pytest.param(["odoo", "seed"], marks=pytest.mark.slow),
        pytest.param(["odoo", "observe", "--out", "obs"], marks=pytest.mark.slow),
        ["replay", "--odoo", "--since", "2024-01-01", "--until", "2024-01-02", "--out", "r"],
    ],
)
def test_a_server_that_is_not_odoo_is_one_line_and_the_url_password_never_shows(
    tmp_path, not_odoo, args
):
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).parents[1]),
        "EXSIM_ODOO_URL": f"http://alice:hunter2-secret@127.0.0.1:{not_odoo}",
        "EXSIM_ODOO_DB": "test",
        "EXSIM_ODOO_USER": "admin",
        "EXSIM_ODOO_PASSWORD": "pw-also-secret",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "secret" not in proc.stderr + proc.stdout
    assert list(tmp_path.iterdir()) == []
