"""The what-if page itself (NiceGUI): pickers, levers, the run button, tables and charts.

Everything the page computes comes from :mod:`sim.ui.session` (runs, KPIs, verdict, saved
files) and :mod:`sim.ui.levers` (which inputs exist and how edits are validated); this module
only lays them out. Each browser tab gets its own :class:`~sim.ui.session.Session`, so its
list of runs is its own.
"""

from __future__ import annotations

import html
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nicegui import run, ui

from sim import config
from sim.reports import comparison as report_cmp
from sim.reports.style import OFF_DUTY, PALETTE
from sim.scenarios.schema import Scenario
from sim.ui.levers import Lever, apply, carrier_outage, policy_levers, supplier_delay
from sim.ui.levers import Path as LeverPath
from sim.ui.session import DEFAULT_DAYS, START, Choice, Run, Session

_log = logging.getLogger(__name__)

_CSS = """
table.kpis { border-collapse: collapse; font-size: 0.9rem; }
table.kpis th, table.kpis td { padding: 3px 10px; border-bottom: 1px solid #e5e7eb; }
table.kpis td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.better { color: #15803d; font-weight: 600; } td.worse { color: #b91c1c; font-weight: 600; }
.error-line { color: #b91c1c; font-family: monospace; }
.verdict p { margin: 0.2rem 0; }
"""


@dataclass
class Options:
    """What ``exsim ui`` was started with."""

    scenarios: dict[str, Choice] = field(default_factory=dict)
    policies: dict[str, Choice] = field(default_factory=dict)
    save_dir: Path = Path("runs/ui")
    seed: int = 1
    reps: int = 2
    days: float = DEFAULT_DAYS
    workers: int | None = None


def _e(x: Any) -> str:
    return html.escape(str(x))


def kpi_table_html(
    rows: list[dict[str, str]], label: str | None, ref: str = START, css: str = "kpis"
) -> str:
    """The KPI rows as an HTML table: reference (the starting point), the run, paired
    difference, CI."""
    head = f"<tr><th>KPI</th><th>{_e(ref)}</th>"
    if label is not None:
        head += f"<th>{_e(label)}</th><th>difference</th><th>95% CI</th>"
    head += "</tr>"
    body = []
    for r in rows:
        cells = f"<td>{_e(r['kpi'])}</td><td class='num start'>{_e(r['start'])}</td>"
        if label is not None:
            cells += (
                f"<td class='num run'>{_e(r['run'])}</td>"
                f"<td class='num diff {r['verdict']}'>{_e(r['diff'])}</td>"
                f"<td class='num ci'>{_e(r['ci'])}</td>"
            )
        body.append(f"<tr data-kpi='{_e(r['path'])}'>{cells}</tr>")
    return f"<table class='{css}'>{head}{''.join(body)}</table>"


def start_rows(session: Session) -> list[dict[str, str]]:
    """Headline KPIs of the starting point alone (the page's opening table)."""
    cmp = report_cmp.compare_runs([session.start()])
    return [
        {
            "kpi": k.label,
            "path": k.path,
            "start": report_cmp.fmt(cmp.cells[k.path][0].mean, k.unit),
        }
        for k in report_cmp.KPIS
    ]


def backlog_options(run: Run | None, session: Session) -> dict:
    """An ECharts line chart of open cases over time (hover: exact values; zoom: slider)."""
    if run is not None:
        frame = run.backlog()
    else:
        from sim.metrics import backlog_series

        s = backlog_series(session.start().log, step_min=60.0)
        frame = s.groupby("ts")["open"].mean().rename(session.policy.name).reset_index()
    days = (frame["ts"] / 1440.0).round(4).tolist()
    series = [
        {
            "name": str(col),
            "type": "line",
            "showSymbol": False,
            "color": PALETTE[i % len(PALETTE)],
            "data": [[d, float(v)] for d, v in zip(days, frame[col], strict=True)],
        }
        for i, col in enumerate(c for c in frame.columns if c != "ts")
    ]
    shade = off_duty_spans(session.start().meta)
    if series and shade:
        series[0]["markArea"] = {
            "silent": True,
            "itemStyle": {"color": OFF_DUTY, "opacity": 0.35},
            "data": [[{"xAxis": a}, {"xAxis": b}] for a, b in shade],
        }
    return {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "xAxis": {"type": "value", "name": "day", "min": 0},
        "yAxis": {"type": "value", "name": "open cases"},
        "dataZoom": [{"type": "inside"}, {"type": "slider"}],
        "series": series,
    }


def resolve_cdf_options(run: Run | None, session: Session, points: int = 200) -> dict:
    """An ECharts step chart of the time-to-resolve distribution (share of resolved cases
    resolved within x hours), one line per run shown; at most ``points`` quantiles each."""
    import numpy as np

    from sim.metrics.cases import case_table
    from sim.metrics.latency import LATENCIES, gap

    dirs = run.runs if run is not None else [session.start()]
    names = [START if d is session.start() else d.policy_name for d in dirs]
    if run is not None and len(set(names)) < len(names):
        names = [f"{n} ({i + 1})" for i, n in enumerate(names)]
    series = []
    for i, (name, d) in enumerate(zip(names, dirs, strict=True)):
        x = gap(case_table(d.log), *LATENCIES["time_to_resolve_min"]) / 60.0
        x = np.sort(x[np.isfinite(x)])
        if x.size == 0:
            continue
        q = np.linspace(0, 1, min(points, x.size) + 1)[1:]
        hours = np.quantile(x, q, method="inverted_cdf")
        series.append(
            {
                "name": name,
                "type": "line",
                "step": "end",
                "showSymbol": False,
                "color": PALETTE[i % len(PALETTE)],
                "data": [
                    [round(h, 3), round(p, 4)]
                    for h, p in zip(hours.tolist(), q.tolist(), strict=True)
                ],
            }
        )
    return {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "xAxis": {"type": "value", "name": "hours to resolve", "min": 0},
        "yAxis": {"type": "value", "name": "share resolved", "min": 0, "max": 1},
        "dataZoom": [{"type": "inside"}, {"type": "slider"}],
        "series": series,
    }


def off_duty_spans(meta) -> list[tuple[float, float]]:
    """[start, end) in days when nobody of the starting point's staff is on duty, shaded on
    the backlog chart as in the report."""
    import numpy as np

    from sim.metrics.staffing import has_staffing
    from sim.reports.charts.timeline import agents_on_duty

    if not has_staffing(meta):
        return []
    grid, on = agents_on_duty(meta)
    edges = np.diff(np.r_[0, (on == 0).astype(np.int8), 0])
    out = []
    for i, j in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        end = min(grid[j] if j < grid.size else grid[-1], meta.horizon_min)
        out.append((round(float(grid[i]) / 1440.0, 4), round(float(end) / 1440.0, 4)))
    return out


def _describe(session: Session) -> str:
    """What the scenario and the policy are: descriptions, categories, teams and shifts."""
    scen, pol = session.scenario, session.policy
    cats = ", ".join(
        f"{_e(n)}" + (f" ({c.rate_per_hour:g}/h)" if c.rate_per_hour is not None else "")
        for n, c in scen.categories.items()
    )
    teams = []
    for name, team in pol.staffing.teams.items():
        shifts = "; ".join(
            f"{_e(s.name)} {','.join(s.days)} {s.start}-{s.end} x{s.agents}"
            for s in team.shift_list()
        )
        teams.append(f"<li><b>{_e(name)}</b>: {shifts}</li>")
    return (
        f"<p><b>scenario {_e(scen.name)}</b>: {_e(scen.description)} "
        f"({scen.mode}, {scen.horizon_days:g} days, seed {session.seed}, "
        f"{session.reps} replications)</p>"
        f"<p><b>categories</b>: {cats}</p>"
        f"<p><b>policy {_e(pol.name)}</b>: {_e(pol.description)}; "
        f"queue {pol.queue.discipline}</p><ul>{''.join(teams)}</ul>"
    )


def _value(lever: Lever, raw: Any) -> Any:
    """An input's value as the model expects it (an integral float for an int field)."""
    if lever.kind == "int" and isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        return int(raw)
    return raw


def _bounds_text(lever: Lever) -> str:
    """' (1 to 10000)', ' (at least 0)' or '': what the model accepts, for the tooltip."""
    if lever.lo is not None and lever.hi is not None:
        return f" ({lever.lo:g} to {lever.hi:g})"
    if lever.lo is not None:
        return f" (at least {lever.lo:g})"
    if lever.hi is not None:
        return f" (at most {lever.hi:g})"
    return ""


def _free(path: Path) -> Path:
    """``path``, or ``path`` with -2, -3... before the suffix if taken: never overwrite."""
    k, out = 1, path
    while out.exists():
        k += 1
        out = path.with_name(f"{path.stem}-{k}{path.suffix}")
    return out


def _world(session: Session, v: dict[str, Any]) -> Scenario | None:
    """The session's scenario with the outage and supplier-delay levers moved (None: untouched)."""
    num = {k: (math.nan if x is None else float(x)) for k, x in v.items()}
    scen, name = session.scenario, session.scenario.name
    if num["outage_hours"] != 0:
        scen = carrier_outage(
            scen, num["outage_day"], num["outage_hours"], num["outage_factor"], name
        )
    if num["slip_days"] != 0:
        scen = supplier_delay(
            scen, num["slip_day"], num["slip_days"], num["slip_factor"], num["slip_late"], name
        )
    return None if scen is session.scenario else scen


#: Seconds the levers must be still before auto-run re-runs.
AUTO_RUN_WAIT_S = 0.8


def build(opts: Options) -> None:
    """Lay out the page for one browser tab."""
    ui.add_css(_CSS)
    scenarios, policies = opts.scenarios, opts.policies
    state: dict[str, Any] = {"session": None, "inputs": {}, "shown": None}

    ui.label("exsim what-if").classes("text-2xl font-bold")
    with ui.row().classes("items-end"):
        scen_pick = ui.select(list(scenarios), value="default", label="scenario").classes("w-64")
        pol_pick = ui.select(list(policies), value="default", label="policy").classes("w-64")
        demand = ui.number("demand multiplier", value=1.0, step=0.1).classes("w-40")
        demand.props("data-lever=demand")
        run_btn = ui.button("Run").props("id=run-button")
        auto = ui.switch("auto-run", value=False).props("id=auto-run")
        status = ui.label("").classes("status text-gray-600")
    with ui.row().classes("items-end"):  # scenario levers: 0 hours / 0 days is "off"
        world: dict[str, Any] = {}
        for key, label, value in (
            ("outage_day", "carrier outage: day", 1.5),
            ("outage_hours", "outage hours (0: none)", 0.0),
            ("outage_factor", "carrier failures x", 10.0),
            ("slip_day", "supplier delay: from day", 1.0),
            ("slip_days", "days (0: none)", 0.0),
            ("slip_factor", "late receipts x", 3.0),
            ("slip_late", "days late", 14.0),
        ):
            world[key] = ui.number(label, value=value, step=0.5).classes("w-36")
            world[key].props(f"data-lever={key}")
    error = ui.label("").classes("error-line")
    with ui.row().classes("w-full no-wrap items-start"):
        with ui.column().classes("w-1/3"):
            about = ui.html("", sanitize=False).classes("about")
            levers_box = ui.column().classes("w-full")
        with ui.column().classes("w-2/3"):
            verdict = ui.html("", sanitize=False).classes("verdict")
            ui.label("Key performance indicators").classes("text-lg font-bold")
            kpis = ui.html("", sanitize=False).classes("kpi-box")
            ui.label("Backlog over time").classes("text-lg font-bold")
            chart = ui.echart({"series": []}).classes("w-full h-72")
            ui.label("Time to resolve (cumulative)").classes("text-lg font-bold")
            cdf = ui.echart({"series": []}).classes("w-full h-72 ttr-cdf")
            ui.label("SLA by category and severity").classes("text-lg font-bold")
            sla = ui.html("", sanitize=False).classes("sla-box")
            ui.label("Runs in this session").classes("text-lg font-bold")
            runs_box = ui.column()
            with ui.row().classes("items-end"):
                pick_a = ui.select([], label="reference").classes("w-56 pick-a")
                pick_b = ui.select([], label="against").classes("w-56 pick-b")
                cmp_btn = ui.button("Compare").props("id=compare-button")
            with ui.row():
                save_pol = ui.button("Save policy YAML").props("id=save-policy")
                save_rep = ui.button("Save HTML report").props("id=save-report")
            saved = ui.label("").classes("saved-line")

    def show(r: Run | None) -> None:
        session: Session = state["session"]
        state["shown"] = r
        if r is None:
            kpis.set_content(kpi_table_html(start_rows(session), None))
            verdict.set_content("<p>Starting point; move a lever and press Run.</p>")
            sla.set_content("")
        else:
            ref = START if r.runs[0] is session.start() else r.runs[0].policy_name
            kpis.set_content(kpi_table_html(r.kpi_rows(), r.label, ref))
            verdict.set_content("".join(f"<p>{_e(line)}</p>" for line in r.verdict()))
            sla.set_content(kpi_table_html(r.sla_rows(), r.label, ref))
        chart.options.clear()
        chart.options.update(backlog_options(r, session))
        chart.update()
        cdf.options.clear()
        cdf.options.update(resolve_cdf_options(r, session))
        cdf.update()

    def list_runs() -> None:
        runs_box.clear()
        session: Session = state["session"]
        names = {0: START} | {r.number: r.label for r in session.runs}
        pick_a.set_options(names, value=0)
        pick_b.set_options(names, value=len(session.runs))
        with runs_box:
            for r in session.runs:
                head = r.comparison.cells[report_cmp.HEADLINE.path][1]
                text = (
                    f"{r.label}: demand x{r.demand:g}, {len(r.edits)} edit(s), SLA "
                    f"{report_cmp.fmt(head.mean, '%')} ({report_cmp.fmt(head.diff, '%', True)}), "
                    f"{r.wall_s:.1f} s"
                )
                ui.button(text, on_click=lambda r=r: show(r)).props("flat no-caps").classes(
                    "run-entry"
                )

    def draw_levers() -> None:
        session: Session = state["session"]
        levers_box.clear()
        state["inputs"] = {}
        group = None
        with levers_box:
            for lever in policy_levers(session.policy):
                if lever.group != group:
                    group = lever.group
                    ui.label(group).classes("text-md font-bold mt-2")
                if lever.kind == "choice":
                    w = ui.select(list(lever.choices), value=lever.value, label=lever.label)
                else:
                    # no min/max on the input: it would clamp silently; the model refuses
                    w = ui.number(lever.label, value=lever.value)
                tip = lever.key + _bounds_text(lever)
                w.props(f'data-lever="{lever.key}" dense').classes("w-full").tooltip(tip)
                state["inputs"][lever.path] = (lever, w)
                w.on_value_change(lambda _: changed())

    async def restart() -> None:
        error.set_text("")
        status.set_text("simulating the starting point...")
        try:
            session = Session(
                scenarios[scen_pick.value].model,
                policies[pol_pick.value].model,
                seed=opts.seed,
                reps=opts.reps,
                days=opts.days,
                workers=opts.workers,
            )
            config.check_fits(session.scenario, session.policy, session.policy.name)
            await run.io_bound(session.start)
        except config.ConfigError as exc:
            error.set_text(str(exc))
            status.set_text("")
            return
        except Exception as exc:  # shown as one line; the server log has the traceback
            _log.exception("starting point failed")
            error.set_text(f"starting point failed: {type(exc).__name__}: {exc}")
            status.set_text("")
            return
        state["session"] = session
        about.set_content(_describe(session))
        draw_levers()
        show(None)
        list_runs()
        status.set_text("ready")

    async def on_run() -> None:
        session: Session = state["session"]
        if session is None:
            return
        error.set_text("")
        values: dict[LeverPath, Any] = {}
        for path, (lever, w) in state["inputs"].items():
            v = _value(lever, w.value)
            if v != lever.value:
                values[path] = v
        try:
            policy = apply(session.policy, values, f"{session.policy.name} (edited)")
        except config.ConfigError as exc:
            error.set_text(str(exc))
            return
        factor = demand.value if demand.value is not None else math.nan
        try:
            scen = _world(session, {k: w.value for k, w in world.items()})
        except config.ConfigError as exc:
            error.set_text(str(exc))
            return
        run_btn.disable()
        status.set_text("running...")
        try:
            r = await run.io_bound(
                session.run,
                policy,
                float(factor),
                {".".join(map(str, p)): v for p, v in values.items()},
                None,
                scen,
            )
        except config.ConfigError as exc:
            error.set_text(str(exc))
            status.set_text("")
            return
        except Exception as exc:  # shown as one line; the server log has the traceback
            _log.exception("run failed")
            error.set_text(f"run failed: {type(exc).__name__}: {exc}")
            status.set_text("")
            return
        finally:
            run_btn.enable()
        show(r)
        list_runs()
        status.set_text(f"run {r.number} done in {r.wall_s:.1f} s")

    def _shown() -> Run | None:
        r = state["shown"]
        if r is None:
            error.set_text("run a what-if first: the starting point is already on disk")
        return r

    def on_save(kind: str) -> None:
        r = _shown()
        if r is None:
            return
        session: Session = state["session"]
        stem = f"{session.scenario.name}--{session.policy.name}-run{r.number}"
        if kind == "policy":
            out = r.save_policy(_free(opts.save_dir / f"{stem}.policy.yaml"))
        else:
            out = r.save_report(_free(opts.save_dir / f"{stem}.report.html"))
        saved.set_text(f"saved {out}")
        ui.download.file(out)

    def on_compare() -> None:
        session: Session = state["session"]
        if session is None or pick_a.value is None or pick_b.value is None:
            return
        if pick_a.value == pick_b.value:
            error.set_text("compare: pick two different runs")
            return
        error.set_text("")
        show(session.pair(int(pick_a.value), int(pick_b.value)))

    debounce: dict[str, Any] = {"timer": None}

    def changed() -> None:
        """A lever moved: with auto-run on, run once the levers have been still for a moment
        (each move restarts the wait, so dragging a value runs once, at the end)."""
        if not auto.value:
            return
        if debounce["timer"] is not None:
            debounce["timer"].cancel()
        debounce["timer"] = ui.timer(AUTO_RUN_WAIT_S, auto_run, once=True)

    async def auto_run() -> None:
        debounce["timer"] = None
        if run_btn.enabled:
            await on_run()
        else:  # a run is going: try again once it is done
            changed()

    demand.on_value_change(lambda _: changed())
    for w in world.values():
        w.on_value_change(lambda _: changed())
    cmp_btn.on_click(on_compare)
    scen_pick.on_value_change(restart)
    pol_pick.on_value_change(restart)
    run_btn.on_click(on_run)
    save_pol.on_click(lambda: on_save("policy"))
    save_rep.on_click(lambda: on_save("report"))
    ui.timer(0.1, restart, once=True)


def serve(host: str, port: int, opts: Options) -> None:
    """Start the page's server (blocking) on ``host:port``."""

    def index() -> None:
        build(opts)

    ui.run(
        index,
        host=host,
        port=port,
        title="exsim what-if",
        reload=False,
        show=False,
        show_welcome_message=False,
        favicon="📈",
    )
