"""Charts and the HTML report, built from real (small) simulations and checked as a reader would.

Run directories come from the real CLI; the page is parsed and validated (structure, embedded
PNGs, no network references), its paired differences are recomputed independently, and it is
opened in headless Chromium when one is installed.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import re
import shutil
import subprocess
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from typer.testing import CliRunner

from sim import stats
from sim.cli import app
from sim.eventlog import read_log
from sim.metrics import backlog_series, get_path, summarize
from sim.metrics.kpis import RANGES, Kpi
from sim.reports import charts
from sim.reports.charts.timeline import agents_on_duty, open_by_age
from sim.reports.charts.workload import alerts_by_hour, funnel_counts
from sim.reports.comparison import KPIS, Cell, RunComparison, compare_runs, verdict
from sim.reports.rundir import load_run_dir
from sim.shifts import Calendar
from tests.profiles import examples

cli = CliRunner()
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(out: Path, policy: str, seed: int = 5, reps: int = 3, days: str = "2") -> Path:
    args = ["run", "default", "--policy", policy, "--days", days, "--seed", str(seed)]
    res = cli.invoke(app, [*args, "--reps", str(reps), "--workers", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    return {
        "default": _run(root / "default", "default"),
        "routed": _run(root / "routed", "severity-routed"),
        "other_seed": _run(root / "other_seed", "lean-desk", seed=6),
    }


@pytest.fixture(scope="module")
def report(runs, tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("report")
    page, chart_dir = out / "report.html", out / "charts"
    args = ["report", str(runs["default"]), "--compare", str(runs["routed"])]
    res = cli.invoke(app, [*args, "-o", str(page), "--charts", str(chart_dir)])
    assert res.exit_code == 0, res.output
    return page, chart_dir


# -- charts -------------------------------------------------------------------------------------
#: Axis labels naming categories (no unit to give).
CATEGORICAL = {"exception category", "severity", "team notified", "stage"}


def _labels_have_units(fig: Figure) -> None:
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert fig._suptitle is not None or any(ax.get_title() for ax in axes)
    for ax in axes:
        for label in (ax.get_xlabel(), ax.get_ylabel()):
            if label and label not in CATEGORICAL:
                assert re.search(r"\(.+\)", label), f"no unit in axis label {label!r}"
        assert ax.get_xlabel() or not ax.get_xticklabels(), "x axis without a label"


def _assert_date_axis(ax, meta) -> None:
    assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    lo, hi = (mdates.num2date(v).replace(tzinfo=None) for v in ax.get_xlim())
    start = meta.start_datetime().replace(tzinfo=None)
    assert lo == start and abs(hi - (start + timedelta(minutes=meta.horizon_min))) < timedelta(
        hours=1
    )


def test_every_chart_has_title_units_and_dates(runs) -> None:
    a, b = (load_run_dir(runs[k]) for k in ("default", "routed"))
    logs, sums = {"default": a.log, "routed": b.log}, {"default": a.summary, "routed": b.summary}
    timed = [charts.backlog_chart(a.log), charts.aging_chart(a.log)]
    others = [
        charts.sla_chart(sums),
        charts.latency_cdf_chart(logs),
        charts.alert_load_chart(b.log),
        charts.funnel_chart(logs),
    ]
    for fig in timed + others:
        assert isinstance(fig, Figure)
        _labels_have_units(fig)
    for fig in timed:
        _assert_date_axis(fig.axes[0], a.meta)


def test_backlog_shading_is_exactly_the_hours_nobody_is_on_duty(runs) -> None:
    run = load_run_dir(runs["default"])
    fig = charts.backlog_chart(run.log)  # shaded from the log's staffing record alone
    ax = fig.axes[0]
    # solid spans are "nobody on duty", hatched ones "under half of peak staff"
    spans = [p for p in ax.patches if not p.get_hatch()]
    shaded_min = sum(p.get_width() for p in spans) * 1440.0  # axvspan: a Rectangle, x in days
    start = run.meta.start_datetime().replace(tzinfo=None)
    on = []  # union of every shift's on-duty spans, from the calendars directly
    for team in run.policy.staffing.teams.values():
        for shift in team.shift_list():
            on += list(Calendar.from_shift(shift, start).spans(0.0, run.meta.horizon_min))
    on.sort()
    covered, end = 0.0, 0.0
    for a, b in on:
        covered += max(0.0, b - max(a, end))
        end = max(end, b)
    assert shaded_min == pytest.approx(run.meta.horizon_min - covered, abs=16.0)  # 15-min grid
    assert shaded_min > 0


def test_agents_on_duty_counts_the_shift_agents(runs) -> None:
    run = load_run_dir(runs["default"])
    grid, on = agents_on_duty(run.meta)  # from the staffing record the engine wrote
    monday_10 = np.searchsorted(grid, 10 * 60)  # the default scenario starts on a Monday 00:00
    teams = run.policy.staffing.teams
    expected = sum(
        s.agents for t in teams.values() for s in t.shift_list() if s.start_min <= 600 < s.end_min
    )
    assert on[monday_10] == expected and on[np.searchsorted(grid, 3 * 60)] == 0


def test_age_bands_add_up_to_the_backlog(runs) -> None:
    log = load_run_dir(runs["routed"]).log
    bands = open_by_age(log, step_min=120.0)
    total = backlog_series(log, step_min=120.0).groupby("ts")["open"].mean()
    np.testing.assert_allclose(bands.sum(axis=1).to_numpy(), total.to_numpy())


def test_alert_load_and_funnel_count_the_log(runs) -> None:
    log = load_run_dir(runs["routed"]).log
    meta, reps = log.attrs["meta"], log["rep"].nunique()
    alerts = log["event"].isin(["notified", "escalated"]).sum()
    assert alerts_by_hour(log).to_numpy().sum() * meta.horizon_min / 1440 * reps == pytest.approx(
        alerts
    )
    funnel = funnel_counts(log)
    per_event = log.groupby("event", observed=True).apply(
        lambda g: len(g.drop_duplicates(["rep", "case_id"])), include_groups=False
    )
    assert funnel["detected"] == per_event["detected"] / reps
    assert funnel["approval requested"] == per_event.get("approval_requested", 0) / reps
    esc = log[log["event"] == "escalated"]
    tiers = esc["detail"].astype(str).str.split(":").str[0]
    for tier, rows in esc.groupby(tiers):
        assert funnel[f"escalated: {tier}"] == len(rows.drop_duplicates(["rep", "case_id"])) / reps


points = st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=25).map(
    lambda xs: pd.DataFrame(xs, columns=["alerts", "sla"]).astype(float)
)


@given(points)
@settings(max_examples=examples(60), deadline=None)
def test_pareto_front_is_exactly_the_non_dominated_points(df: pd.DataFrame) -> None:
    front = charts.pareto_front(df, "alerts", "sla", x_better="lower", y_better="higher")

    def dominated(i: int) -> bool:
        x, y = df.loc[i, "alerts"], df.loc[i, "sla"]
        return bool(
            ((df["alerts"] <= x) & (df["sla"] >= y) & ((df["alerts"] < x) | (df["sla"] > y))).any()
        )

    assert set(front.index) == {i for i in df.index if not dominated(i)}
    assert len(front) >= 1
    fig = charts.pareto_chart(
        df, "alerts", "sla", xlabel="alerts per agent-hour (1/h)", ylabel="SLA attainment (%)"
    )
    _labels_have_units(fig)
    drawn = fig.axes[0].lines[-1]  # the front line goes through the front, in x order
    np.testing.assert_array_equal(drawn.get_xdata(), front["alerts"].to_numpy())


# -- what the charts must not hide -----------------------------------------------------------
def _renderer(fig: Figure):
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def test_shading_tells_nobody_on_duty_from_thin_staff(runs) -> None:
    run = load_run_dir(runs["default"])
    ax = charts.backlog_chart(run.log).axes[0]
    legend = ax.get_legend()
    look = {t.get_text(): h for h, t in zip(legend.legend_handles, legend.get_texts(), strict=True)}
    nobody, thin = look["nobody on duty"], look["under half of peak staff"]
    assert not nobody.get_hatch() and nobody.get_fill() and thin.get_hatch()
    assert any(p.get_hatch() for p in ax.patches) and any(not p.get_hatch() for p in ax.patches)
    # as drawn: the legend's two swatches, in greyscale, are an even tint and a striped one
    fig = ax.figure
    renderer = _renderer(fig)
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].mean(axis=-1)
    height = pixels.shape[0]

    def swatch(handle) -> np.ndarray:
        box = handle.get_window_extent(renderer)
        x0, x1, y0, y1 = (round(v) for v in (box.x0, box.x1, box.y0, box.y1))
        return pixels[height - y1 + 2 : height - y0 - 2, x0 + 2 : x1 - 2]

    solid, striped = swatch(nobody), swatch(thin)
    assert solid.size and striped.size
    assert solid.std() < 3 and solid.mean() < 245, (solid.mean(), solid.std())  # even grey
    assert striped.std() > 20, striped.std()  # lines on white: tells apart without colour


def test_a_log_without_a_staffing_record_draws_no_staffing(runs) -> None:
    run = load_run_dir(runs["default"])
    log = run.log.copy()
    meta = copy.deepcopy(run.meta)
    meta.extra.pop("on_duty")
    log.attrs = {**run.log.attrs, "meta": meta}
    assert not charts.backlog_chart(log).axes[0].patches  # nothing shaded: unknown, not "nobody"
    assert len([a for a in charts.alert_load_chart(log).axes if a.get_label() != "<colorbar>"]) == 1


def test_sla_whiskers_stay_within_100_percent_and_the_legend_covers_no_bar() -> None:
    def summary(shift: float) -> dict:
        return {
            "sla": {
                "by_category": {"a": 0.98 - shift, "b": 0.5},
                "by_severity": {"low": 0.99, "high": 0.6 - shift},
            },
            "ci95": {
                "sla": {
                    "by_category": {"a": [0.9, 1.06], "b": [-0.1, 1.1]},
                    "by_severity": {"low": [0.95, 1.03], "high": [0.4, 0.8]},
                }
            },
        }

    fig = charts.sla_chart({f"policy {i}": summary(0.05 * i) for i in range(3)})
    renderer = _renderer(fig)
    whiskers = [seg for ax in fig.axes for c in ax.collections for seg in c.get_segments()]
    assert whiskers
    for seg in whiskers:
        assert seg[:, 0].min() >= 0.0 and seg[:, 0].max() <= 1.0
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    bars = [p for ax in fig.axes for p in ax.patches]
    assert len(bars) == 3 * 4
    assert not any(box.overlaps(b.get_window_extent(renderer)) for b in bars)


@pytest.mark.parametrize("teams", ["all", "one"])
def test_alert_heatmap_panels_are_titled_apart_and_explain_blank_rows(runs, teams) -> None:
    run = load_run_dir(runs["routed"])
    log = run.log
    if teams == "one":  # few rows make short panels, where the colour-bar labels collided
        first = log.loc[log["event"] == "notified", "team"].iloc[0]
        log = log[(log["team"] == first) | (log["event"] != "notified")]
        log.attrs = run.log.attrs
    fig = charts.alert_load_chart(log)
    renderer = _renderer(fig)
    heat = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(heat) == 2 and all(ax.get_title(loc="left") for ax in heat)
    a, b = (bar.yaxis.label.get_window_extent(renderer) for bar in bars)
    assert not a.overlaps(b)
    rows = [t.get_text() for t in heat[1].get_yticklabels()]
    staffed = set(run.policy.staffing.teams)
    assert staffed <= set(rows)  # staffed teams are rows even when nobody alerted them
    notes = {round(t.get_position()[1]): t.get_text() for t in heat[1].texts}
    assert notes == {i: notes.get(i) for i, r in enumerate(rows) if r not in staffed}
    assert notes and all("no shift" in n for n in notes.values())


def test_funnel_leaves_out_approval_stages_no_run_reached(runs) -> None:
    log = load_run_dir(runs["routed"]).log
    stages = ["approval requested", "approved", "rejected"]
    fig = charts.funnel_chart({"routed": log})
    drawn = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    counts = funnel_counts(log)
    assert [s for s in stages if s in drawn] == [s for s in stages if counts.get(s, 0) > 0]
    without = log[~log["event"].isin(["approval_requested", "approved", "rejected"])]
    without.attrs = log.attrs
    fig = charts.funnel_chart({"a": without, "b": without})
    drawn = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert not set(stages) & set(drawn) and "no approvals" in fig.axes[0].get_title()


def test_pareto_share_axis_and_whiskers_stop_at_100_percent() -> None:
    df = pd.DataFrame(
        {
            "alerts_per_agent_hour": [1.0, 2.0, 3.0],
            "sla.overall": [0.95, 0.99, 1.0],
            "lo": [0.9, 0.97, 0.99],
            "hi": [1.0, 1.01, 1.02],
        }
    )
    fig = charts.pareto_chart(df, "alerts_per_agent_hour", "sla.overall", yerr=("lo", "hi"))
    ax = fig.axes[0]
    assert ax.get_ylim()[1] <= 1.0
    whiskers = [seg for c in ax.collections for seg in c.get_segments()]
    assert whiskers and max(seg[:, 1].max() for seg in whiskers) <= 1.0


# -- the comparison -----------------------------------------------------------------------------
def test_paired_differences_match_per_replication_summaries(runs) -> None:
    a, b = (load_run_dir(runs[k]) for k in ("default", "routed"))
    cmp = compare_runs([a, b])
    assert cmp.paired and not cmp.warnings

    def per_rep(run, path):
        out = []
        for _, g in run.log.groupby("rep"):
            g.attrs = run.log.attrs
            v = get_path(summarize(g), path)
            out.append(math.nan if v is None else v)
        return out

    for path in ("sla.overall", "backlog.mean", "escalations"):
        want = stats.paired_diff(per_rep(b, path), per_rep(a, path))
        got = cmp.cells[path][1]
        assert got.diff == pytest.approx(want.mean, nan_ok=True)
        assert got.diff_lo == pytest.approx(want.lo, nan_ok=True)
        assert got.significant == want.significant
        assert cmp.cells[path][0].mean == pytest.approx(get_path(a.summary, path))


def test_runs_on_other_seeds_are_flagged_and_compared_unpaired(runs) -> None:
    a, c = (load_run_dir(runs[k]) for k in ("default", "other_seed"))
    cmp = compare_runs([a, c])
    assert not cmp.paired and any("seed" in w for w in cmp.warnings)


@settings(max_examples=examples(200), deadline=None)
@given(
    unit=st.sampled_from(sorted(RANGES)),
    lo=st.floats(-1e6, 1e6),
    width=st.floats(0, 1e6),
)
def test_kpi_intervals_are_clipped_into_their_range(unit, lo, width) -> None:
    hi = lo + width
    low, high = RANGES[unit]
    a, b = Kpi("x", "x", unit).clip(lo, hi)
    assert a <= b
    assert low is None or (a >= low and b >= low)
    assert high is None or (a <= high and b <= high)
    inside = (low is None or lo >= low) and (high is None or hi <= high)
    assert not inside or (a, b) == (lo, hi)  # an interval within range is left alone
    if low is None or high is None:
        return  # a difference of an unbounded quantity is unbounded
    d_lo, d_hi = Kpi("x", "x", unit).clip_diff(lo, hi)
    assert low - high <= d_lo <= d_hi <= high - low


def test_comparison_intervals_stay_in_range(runs) -> None:
    cmp = compare_runs([load_run_dir(runs[k]) for k in ("default", "routed")])
    for path, row in cmp.cells.items():
        low, high = RANGES[next((k.unit for k in KPIS if k.path == path), "%")]
        for c in row:
            for v in (c.lo, c.hi):
                assert not math.isfinite(v) or (low is None or v >= low)
                assert not math.isfinite(v) or (high is None or v <= high)


def _cell(mean: float, diff: float = math.nan, significant: bool = False) -> Cell:
    p = 0.001 if significant else 0.5
    return Cell(mean, mean - 0.01, mean + 0.01, diff, diff - 0.01, diff + 0.01, p, significant, 5)


def _comparison(head: float, segments: dict, business: dict | None = None) -> RunComparison:
    cells = {k.path: [_cell(10.0), _cell(10.0, 0.0)] for k in KPIS}
    cells["sla.overall"] = [_cell(0.858), _cell(0.858 + head, head, True)]
    for path, (a, b, significant) in segments.items():
        cells[path] = [_cell(a), _cell(b, b - a, significant)]
    return RunComparison(["default", "lean-desk"], cells, True, business=business or {})


def test_verdict_names_what_a_headline_win_hides_and_the_biggest_business_change() -> None:
    cmp = _comparison(
        0.063,
        {
            "sla.by_category.picking_sla": (0.96, 0.393, True),
            "sla.by_category.credit_hold": (0.90, 0.80, False),  # not significant
            "sla.by_severity.high": (0.80, 0.79, True),  # significant but under 2 points
            "sla.by_severity.critical": (0.90, 0.70, True),
            "sla.by_category.stock_shortage": (0.80, 0.95, True),  # moved with the headline
        },
        {"operations.orders.late": [62.0, 99.0], "operations.costs.expedite": [4000.0, 4400.0]},
    )
    head, detail = verdict(cmp)
    assert head.startswith("lean-desk wins on SLA attainment: +6.3 pts")
    assert (
        "but picking_sla SLA falls from 96.0% to 39.3%; critical-severity SLA falls from " in head
    )
    assert "biggest business-outcome change: late orders 62 → 99 (+60%)" in head
    for quiet in ("credit_hold", "high-severity", "stock_shortage", "expedite"):
        assert quiet not in head + detail
    assert "Against the headline: picking_sla SLA falls from 96.0% to 39.3%" in detail


def test_verdict_of_a_headline_loss_names_the_segments_that_rose() -> None:
    cmp = _comparison(-0.05, {"sla.by_category.picking_sla": (0.5, 0.9, True)})
    head, detail = verdict(cmp)
    assert head.startswith("The reference default wins on SLA attainment")
    assert "Against the headline: picking_sla SLA rises from 50.0% to 90.0%" in detail
    assert "business-outcome" not in detail  # no operations outcomes in an injected run


@pytest.mark.slow
def test_verdict_names_the_picking_collapse_the_lean_desk_hides(tmp_path) -> None:
    """The case the verdict was built for, end to end: on the baseline world the lean desk wins
    on SLA attainment while picking_sla's SLA collapses (97.9% to 34.5% at seed 1)."""
    out = tmp_path / "cmp"
    args = ["compare", "baseline", "-p", "default", "-p", "lean-desk", "--days", "14"]
    res = cli.invoke(app, [*args, "--reps", "3", "--workers", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    cmp = compare_runs([load_run_dir(out / p) for p in ("default", "lean-desk")])
    head, detail = verdict(cmp)
    assert head.startswith("lean-desk wins on SLA attainment"), head
    assert re.search(r"but picking_sla SLA falls from 9\d\.\d% to [1-5]\d\.\d%", head), head
    assert "biggest business-outcome change: " in head


# -- the HTML page ------------------------------------------------------------------------------
class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, dict]] = []
        self.title = ""
        self._in_title = False
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))
        self._in_title = tag == "title"
        if tag not in ("img", "meta", "br", "link", "input"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def test_report_is_a_valid_self_contained_page(report) -> None:
    page, chart_dir = report
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    parser = _Page()
    parser.feed(text)
    parser.close()
    assert parser.open == []  # every element closed, properly nested
    assert parser.title == (
        "exsim report — scenario: default — policies: default (reference) vs severity-routed"
    )
    assert parser.tags.count("table") >= 4  # KPIs, differences, identity per run
    images = [a for t, a in parser.attrs if t == "img"]
    assert len(images) == 3 + 3 * 2
    for img in images:
        assert img["alt"]
        head, data = img["src"].split(",", 1)
        assert head == "data:image/png;base64"
        assert base64.b64decode(data, validate=True).startswith(PNG_MAGIC)
    refs = [v for _, a in parser.attrs for k, v in a.items() if k in ("src", "href", "action")]
    assert all(v.startswith("data:") for v in refs)
    assert not re.search(r"https?:|//[a-z]|@import|url\(", re.sub(r"data:[^\"']+", "", text))
    assert "<script" not in text
    # the verdict names the policies and a confidence interval; settings are included
    verdict = text[text.index("Which policy wins") :]
    assert "95% CI" in verdict[:2000] and "severity-routed vs default" in verdict[:2000]
    assert "policy.yaml" in text and "staffing" in text
    pngs = sorted(p.stem for p in chart_dir.glob("*.png"))
    assert pngs == sorted(p.stem for p in chart_dir.glob("*.svg")) and len(pngs) == 9
    assert all(p.read_bytes().startswith(PNG_MAGIC) for p in chart_dir.glob("*.png"))
    # the page shows exactly the charts written beside it (drawn once: the same pixels)
    embedded = {base64.b64decode(img["src"].split(",", 1)[1]) for img in images}
    assert embedded == {p.read_bytes() for p in chart_dir.glob("*.png")}


def test_runs_without_a_load_block_get_no_load_section(report) -> None:
    """Only a run made by ``exsim odoo load`` has a "Load test" section and chart (that section
    itself: tests/test_report_load.py)."""
    page, chart_dir = report
    text = page.read_text(encoding="utf-8")
    assert "Load test" not in text and "class='requests'" not in text
    assert not list(chart_dir.glob("*_load.*"))


def _tables(text: str) -> dict[str, list[list[str]]]:
    """Each table of the page by class: rows of cell texts (tags stripped)."""
    out = {}
    for cls, body in re.findall(r"<table class='(\w+)'>(.*?)</table>", text, re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
        out[cls] = [
            [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[dh]>(.*?)</t[dh]>", r, re.S)]
            for r in rows
        ]
    return out


def test_report_tables_keep_every_interval_in_range(report) -> None:
    page, _ = report
    tables = _tables(page.read_text(encoding="utf-8"))
    labels = [row[0] for row in tables["kpis"][1:]]
    assert "utilisation (neither way is better)" in labels and "( is better)" not in str(labels)
    seen = 0
    for row in tables["kpis"][1:]:
        for cell in row[1:]:
            for lo, hi in re.findall(r"\[(-?[\d,.]+)%?[^,\]]*, (-?[\d,.]+)%?[^\]]*\]", cell):
                lo, hi = (float(v.replace(",", "")) for v in (lo, hi))
                seen += 1
                assert 0 <= lo <= hi
                assert "%" not in cell or hi <= 100.0
    assert seen >= len(KPIS)


@pytest.fixture(scope="module")
def ops_report(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("ops") / "cmp"
    args = ["compare", "baseline", "-p", "default", "-p", "lean-desk", "--days", "2"]
    res = cli.invoke(app, [*args, "--reps", "2", "--workers", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    res = cli.invoke(app, ["report", str(out)])  # written next to the runs by default
    assert res.exit_code == 0, res.output
    assert f"wrote {out / 'report.html'}" in res.stdout.replace("\n", "")
    return (out / "report.html").read_text(encoding="utf-8")


def test_report_of_an_operations_run_shows_the_business_outcomes(ops_report) -> None:
    tables = _tables(ops_report)
    outcomes = {row[0].split(" (")[0]: row[1:] for row in tables["business"][1:]}
    assert {"late orders", "blocked shipment value, mean", "expedite cost"} <= set(outcomes)
    assert all(len(v) == 2 for v in outcomes.values())
    verdict_box = ops_report[ops_report.index("Which policy wins") :].split("</div>")[0]
    assert "lean-desk vs default" in verdict_box
    assert "Biggest business-outcome change: " in verdict_box


def test_report_of_a_compare_directory_reports_every_policy(ops_report) -> None:
    """``exsim report <compare directory>`` (the ops fixture's) reports each policy run in it."""
    assert _tables(ops_report)["kpis"][0][1:] == ["default", "lean-desk"]
    assert "lean-desk vs default" in ops_report


def _broken(tmp_path: Path, good: Path, how: str) -> Path:
    bad = tmp_path / f"bad-{how}"
    shutil.copytree(good, bad)
    if how == "missing-summary":
        (bad / "summary.json").unlink()
    elif how == "corrupt-log":
        (bad / "events.parquet").write_bytes(b"not parquet")
    elif how == "bad-json":
        (bad / "summary.json").write_text("{ nope")
    elif how == "bad-policy":
        doc = (bad / "policy.yaml").read_text().replace("agents: 2", "agents: -1", 1)
        (bad / "policy.yaml").write_text(doc)
    return bad


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("no-dir", "not a run directory"),
        ("missing-summary", "summary.json: missing"),
        ("corrupt-log", "events.parquet: not a readable Parquet event log"),
        ("bad-json", "summary.json: line 1: invalid JSON"),
        ("bad-policy", "agents: must be >= 1"),
    ],
)
def test_bad_run_dir_exits_2_with_one_line_and_writes_nothing(runs, tmp_path, how, message):
    bad = tmp_path / "nowhere" if how == "no-dir" else _broken(tmp_path, runs["default"], how)
    out = tmp_path / "r.html"
    res = cli.invoke(app, ["report", str(runs["default"]), "--compare", str(bad), "-o", str(out)])
    assert res.exit_code == 2
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


# -- exports from the CLI -----------------------------------------------------------------------
def test_export_cli_writes_each_format_and_rejects_unknown_ones(runs, tmp_path) -> None:
    log = read_log(runs["default"] / "events.parquet")
    res = cli.invoke(app, ["export", str(runs["default"]), "-o", str(tmp_path / "log.csv")])
    assert res.exit_code == 0, res.output
    assert len(pd.read_csv(tmp_path / "log.csv")) == len(log)
    out = tmp_path / "log.data"
    res = cli.invoke(app, ["export", str(runs["default"]), "-o", str(out), "--format", "ocel"])
    assert res.exit_code == 0 and len(json.loads(out.read_text())["events"]) == len(log)
    res = cli.invoke(app, ["export", str(runs["default"]), "-o", str(tmp_path / "x.pdf")])
    assert res.exit_code == 2 and "unknown export format" in res.stderr
    res = cli.invoke(app, ["export", str(tmp_path / "none.parquet"), "-o", str(tmp_path / "a.csv")])
    assert res.exit_code == 2 and "no such event log" in res.stderr
    assert not (tmp_path / "a.csv").exists() and not (tmp_path / "x.pdf").exists()


# -- in a real browser --------------------------------------------------------------------------
def _browser() -> str | None:
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


_PROBE = """<script>
window.addEventListener('error', e => document.title = 'JSERROR ' + e.message, true);
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  const out = document.createElement('div');
  out.id = 'probe';
  const wide = document.documentElement.scrollWidth > window.innerWidth ? 'yes' : 'no';
  const verdict = document.querySelector('.verdict');
  const fold = verdict && verdict.getBoundingClientRect().top < window.innerHeight ? 'yes' : 'no';
  out.textContent = 'images ' + ok + '/' + imgs.length + ' overflow ' + wide + ' verdict ' + fold;
  document.body.appendChild(out);
});
</script>"""


def test_report_renders_in_headless_chromium(report, tmp_path) -> None:
    browser = _browser()
    if browser is None:
        pytest.skip("no chromium / google-chrome installed")
    page, _ = report
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</head>", _PROBE + "</head>", 1))
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--window-size=1280,800",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert re.search(r'id="probe">images (\d+)/\1 ', dom), dom[-500:]
    assert "images 9/9" in dom and "<title>JSERROR" not in dom
    # at a laptop's width nothing scrolls sideways and the verdict is on the first screen
    assert "overflow no verdict yes" in dom, dom[-500:]
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console


def test_difference_table_does_not_call_a_significant_change_without_direction_insignificant():
    from sim.reports.html import difference_table

    cmp = _comparison(0.01, {})
    cmp.cells["labour.utilisation"] = [_cell(0.5), _cell(0.8, 0.3, True)]
    rows = {r[1]: r[-1] for r in _tables(difference_table(cmp))["differences"][1:]}
    assert rows["utilisation"] == "significant (neither way is better)"
    assert rows["SLA attainment"] == "better"


def test_screenshot_shows_the_verdict_on_the_first_screen(report, tmp_path) -> None:
    """What a client sees first, as pixels: the verdict's tinted box is on the first screen."""
    import matplotlib.image as mpimg

    browser = _browser()
    if browser is None:
        pytest.skip("no chromium / google-chrome installed")
    page, _ = report
    shot = tmp_path / "first-screen.png"
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1280,800",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    pixels = (mpimg.imread(shot)[..., :3] * 255).round()
    assert pixels.shape[:2] == (800, 1280)
    verdict_tint = (np.abs(pixels - np.array([0xEE, 0xF6, 0xFB])).max(axis=-1) <= 2).mean()
    assert verdict_tint > 0.02, verdict_tint  # the box covers a visible share of the screen


def test_pareto_labels_never_overlap_and_coincident_points_share_one() -> None:
    # A sweep where scan intervals 15/30/60 give the same point and others crowd together,
    # as the threshold-tuning sweeps do.
    df = pd.DataFrame(
        {
            "alerts_per_agent_hour": [1.00, 1.00, 1.00, 1.01, 1.02, 1.03, 2.0, 2.01],
            "sla.overall": [0.90, 0.90, 0.90, 0.901, 0.902, 0.899, 0.95, 0.951],
            "interval": ["15", "30", "60", "90", "120", "150", "5", "10"],
        }
    )
    fig = charts.pareto_chart(df, "alerts_per_agent_hour", "sla.overall", label="interval")
    renderer = _renderer(fig)
    notes = [t for t in fig.axes[0].texts if t.get_text()]
    texts = [t.get_text() for t in notes]
    assert "15 / 30 / 60" in texts  # one label for the three runs drawn at the same spot
    boxes = [t.get_window_extent(renderer) for t in notes]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    shown = {part for text in texts for part in text.split(" / ")}
    assert len(shown) >= 6  # crowding costs at most a couple of labels, not the chart
