"""CPU of one ``exsim report`` (and of each of its charts), this checkout against a baseline.

    python benchmarks/bench_report.py [--base REF] [--days 2] [--reps 3] [--rounds 3]

Two run directories are simulated once with this checkout (``default`` and ``severity-routed``
on the default scenario, ``--days`` days, ``--reps`` replications), then each version renders
the report of the two in child processes that alternate, ``--rounds`` times each, so both see
the same machine load; each figure is the best (lowest) CPU time over the rounds. A child
imports everything and renders once before measuring (imports and matplotlib's font cache are
not the report's cost), then measures:

- the report page (``render_report``: comparison, 9 charts drawn as PNG, HTML);
- the page with ``--charts`` (each chart also written as PNG and SVG);
- per chart, building the figure (data and artists) and drawing it as the page's PNG.

The baseline is the ``sim`` package of ``--base`` (a git revision, default the commit before
the charts were drawn with one layout pass), unpacked with ``git archive`` into a temporary
directory. Both also draw a bare figure (one line, title and axis labels, constrained layout,
saved as PNG by plain ``savefig``, the same code in both): a report's CPU in bare figures is
comparable across machines. On a shared machine CPU time still varies by tens of percent from
one child to the next (caches, hyperthreads); for a decision, count instructions instead
(``valgrind --tool=callgrind``, ``PYTHONHASHSEED=0``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: main before this benchmark's changes: each chart laid out by a hidden draw per format.
DEFAULT_BASE = "fd359cd"
POLICIES = ("default", "severity-routed")

_CHILD = r"""
import io, json, sys, tempfile, time
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.reports import html
from sim.reports.rundir import load_run_dir
from sim.reports.style import png_bytes

cpu = time.process_time
dirs, repeat = sys.argv[1:-1], int(sys.argv[-1])
runs = [load_run_dir(d) for d in dirs]


def bare() -> None:
    fig = Figure(figsize=(9.0, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(np.arange(48.0), np.sin(np.arange(48.0) / 6))
    ax.set_title("bare figure")
    ax.set_xlabel("hour")
    ax.set_ylabel("value")
    fig.savefig(io.BytesIO(), format="png", dpi=110)  # matplotlib's own way, in both versions


def best(fn) -> float:
    times = []
    for _ in range(repeat):
        t = cpu()
        fn()
        times.append(cpu() - t)
    return min(times)


html.render_report(runs)  # warm: imports, font cache, first-use costs
bare()
out = {"bare": best(bare), "report": best(lambda: html.render_report(runs))}
with tempfile.TemporaryDirectory() as tmp:
    out["report_charts"] = best(lambda: html.render_report(runs, charts_dir=tmp))
labels = [r.summary["policy"] for r in runs]
charts = {}
for name, _alt, build, _caption in html.chart_specs(runs, labels):
    built, drawn = [], []
    for _ in range(repeat):
        t = cpu()
        fig = build()
        t1 = cpu()
        png_bytes(fig)
        built.append(t1 - t)
        drawn.append(cpu() - t1)
    charts[name] = [min(built), min(drawn)]
out["charts"] = charts
print(json.dumps(out))
"""


def _env(path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(path)
    env["EXSIM_PURE"] = "1"  # rendering has no compiled module; keep the simulation code alike
    return env


def simulate(tmp: Path, days: float, reps: int) -> list[Path]:
    out = []
    for policy in POLICIES:
        run = tmp / "runs" / policy
        args = ["run", "default", "--policy", policy, "--days", str(days), "--seed", "5"]
        args += ["--reps", str(reps), "--workers", "1", "--out", str(run)]
        subprocess.run(
            [sys.executable, "-m", "sim", *args],
            env=_env(ROOT),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        out.append(run)
    return out


def baseline(tmp: Path, ref: str) -> Path:
    """The ``sim`` package as of ``ref``, unpacked under ``tmp/base``."""
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref, "sim"],
        check=True,
        capture_output=True,
    ).stdout
    dest = tmp / "base"
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def measure(code: Path, runs: list[Path], repeat: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *map(str, runs), str(repeat)],
        env=_env(code),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def merge(best: dict | None, new: dict) -> dict:
    """Element-wise minimum of two measurements."""
    if best is None:
        return new
    out = {k: min(best[k], new[k]) for k in ("bare", "report", "report_charts")}
    out["charts"] = {
        name: [min(a, b) for a, b in zip(best["charts"][name], new["charts"][name], strict=True)]
        for name in new["charts"]
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default=DEFAULT_BASE, help="git revision of the baseline")
    ap.add_argument("--days", type=float, default=2.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3, help="children per version, alternating")
    ap.add_argument("--repeat", type=int, default=2, help="renders per child (best is kept)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        runs = simulate(tmp, args.days, args.reps)
        versions = {f"base {args.base}": baseline(tmp, args.base), "now": ROOT}
        best: dict[str, dict | None] = dict.fromkeys(versions)
        for _ in range(args.rounds):
            for label, code in versions.items():
                best[label] = merge(best[label], measure(code, runs, args.repeat))
    base, now = (best[k] for k in versions)
    assert base is not None and now is not None
    print(f"report of {len(runs)} runs ({args.days:g} days, {args.reps} replications each); ")
    print("CPU seconds, best of", args.rounds * args.repeat, "per version\n")
    print(f"{'':22} {'base':>8} {'now':>8} {'base/now':>9}")

    def row(what: str, a: float, b: float) -> None:
        print(f"{what:22} {a:8.3f} {b:8.3f} {a / b:8.2f}x")

    for chart, (b_build, b_draw) in base["charts"].items():
        n_build, n_draw = now["charts"][chart]
        row(f"{chart} build", b_build, n_build)
        row(f"{chart} draw", b_draw, n_draw)
    total = [sum(sum(v) for v in x["charts"].values()) for x in (base, now)]
    row("all charts", *total)
    row("report page", base["report"], now["report"])
    row("report + --charts", base["report_charts"], now["report_charts"])
    row("bare figure", base["bare"], now["bare"])
    print(
        f"\nreport page now = {now['report'] / now['bare']:.1f} bare figures "
        f"(base {base['report'] / base['bare']:.1f})"
    )


if __name__ == "__main__":
    main()
