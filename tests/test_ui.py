"""``exsim ui`` driven in a real headless Chromium (Selenium with Debian's chromium-driver).

The server runs as ``python -m sim ui`` in a subprocess on a free loopback port; the test loads
the page, checks the starting point's KPIs are shown, lowers a headcount, runs, and checks the
KPI table moved the expected way and equals what ``exsim run --json`` says for the same
policy, scenario and seed; then saves the edited policy and the report, and types a bad value.
The levers and the session are also checked without a browser (fast, no server).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim import config
from sim.reports.comparison import fmt
from sim.ui.levers import apply, carrier_outage, policy_levers, scaled_demand, supplier_delay

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
DAYS = 14
REPS = 2
LEVER = "staffing.teams.planning.shifts[0].agents"


# -- levers, without a browser -----------------------------------------------------------------
def test_levers_come_from_the_policy_model() -> None:
    pol = config.load_policy("default")
    levers = {lv.key: lv for lv in policy_levers(pol)}
    # one headcount lever per team and shift, bounds from the model's Field(ge=1, le=10_000)
    heads = [k for k in levers if k.endswith(".agents")]
    shifts = sum(len(t.shift_list()) for t in pol.staffing.teams.values())
    assert len(heads) == shifts
    assert (levers[LEVER].lo, levers[LEVER].hi, levers[LEVER].value) == (1, 10_000, 4)
    assert levers["detection.picking_sla.scan.interval_min"].lo == 1
    assert levers["escalation.ladders.critical[0].after_min"].value == 15
    assert set(levers["queue.discipline"].choices) >= {"fifo", "priority", "edf"}
    cut = levers["severity.rules[0].when.order_value_min"]
    assert (cut.value, cut.label) == (5000, "strategic-large / order_value_min")
    # another policy, other levers: nothing is hard-coded
    desk = {lv.key for lv in policy_levers(config.load_policy("webhook-n8n"))}
    assert any(".webhook." in k for k in desk)


def test_a_severity_cut_off_moves_severities() -> None:
    """A lever the page generates changes the outcome: a lower value cut-off for "high"
    makes more cases high-severity (seen in the per-severity SLA counts of the log)."""
    from sim.ui.session import Session

    pol = config.load_policy("default")
    path = next(
        lv.path for lv in policy_levers(pol) if lv.key.endswith("rules[1].when.order_value_min")
    )
    session = Session(config.load_scenario("default"), pol, seed=2, reps=1, days=3, workers=1)

    def highs(run) -> int:
        log = run.runs[1].log
        return int((log["severity"] == "high").sum())

    base = session.run(pol)
    lower = session.run(apply(pol, {path: 1000.0}, "x"))
    assert highs(lower) > highs(base)


def test_a_bad_value_gives_the_cli_line() -> None:
    pol = config.load_policy("default")
    path = next(lv.path for lv in policy_levers(pol) if lv.key == LEVER)
    with pytest.raises(config.ConfigError) as exc:
        apply(pol, {path: 0}, "default (edited)")
    assert str(exc.value) == f"default (edited): {LEVER}: must be >= 1 (got 0)"
    assert apply(pol, {path: 3}, "x").staffing.teams["planning"].shifts[0].agents == 3


def test_demand_multiplier_scales_every_rate() -> None:
    scen = config.load_scenario("default")
    double = scaled_demand(scen, 2.0, "default")
    for name, cat in scen.categories.items():
        assert double.categories[name].rate_per_hour == pytest.approx(2 * cat.rate_per_hour)
    with pytest.raises(config.ConfigError, match="demand multiplier: must be > 0"):
        scaled_demand(scen, 0.0, "default")


def _cases(run, category: str) -> int:
    log = run.runs[1].log
    return int(log.loc[log["category"] == category, "case_id"].nunique())


def test_a_carrier_outage_window_brings_a_burst_of_carrier_failures() -> None:
    """Injected mode: the carrier_failure rate is multiplied inside the window only."""
    from sim.ui.session import Session

    pol = config.load_policy("default")
    session = Session(config.load_scenario("default"), pol, seed=4, reps=1, days=3, workers=1)
    scen = carrier_outage(session.scenario, 1.5, 6, 20.0, "default")
    vol = scen.categories["carrier_failure"].volume
    assert vol.factors[35:43] == [1.0] + [20.0] * 6 + [1.0]
    base, out = session.run(pol), session.run(pol, scenario=scen)
    assert _cases(out, "carrier_failure") > _cases(base, "carrier_failure") + 10
    assert _cases(out, "stock_shortage") == _cases(base, "stock_shortage")
    with pytest.raises(config.ConfigError, match="default: carrier outage.hours: must be > 0"):
        carrier_outage(session.scenario, 1, 0, 20.0, "default")


def test_carrier_outage_and_supplier_slip_use_the_operations_mechanisms() -> None:
    ops = config.load_scenario("baseline")
    assert ops.mode == "operations"
    out = carrier_outage(ops, 9.5, 6, 1.0, "baseline")
    assert out.operations.carriers[0].outages[-1].model_dump() == {
        "day": 9,
        "at": "12:00",
        "duration_min": 360.0,
    }
    slip = supplier_delay(ops, 5, 10, 1.0, 14, "baseline").operations.suppliers.slips[-1]
    assert (slip.supplier, slip.from_day, slip.days, slip.days_late) == (0, 5, 10, 14)


def test_a_supplier_delay_brings_more_late_receipts() -> None:
    from sim.ui.session import Session

    pol = config.load_policy("default")
    session = Session(config.load_scenario("default"), pol, seed=5, reps=1, days=3, workers=1)
    scen = supplier_delay(session.scenario, 0, 2, 5.0, 14, "default")
    base, late = session.run(pol), session.run(pol, scenario=scen)
    assert _cases(late, "inbound_delay") > _cases(base, "inbound_delay") + 5
    with pytest.raises(config.ConfigError, match="supplier delay.factor: must be >= 0"):
        supplier_delay(session.scenario, 0, 2, -1.0, 14, "default")


def test_the_page_reads_scenario_levers_zero_as_off() -> None:
    pytest.importorskip("nicegui", reason="the ui extra (nicegui) is not installed")
    from sim.ui.page import _world
    from sim.ui.session import Session

    pol = config.load_policy("default")
    session = Session(config.load_scenario("default"), pol, seed=1, reps=1, days=3, workers=1)
    v = dict(outage_day=1, outage_hours=0, outage_factor=10, slip_day=0, slip_days=0)
    v |= dict(slip_factor=3, slip_late=14)
    assert _world(session, v) is None
    scen = _world(session, v | {"outage_hours": 2, "slip_days": 1})
    assert scen.categories["carrier_failure"].volume.factors[24:27] == [10.0, 10.0, 1.0]
    assert scen.categories["inbound_delay"].volume.factors[23:25] == [3.0, 1.0]
    with pytest.raises(config.ConfigError, match="carrier outage.hours: must be > 0"):
        _world(session, v | {"outage_hours": None})


def test_switching_a_detection_mechanism_moves_detection_latency() -> None:
    """inventory_discrepancy, watched by a 4-hourly scan, switched to an event rule."""
    from sim.ui.session import Session

    pol = config.load_policy("default")
    levers = {lv.key: lv for lv in policy_levers(pol)}
    mech = levers["detection.inventory_discrepancy.mechanism"]
    assert (mech.value, set(mech.choices)) == (
        "scan",
        {"event_rule", "time_rule", "scan", "webhook", "exception_rule"},
    )
    edited = apply(pol, {mech.path: "event_rule"}, "x")
    det = edited.detection["inventory_discrepancy"]
    assert det.event_rule is not None and det.scan is None
    assert (
        apply(pol, {mech.path: "scan"}, "x").detection["inventory_discrepancy"].scan.interval_min
        == 240
    )
    session = Session(config.load_scenario("default"), pol, seed=6, reps=1, days=3, workers=1)
    run = session.run(edited)
    assert run.comparison.cells["sla.by_category.inventory_discrepancy"][1].diff >= 0
    assert run.comparison.cells["detection_latency_min.mean"][1].diff < 0


def test_a_tier_action_lever_swaps_the_action() -> None:
    """high tier 1 gains a reassign (to the routing's default team): cases move queues."""
    from sim.ui.session import Session

    pol = config.load_policy("default")
    levers = {lv.key: lv for lv in policy_levers(pol)}
    assert levers["escalation.ladders.critical[0].action"].value == "page"
    tier = levers["escalation.ladders.high[0].action"]
    assert tier.value == "none" and {
        "notify",
        "reassign",
        "raise_severity",
        "swarm",
        "page",
    } <= set(tier.choices)
    edited = apply(pol, {tier.path: "reassign"}, "x")
    assert edited.escalation.ladders["high"][0].actions == [
        {"reassign": {"to": "customer_service"}}
    ]
    page = levers["escalation.ladders.critical[0].action"].path
    assert apply(pol, {page: "none"}, "x").escalation.ladders["critical"][0].actions == []
    session = Session(config.load_scenario("default"), pol, seed=7, reps=1, days=3, workers=1)
    run = session.run(edited)

    def moves(r) -> int:
        return int((r.log["event"] == "reassigned").sum())

    assert moves(run.runs[1]) > moves(run.runs[0])


def test_time_to_resolve_cdf_shifts_left_with_more_staff() -> None:
    pytest.importorskip("nicegui", reason="the ui extra (nicegui) is not installed")
    from sim.ui.page import resolve_cdf_options
    from sim.ui.session import Session

    pol = config.load_policy("default")
    session = Session(config.load_scenario("default"), pol, seed=8, reps=1, days=3, workers=1)
    assert len(resolve_cdf_options(None, session)["series"]) == 1  # the starting point alone
    path = next(lv.path for lv in policy_levers(pol) if lv.key == LEVER)
    short = session.run(apply(pol, {path: 1}, "x"))
    start, run = resolve_cdf_options(short, session, points=50)["series"]
    for s in (start, run):
        share = [p for _, p in s["data"]]
        hours = [h for h, _ in s["data"]]
        assert share == sorted(share) and share[-1] == 1 and len(share) <= 50
        assert hours == sorted(hours)

    def within(series, h: float) -> float:
        return max((p for x, p in series["data"] if x <= h), default=0.0)

    # one planner instead of four: fewer cases resolved within a day
    assert within(run, 24) < within(start, 24)


def test_session_pairs_any_two_runs_on_the_same_replications() -> None:
    from sim.ui.session import Session

    pol = config.load_policy("default")
    session = Session(config.load_scenario("default"), pol, seed=3, reps=1, days=2, workers=1)
    path = next(lv.path for lv in policy_levers(pol) if lv.key == LEVER)
    first = session.run(apply(pol, {path: 1}, "x"))
    same = session.run(pol)  # the starting policy again: the cached start, no difference
    assert same.comparison.paired and same.comparison.cells["sla.overall"][1].diff == 0
    back = session.pair(1, 2)  # run 2 against run 1
    assert back.runs == [first.runs[1], same.runs[1]]
    sla = back.comparison.cells["sla.overall"]
    assert sla[1].diff == pytest.approx(-first.comparison.cells["sla.overall"][1].diff)
    with pytest.raises(ValueError, match="no run 3"):
        session.pair(0, 3)


# -- the page in a browser ---------------------------------------------------------------------
def _browser(downloads: Path):
    pytest.importorskip("nicegui", reason="the ui extra (nicegui) is not installed")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chrome or not driver:
        pytest.skip("no chromium and chromium-driver installed (apt-get install chromium-driver)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1500,1900",
    ):
        opts.add_argument(flag)
    # the page's downloads land in the test's folder, not in the user's ~/Downloads
    opts.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    from selenium.webdriver.chrome.service import Service

    # a HOME of its own too: whatever Chromium writes by default stays in the test's folder
    home = {**os.environ, "HOME": str(downloads.parent)}
    browser = webdriver.Chrome(options=opts, service=Service(driver, env=home))
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    return browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui")
    browser = _browser(tmp / "downloads")
    port = _free_port()
    # NiceGUI takes a server started under pytest for its own test harness: hide pytest
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["PYTHONPATH"] = str(ROOT)
    cmd = [sys.executable, "-m", "sim", "ui", "--port", str(port), "--reps", str(REPS)]
    cmd += ["--days", str(DAYS), "--save-dir", str(tmp / "saved"), "--workers", "2"]
    log = open(tmp / "server.log", "w")  # noqa: SIM115
    server = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail((tmp / "server.log").read_text())
                time.sleep(0.3)
        browser.get(f"http://127.0.0.1:{port}/")
        yield browser, tmp
    finally:
        browser.quit()
        server.terminate()
        server.wait(10)
        log.close()


def _wait(browser, css: str, timeout: float = 120, text: bool = True):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def found(b):
        els = b.find_elements(By.CSS_SELECTOR, css)
        return els[0] if els and (not text or els[0].text.strip()) else False

    return WebDriverWait(browser, timeout).until(found)


def _set(browser, lever: str, value: str) -> None:
    from selenium.webdriver.common.keys import Keys

    box = _wait(browser, f'input[data-lever="{lever}"]', text=False)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE, value, Keys.TAB)
    time.sleep(0.3)  # the change reaches the server over the websocket


def _wait_text(browser, css: str, part: str, timeout: float = 60) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, timeout).until(
        lambda b: part in b.find_element(By.CSS_SELECTOR, css).text
    )


def _wait_file(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert path.is_file(), f"{path} was not downloaded"


def _wait_count(browser, css: str, n: int, timeout: float = 120) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, timeout).until(lambda b: len(b.find_elements("css selector", css)) >= n)


def _pick(browser, select: str, option: str) -> None:
    """Choose ``option`` in a Quasar select: open its menu, click the item."""
    from selenium.webdriver.support.ui import WebDriverWait

    _click(browser, select)
    item = WebDriverWait(browser, 30).until(
        lambda b: next(
            (e for e in b.find_elements("css selector", ".q-menu .q-item") if e.text == option),
            False,
        )
    )
    item.click()
    time.sleep(0.3)


def _cell(browser, kpi: str, col: str) -> str:
    return _wait(browser, f"table.kpis tr[data-kpi='{kpi}'] td.{col}").text


def _click(browser, css: str) -> None:
    _wait(browser, css, text=False).click()


@pytest.mark.slow  # a browser and the page's server: CI runs it in its second step
def test_page_runs_a_what_if_like_exsim_run(page) -> None:
    browser, tmp = page
    # opens on the default scenario and policy with the starting point's KPIs
    start = _cell(browser, "sla.overall", "start")
    assert start.endswith("%")
    assert "planning" in _wait(browser, ".about").text

    # fewer planners: the SLA attainment falls and the open backlog grows
    _set(browser, LEVER, "1")
    _click(browser, "#run-button")
    _wait(browser, ".kpi-box td.run")
    assert _wait(browser, ".run-entry").text.startswith("default (run 1)")
    run_sla = float(_cell(browser, "sla.overall", "run").rstrip("%"))
    assert run_sla < float(start.rstrip("%")) - 5
    assert "worse" in _wait(browser, ".kpi-box tr[data-kpi='sla.overall'] td.diff").get_attribute(
        "class"
    )
    assert "default wins on SLA attainment" in _wait(browser, ".verdict").text
    # the README's screenshot: EXSIM_UI_SCREENSHOT=1 refreshes docs/ui-what-if.png
    shot = DOCS / "ui-what-if.png" if os.environ.get("EXSIM_UI_SCREENSHOT") else tmp / "ui.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    # save the edited policy and the report
    _click(browser, "#save-policy")
    _wait_text(browser, ".saved-line", ".policy.yaml")
    _click(browser, "#save-report")
    _wait_text(browser, ".saved-line", ".report.html")
    saved = tmp / "saved"
    (pol_file,) = saved.glob("*.policy.yaml")
    (report,) = saved.glob("*.report.html")
    # the browser got the same file as a download
    _wait_file(tmp / "downloads" / pol_file.name)
    assert (tmp / "downloads" / pol_file.name).read_text() == pol_file.read_text()
    edited = config.load_policy(pol_file)
    assert edited.staffing.teams["planning"].shifts[0].agents == 1
    text = report.read_text()
    assert "default (run 1)" in text and "Which policy wins" in text and "<img" in text

    # the same policy, scenario and seed through the CLI give the page's numbers
    out = subprocess.run(
        [sys.executable, "-m", "sim", "run", "default", "-p", str(pol_file), "--days", str(DAYS)]
        + ["--seed", "1", "--reps", str(REPS), "--json", "--out", str(tmp / "cli")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    cli = json.loads(out.stdout)
    assert f"{cli['sla']['overall'] * 100:.1f}" == f"{run_sla:.1f}"
    assert _cell(browser, "cases.open", "run") == fmt(cli["cases"]["open"], "count")

    # a second what-if (three planners), then any two runs compared: run 2 against run 1
    _set(browser, LEVER, "3")
    _click(browser, "#run-button")
    _wait_count(browser, ".run-entry", 2)
    run2_sla = float(_cell(browser, "sla.overall", "run").rstrip("%"))
    assert run_sla < run2_sla
    _pick(browser, ".pick-a", "default (run 1)")
    _click(browser, "#compare-button")
    _wait_text(browser, ".kpi-box th:nth-child(2)", "default (run 1)")
    assert _cell(browser, "sla.overall", "start") == f"{run_sla:.1f}%"
    assert _cell(browser, "sla.overall", "run") == f"{run2_sla:.1f}%"
    assert "better" in _wait(browser, ".kpi-box tr[data-kpi='sla.overall'] td.diff").get_attribute(
        "class"
    )

    # a bad value: the CLI's one-line message, no run added
    _set(browser, LEVER, "0")
    _click(browser, "#run-button")
    line = _wait(browser, ".error-line").text
    assert line == f"default (edited): {LEVER}: must be >= 1 (got 0)"
    assert len(browser.find_elements("css selector", ".run-entry")) == 2

    # auto-run: moving a lever re-runs without the button, once the lever is still
    _click(browser, "#auto-run")
    _set(browser, LEVER, "2")
    _wait_count(browser, ".run-entry", 3)
    assert _wait(browser, ".ttr-cdf canvas", text=False)
