"""The report: one self-contained HTML file a consultant can mail.

Everything is inside the file: charts are PNGs embedded as ``data:`` URIs, styles are inline,
there is no script and no link to anything on the network, so it opens the same in a mail
client, offline, or years later. It holds, in reading order: the verdict (which policy wins
on SLA attainment and by how much, with its 95% confidence interval), warnings, the KPI table
(mean and CI per run), the paired differences against the reference policy (the first run), the
charts, the load test of a run made by ``exsim odoo load`` (its summary's ``load`` block), and
each run's identity with the scenario and policy YAML it used.
"""

from __future__ import annotations

import base64
import html
import math
import os
from collections.abc import Callable
from pathlib import Path

from matplotlib.figure import Figure

from sim.exports.atomic import atomic_text
from sim.metrics.kpis import kpi as kpi_of
from sim.reports import charts
from sim.reports.comparison import KPIS, RunComparison, compare_runs, fmt, verdict
from sim.reports.rundir import RunDir
from sim.reports.style import draw, save

Progress = Callable[[float], None]

_CSS = """
body{font:14px/1.45 -apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1d2630;
max-width:1100px;margin:2em auto;padding:0 1.2em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #0072B2;padding-bottom:.2em;
margin-top:2em}h3{margin-top:1.5em}
table{border-collapse:collapse;margin:.8em 0;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #d8dee4;padding:.35em .7em;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#f0f4f8}
.verdict{background:#eef6fb;border-left:4px solid #0072B2;padding:.6em 1em}
.warning{background:#fff4e5;border-left:4px solid #E69F00;padding:.6em 1em}
.better{color:#00734d;font-weight:600}.worse{color:#b33c00;font-weight:600}
.muted{color:#66707a}figure{margin:1.2em 0}img{max-width:100%;height:auto}
figcaption{color:#66707a;font-size:.9em}pre{background:#f6f8fa;padding:.8em;overflow:auto;
font-size:12px}details{margin:.5em 0}summary{cursor:pointer;font-weight:600}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _img(png: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _ci(lo: float, hi: float, unit: str, signed: bool = False) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    return f"[{fmt(lo, unit, signed)}, {fmt(hi, unit, signed)}]"


def _direction(k) -> str:
    """'(higher is better)', or '(neither way is better)' for a KPI such as utilisation."""
    what = f"{k.better} is better" if k.better else "neither way is better"
    return f"<span class='muted'>({what})</span>"


def kpi_table(cmp: RunComparison) -> str:
    head = "".join(f"<th>{_e(label)}</th>" for label in cmp.labels)
    rows = []
    for kpi in KPIS:
        cells = "".join(
            f"<td>{_e(fmt(c.mean, kpi.unit))} <span class='muted'>{_e(_ci(c.lo, c.hi, kpi.unit))}"
            "</span></td>"
            for c in cmp.cells[kpi.path]
        )
        rows.append(f"<tr><td>{_e(kpi.label)} {_direction(kpi)}</td>{cells}</tr>")
    return (
        "<table class='kpis'><thead><tr><th>KPI (mean [95% CI])</th>"
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def business_table(cmp: RunComparison, runs: list[RunDir], outcomes=None) -> str:
    """Business outcomes of operations-mode runs (orders late, blocked value, expedite cost), or
    other ``outcomes`` (KPI path -> each run's mean): each run's mean and 95% CI as its summary
    gives them."""
    head = "".join(f"<th>{_e(label)}</th>" for label in cmp.labels)
    rows = []
    for path, means in (cmp.business if outcomes is None else outcomes).items():
        k = kpi_of(path)
        cells = []
        for run, mean in zip(runs, means, strict=True):
            lo, hi = _summary_ci(run.summary, path)
            lo, hi = k.clip(lo, hi)
            cells.append(
                f"<td>{_e(fmt(mean, k.unit))} <span class='muted'>{_e(_ci(lo, hi, k.unit))}"
                "</span></td>"
            )
        rows.append(f"<tr><td>{_e(k.label)} {_direction(k)}</td>{''.join(cells)}</tr>")
    return (
        "<table class='business'><thead><tr><th>outcome (mean [95% CI])</th>"
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _summary_ci(summary: dict, path: str) -> tuple[float, float]:
    node = summary.get("ci95")
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, list | tuple) and len(node) == 2 and None not in node:
        return float(node[0]), float(node[1])
    return math.nan, math.nan


def _judgement(cmp: RunComparison, kpi, i: int, cells: dict) -> str:
    """Better / worse / not significant, or significant on a KPI with no better direction."""
    c = cmp.cells[kpi.path][i]
    if not kpi.sign and c.significant and math.isfinite(c.diff):
        return "<span class='muted'>significant (neither way is better)</span>"
    return cells[cmp.better(kpi, i)]


def difference_table(cmp: RunComparison) -> str:
    base = cmp.labels[0]
    rows = []
    for i, label in enumerate(cmp.labels[1:], start=1):
        for kpi in KPIS:
            c = cmp.cells[kpi.path][i]
            verdict_cell = {
                True: "<span class='better'>better</span>",
                False: "<span class='worse'>worse</span>",
                None: "<span class='muted'>no significant difference</span>",
            }
            p = f"{c.p_value:.3g}" if math.isfinite(c.p_value) else "–"
            rows.append(
                f"<tr><td>{_e(label)}</td><td>{_e(kpi.label)}</td>"
                f"<td>{_e(fmt(c.diff, kpi.unit, True))}</td>"
                f"<td>{_e(_ci(c.diff_lo, c.diff_hi, kpi.unit, True))}</td><td>{p}</td>"
                f"<td>{_judgement(cmp, kpi, i, verdict_cell)}</td></tr>"
            )
    kind = "paired over replications" if cmp.paired else "unpaired (Welch)"
    return (
        f"<p>Differences <em>policy − {_e(base)}</em>, {kind}, 95% confidence intervals.</p>"
        "<table class='differences'><thead><tr><th>policy</th><th>KPI</th><th>difference</th>"
        "<th>95% CI</th><th>p</th><th>vs reference</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _identity(run: RunDir, label: str) -> str:
    s = run.summary
    facts = [
        ("run directory", run.path.name),
        ("scenario", s.get("scenario")),
        ("policy", s.get("policy")),
        ("days", s.get("days")),
        ("seed", s.get("seed")),
        ("replications", s.get("reps")),
        ("warm-up days", s.get("warmup_days", 0)),
        ("start (minute 0)", run.meta.start),
        ("events", f"{len(run.log):,}"),
    ]
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in facts)
    return (
        f"<h3>{_e(label)}</h3><table class='identity'><tbody>{rows}</tbody></table>"
        f"<details><summary>scenario.yaml</summary><pre>{_e(run.scenario_yaml)}</pre></details>"
        f"<details><summary>policy.yaml</summary><pre>{_e(run.policy_yaml)}</pre></details>"
    )


def _ms(value) -> str:
    """Milliseconds as Locust shows them (whole ms), '–' when not measured."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return f"{v:,.0f}" if math.isfinite(v) else "–"


def _s(value) -> str:
    return "–" if value is None else f"{float(value):,.1f}"


def request_table(load: dict) -> str:
    """Locust's request stats: per RPC (``model.method``, or a case recipe) count, failures and
    latency percentiles; the ``Aggregated`` row last."""
    rows = sorted(load.get("requests") or [], key=lambda r: (r["name"] == "Aggregated", r["name"]))
    body = "".join(
        f"<tr><td>{_e(r['name'])}</td><td>{_e(r.get('type', ''))}</td>"
        f"<td>{r['count']:,}</td><td>{r['failures']:,}</td><td>{_ms(r.get('p50_ms'))}</td>"
        f"<td>{_ms(r.get('p95_ms'))}</td><td>{_ms(r.get('p99_ms'))}</td></tr>"
        for r in rows
    )
    return (
        "<table class='requests'><thead><tr><th>request</th><th>type</th><th>count</th>"
        "<th>failures</th><th>p50 (ms)</th><th>p95 (ms)</th><th>p99 (ms)</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def steps_table(load: dict) -> str:
    """Per load step: cases, detected, missed share, detection latency, RPC p95."""
    body = "".join(
        f"<tr><td>{s['users']}</td><td>{s['cases']}</td><td>{s['detected']}</td>"
        f"<td>{_e(fmt(s['miss_share'], '%'))}</td><td>{_s(s.get('detect_p50_s'))}</td>"
        f"<td>{_s(s.get('detect_p95_s'))}</td><td>{_ms(s.get('rpc_p95_ms'))}</td></tr>"
        for s in load.get("steps") or []
    )
    return (
        "<table class='load_steps'><thead><tr><th>users</th><th>cases</th><th>detected</th>"
        "<th>missed</th><th>detection p50 (s)</th><th>detection p95 (s)</th>"
        f"<th>RPC p95 (ms)</th></tr></thead><tbody>{body}</tbody></table>"
    )


def behind_sentence(load: dict) -> str:
    """Where the automations fell behind (detection lateness, not throughput), in words."""
    steps = load.get("steps") or []
    behind = load.get("behind_at_users")
    if not steps:
        return "No case occurred during the load test, so no step can be judged."
    if behind is None:
        top = max(s["users"] for s in steps)
        return f"The automations did not fall behind at any step (up to {top} users)."
    s = next((s for s in steps if s["users"] == behind), None)
    detail = ""
    if s is not None:
        detail = (
            f": detection latency p95 {_s(s.get('detect_p95_s'))} s against "
            f"{_s(steps[0].get('detect_p95_s'))} s at {steps[0]['users']} users, "
            f"{fmt(s['miss_share'], '%')} of its cases missed"
        )
    return f"The automations first fell behind at {behind} users{detail}."


def load_section(load: dict, chart_html: str, label: str | None = None) -> str:
    """The "Load test" section of one run made by ``exsim odoo load``."""
    head = f"<h3>{_e(label)}</h3>" if label else ""
    profile = (
        f"{load.get('users')} users spawned at {load.get('spawn_rate')}/s for "
        f"{load.get('run_time_s')} s, {load.get('workers')} worker process(es), "
        f"target {load.get('rate')} cases/s"
    )
    return (
        f"{head}<p class='muted'>{_e(profile)}. Detection latency is in wall-clock seconds."
        f"</p><p class='verdict behind'>{_e(behind_sentence(load))}</p>"
        f"<h3>Requests</h3>{request_table(load)}<h3>Per load step</h3>{steps_table(load)}"
        f"{chart_html}"
    )


ChartSpec = tuple[str, str, Callable[[], Figure], str]


def chart_specs(runs: list[RunDir], labels: list[str]) -> list[ChartSpec]:
    """(file name, alt text, builder, caption) of every chart of the report, in page order."""
    logs = {label: r.log for label, r in zip(labels, runs, strict=True)}
    summaries = {label: r.summary for label, r in zip(labels, runs, strict=True)}
    specs: list[ChartSpec] = [
        (
            "sla",
            "SLA attainment by category and severity",
            lambda: charts.sla_chart(summaries),
            "Share of judged cases resolved by their deadline; whiskers are 95% CIs.",
        ),
        (
            "latency_cdf",
            "Detection latency and time to resolve, cumulative",
            lambda: charts.latency_cdf_chart(logs),
            "Curves further left are faster; they top out at the share ever detected/resolved.",
        ),
        (
            "funnel",
            "Escalation and approval funnel",
            lambda: charts.funnel_chart(logs),
            "Cases per replication reaching each stage (share of detected cases).",
        ),
    ]
    for i, (label, run) in enumerate(zip(labels, runs, strict=True)):
        slug = f"run{i + 1}"
        specs += [
            (
                f"{slug}_backlog",
                f"Backlog by category, {label}",
                lambda run=run, label=label: charts.backlog_chart(
                    run.log, title=f"Backlog by category — policy {label}"
                ),
                f"{label}: open cases over time; shaded where staffing is thin or absent.",
            ),
            (
                f"{slug}_aging",
                f"Ageing of open cases, {label}",
                lambda run=run, label=label: charts.aging_chart(
                    run.log, title=f"Ageing of open cases — policy {label}"
                ),
                f"{label}: open cases by time since they occurred.",
            ),
            (
                f"{slug}_alerts",
                f"Alert load per team and hour, {label}",
                lambda run=run, label=label: charts.alert_load_chart(
                    run.log, title=f"Alert load by team and hour — policy {label}"
                ),
                f"{label}: notifications and escalations per team and hour of day.",
            ),
        ]
    return specs


def _policies_text(labels: list[str]) -> str:
    """'policy: default' or 'policies: default (reference) vs lean-desk'."""
    if len(labels) == 1:
        return f"policy: {labels[0]}"
    return f"policies: {labels[0]} (reference) vs " + " vs ".join(labels[1:])


def render_report(
    runs: list[RunDir],
    charts_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
) -> str:
    """The report page for ``runs`` (the first is the reference) as an HTML string.

    With ``charts_dir``, each chart is also saved there as PNG and SVG.
    """
    cmp = compare_runs(runs)
    specs = chart_specs(runs, cmp.labels)
    loads = [
        (i, label, r.summary["load"])
        for i, (label, r) in enumerate(zip(cmp.labels, runs, strict=True))
        if isinstance(r.summary.get("load"), dict)
    ]
    total = len(specs) + len(loads) + 1
    if progress:
        progress(1 / total)
    figures = []
    for k, (name, alt, build, caption) in enumerate(specs, start=2):
        fig = build()
        drawn = draw(fig, svg=charts_dir is not None)  # once for the page and the directory
        if charts_dir is not None:
            save(fig, charts_dir, name, drawn)
        figures.append(_img(drawn.png, alt, caption))
        if progress:
            progress(k / total)
    load_parts = []
    for k, (i, label, load) in enumerate(loads, start=len(specs) + 2):
        fig = charts.load_chart(load, title=f"Latency against load — policy {label}")
        drawn = draw(fig, svg=charts_dir is not None)
        if charts_dir is not None:
            save(fig, charts_dir, f"run{i + 1}_load", drawn)
        alt = f"RPC p95 and detection latency against users, {label}"
        caption = "Per load step: Locust's RPC p95 (left), detection latency (right)."
        img = _img(drawn.png, alt, caption)
        load_parts.append(load_section(load, img, label if len(runs) > 1 else None))
        if progress:
            progress(k / total)

    scen = runs[0].summary.get("scenario", "")
    title = f"exsim report — scenario: {scen} — " + _policies_text(cmp.labels)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p class='muted'>{len(runs)} run(s); reference policy: {_e(cmp.labels[0])} (the "
        "others are compared with it). Every number is "
        "computed from the runs' event logs; intervals are 95% Student t intervals over "
        "replications.</p>",
    ]
    lines = verdict(cmp)
    if lines:
        parts.append("<h2>Which policy wins</h2><div class='verdict'>")
        parts += [f"<p>{_e(line)}</p>" for line in lines]
        parts.append("</div>")
    for warning in cmp.warnings:
        parts.append(f"<p class='warning'>Warning: {_e(warning)}</p>")
    parts += ["<h2>Key performance indicators</h2>", kpi_table(cmp)]
    if cmp.business:
        parts += ["<h2>Business outcomes</h2>", business_table(cmp, runs)]
    if cmp.dropped:
        parts += [
            "<h2>What detection dropped</h2>",
            "<p class='muted'>Counted by the mechanisms over the whole run: pushes a webhook "
            "lost, events dead-lettered, cases a time rule's window passed before they "
            "matched. A reconciliation scan may still have caught them.</p>",
            business_table(cmp, runs, cmp.dropped),
        ]
    if len(runs) > 1:
        parts += ["<h2>Differences against the reference policy</h2>", difference_table(cmp)]
    if load_parts:
        parts += ["<h2>Load test</h2>", *load_parts]
    parts += ["<h2>Charts</h2>", *figures, "<h2>Runs</h2>"]
    parts += [_identity(r, label) for r, label in zip(runs, cmp.labels, strict=True)]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report(
    runs: list[RunDir],
    out: str | os.PathLike,
    charts_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
) -> Path:
    """Render and write the report atomically (no half-written file on failure)."""
    page = render_report(runs, charts_dir, progress)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with atomic_text(out) as fh:
        fh.write(page)
    return Path(out)
