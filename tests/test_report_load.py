"""The "Load test" section of the report: a run directory whose summary has the ``load`` block
``exsim odoo load`` writes gets Locust's request stats, the per-step table, the latency-vs-load
chart and the sentence naming where the automations fell behind; any other run gets none
(checked on tests/test_reports.py's page of two plain runs, which is rendered anyway).

The block is built with the load verb's own functions (``sim.odoo.loadrun``) from a made-up
observed log and Locust profile, so no Odoo and no Locust are needed.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.odoo.loadrun import behind_at, steps
from sim.reports import charts
from sim.reports.html import load_section

cli = CliRunner()
ANCHOR = "2026-01-05T00:00:00"
S = 1 / 60  # one wall second in minutes (speed 1)


def _log(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["rep", "case_id", "ts", "event"])


def load_block() -> dict:
    """Three steps (2, 8, 16 users); detection gets late at 8 users."""
    t0 = pd.Timestamp(ANCHOR).timestamp()
    profile = pd.DataFrame(
        {"t": [t0, t0 + 10, t0 + 20], "users": [2, 8, 16], "rps": 5.0, "p95_ms": [40, 90, 310]}
    )
    log = _log(
        [
            (0, 1, 1 * S, "occurred"),
            (0, 1, 1.5 * S, "detected"),
            (0, 2, 2 * S, "occurred"),
            (0, 2, 2.5 * S, "detected"),
            (0, 3, 12 * S, "occurred"),
            (0, 3, 17 * S, "detected"),
            (0, 4, 13 * S, "occurred"),
            (0, 5, 14 * S, "occurred"),
            (0, 5, 14.5 * S, "detected"),
            (0, 6, 22 * S, "occurred"),
            (0, 6, 31 * S, "detected"),
        ]
    )
    rows = steps(log, profile, ANCHOR)
    requests = [
        {"type": "rpc", "name": "stock.picking.search_read", "count": 1234, "failures": 3,
         "p50_ms": 12.0, "p95_ms": 87.0, "p99_ms": 140.0, "rps": 20.5},
        {"type": "case", "name": "late_picking", "count": 6, "failures": 0,
         "p50_ms": 55.0, "p95_ms": 120.0, "p99_ms": math.nan, "rps": 0.1},
        {"type": "", "name": "Aggregated", "count": 1240, "failures": 3,
         "p50_ms": 12.0, "p95_ms": 88.0, "p99_ms": 150.0, "rps": 20.6},
    ]  # fmt: skip
    return {
        "users": 16,
        "spawn_rate": 2.0,
        "run_time_s": 30.0,
        "rate": 0.2,
        "workers": 2,
        "background": True,
        "planned_cases": [],
        "requests": requests,
        "profile": profile.to_dict("records"),
        "steps": rows,
        "behind_at_users": behind_at(rows),
    }


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "plain"
    args = ["run", "default", "--days", "1", "--reps", "1", "--workers", "1", "--out", str(out)]
    res = cli.invoke(app, args)
    assert res.exit_code == 0, res.output
    return out


def _with_load(plain: Path, dest: Path, load: dict) -> Path:
    shutil.copytree(plain, dest)
    summary = json.loads((dest / "summary.json").read_text(encoding="utf-8"))
    summary["load"] = load
    (dest / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return dest


def _report(run: Path, tmp_path: Path) -> tuple[str, Path]:
    page, chart_dir = tmp_path / "r.html", tmp_path / "charts"
    res = cli.invoke(app, ["report", str(run), "-o", str(page), "--charts", str(chart_dir)])
    assert res.exit_code == 0, res.output
    return page.read_text(encoding="utf-8"), chart_dir


def _table(text: str, cls: str) -> list[list[str]]:
    body = re.search(rf"<table class='{cls}'>(.*?)</table>", text, re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[dh]>(.*?)</t[dh]>", r, re.S)]
        for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_a_load_run_reports_requests_steps_chart_and_where_it_fell_behind(plain_run, tmp_path):
    load = load_block()
    assert load["behind_at_users"] == 8  # the made-up log does fall behind, at the 2nd step
    text, chart_dir = _report(_with_load(plain_run, tmp_path / "load", load), tmp_path)
    section = text[text.index("<h2>Load test</h2>") : text.index("<h2>Charts</h2>")]
    assert "The automations first fell behind at 8 users" in section
    assert "2 worker process(es)" in section
    requests = _table(section, "requests")
    assert requests[0][:4] == ["request", "type", "count", "failures"]
    assert requests[1:] == [
        ["late_picking", "case", "6", "0", "55", "120", "–"],  # NaN p99: not measured
        ["stock.picking.search_read", "rpc", "1,234", "3", "12", "87", "140"],
        ["Aggregated", "", "1,240", "3", "12", "88", "150"],
    ]
    step_rows = _table(section, "load_steps")[1:]
    assert [r[:3] for r in step_rows] == [["2", "2", "2"], ["8", "3", "2"], ["16", "1", "1"]]
    assert step_rows[1][3] == "33.3%" and step_rows[1][6] == "90"
    assert step_rows[0][5] == f"{load['steps'][0]['detect_p95_s']:.1f}"
    assert section.count("<img ") == 1 and "data:image/png;base64," in section
    assert (chart_dir / "run1_load.png").is_file() and (chart_dir / "run1_load.svg").is_file()


def test_the_chart_draws_each_steps_latencies_against_users():
    load = load_block()
    fig = charts.load_chart(load)
    rpc, det = fig.axes
    (line,) = [ln for ln in rpc.get_lines() if ln.get_label() == "RPC p95"]
    assert list(line.get_xdata()) == [2, 8, 16] and list(line.get_ydata()) == [40, 90, 310]
    (p95,) = [ln for ln in det.get_lines() if ln.get_label() == "detection p95"]
    assert list(p95.get_ydata()) == pytest.approx([s["detect_p95_s"] for s in load["steps"]])
    marks = [ln for ln in det.get_lines() if ln.get_label().startswith("fell behind")]
    assert len(marks) == 1 and list(marks[0].get_xdata()) == [8, 8]
    assert rpc.get_ylabel().endswith("(ms)") and "(s" in det.get_ylabel()


def test_a_load_run_that_kept_up_says_so():
    """The section a kept-up load run gets (the page includes it as the first test shows)."""
    load = load_block()
    load["steps"] = load["steps"][:1]  # one step: nothing to fall behind against
    load["behind_at_users"] = behind_at(load["steps"])
    assert load["behind_at_users"] is None
    text = load_section(load, chart_html="")
    assert "The automations did not fall behind at any step (up to 2 users)." in text
    assert "fell behind at" not in text
