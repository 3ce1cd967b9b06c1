"""``exsim odoo ...``: the live backend's verbs (check, mark-test-db, seed, inject, observe,
deploy-policy, cleanup, receive). Connection flags or EXSIM_ODOO_* variables on every verb;
every verb that writes passes the test-database guard first."""

from __future__ import annotations

import functools
import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import (
    ForceOpt,
    app,
    checked_out_dir,
    err_console,
    fail,
    out_console,
    progress_bar,
)
from sim.lazy import lazy

config = lazy("sim.config")  # imported when a verb first uses it

odoo_app = typer.Typer(no_args_is_help=True, help="Drive, observe and configure a live Odoo.")
app.add_typer(odoo_app, name="odoo")


@dataclass(frozen=True)
class OdooLogin:
    """The connection flags every verb takes, each falling back to its EXSIM_ODOO_* variable
    (resolved by ``sim.odoo.settings.resolve``)."""

    url: str | None = None
    db: str | None = None
    user: str | None = None
    password: str | None = None
    password_file: Path | None = None

    def connect(self, write: bool = True):
        """An open transport; a verb that writes passes the test-database guard first."""
        from sim.odoo.guard import GuardError, require_test_database
        from sim.odoo.settings import SettingsError, resolve
        from sim.odoo.transport import OdooError, TransientError, connect

        try:
            settings = resolve(
                self.url,
                self.db,
                self.user,
                self.password,
                self.password_file,
                warn=lambda m: err_console.print(m, style="yellow"),
            )
            transport = connect(settings)
            if write:
                require_test_database(transport)
        except (SettingsError, GuardError, OdooError, TransientError) as exc:
            fail(str(exc))
        return transport


_KW = inspect.Parameter.KEYWORD_ONLY
LOGIN_OPTIONS = [  # defined once: every verb gets them through ``odoo_verb``
    inspect.Parameter(
        name, _KW, default=None, annotation=Annotated[kind, typer.Option(flag, help=h)]
    )
    for name, kind, flag, h in (
        ("url", str | None, "--url", "Odoo URL (EXSIM_ODOO_URL)"),
        ("db", str | None, "--db", "database (EXSIM_ODOO_DB)"),
        ("user", str | None, "--user", "login (EXSIM_ODOO_USER)"),
        ("password", str | None, "--password", "prefer EXSIM_ODOO_PASSWORD (warns)"),
        ("password_file", Path | None, "--password-file", "file holding the password"),
    )
]


def odoo_verb(name: str | None = None):
    """Register ``fn(..., login: OdooLogin)`` as ``exsim odoo <name>`` taking the connection
    flags of ``LOGIN_OPTIONS`` in place of ``login``."""

    def register(fn):
        own = [p for p in inspect.signature(fn, eval_str=True).parameters.values()]
        own = [p for p in own if p.name != "login"]

        @functools.wraps(fn)
        def verb(*args, url=None, db=None, user=None, password=None, password_file=None, **kw):
            return fn(*args, login=OdooLogin(url, db, user, password, password_file), **kw)

        params = own + LOGIN_OPTIONS
        verb.__signature__ = inspect.Signature(params)
        verb.__annotations__ = {p.name: p.annotation for p in params}
        return odoo_app.command(name)(verb)

    return register


def _load(scenario: str, policy: str, days: float | None):
    try:
        overrides = {"horizon_days": days} if days else None
        sc, pol = config.load_scenario(scenario, overrides), config.load_policy(policy)
        config.check_fits(sc, pol, policy)
        return sc, pol
    except config.ConfigError as exc:
        fail(str(exc))


def _guarded(fn):
    """Run ``fn``; Odoo refusals and lost connections end as one line and exit 2."""
    from sim.odoo.inject import InjectError
    from sim.odoo.observe import ObserveError
    from sim.odoo.transport import OdooError, TransientError

    try:
        return fn()
    except (InjectError, ObserveError, OdooError, TransientError) as exc:
        fail(str(exc))


@odoo_verb()
def check(
    scenario: str = typer.Argument("default"),
    *,
    login: OdooLogin,
) -> None:
    """Server version, needed modules, the guard, and each category's mapping."""
    from sim.odoo.check import check as run_check

    sc, _ = _load(scenario, "default", None)
    t = login.connect(write=False)
    report = _guarded(lambda: run_check(t, list(sc.categories)))
    out_console.print(f"server version: {report.version} (transport {report.protocol})")
    for m, ok in report.modules.items():
        out_console.print(f"module {m}: {'installed' if ok else 'MISSING'}")
    for line in report.oca_lines:  # optional modules: what deploy-policy does with/without
        out_console.print(line, markup=False)
    out_console.print(f"test database (exsim.test_database=1): {report.test_database}")
    for c, status in report.mappings.items():
        out_console.print(f"mapping {c}: {'ok' if status == 'ok' else 'MISMATCH'}")
    for m, status in report.writes.items():
        out_console.print(f"writes {m}: {'ok' if status == 'ok' else 'MISMATCH'}")
    for problem in report.problems:
        out_console.print(f"mismatch: {problem}", markup=False)
    raise typer.Exit(0 if report.ok else 1)


@odoo_verb("mark-test-db")
def mark_test_db(
    yes: bool = typer.Option(False, "--yes-this-is-a-test-database"),
    *,
    login: OdooLogin,
) -> None:
    """Mark the database as a disposable test database (exsim.test_database = 1)."""
    from sim.odoo.guard import mark_test_database

    if not yes:
        fail("refusing to mark a database without --yes-this-is-a-test-database")
    t = login.connect(write=False)
    _guarded(lambda: mark_test_database(t))
    out_console.print(f"marked {t.settings.db} as an exsim test database")


@odoo_verb()
def seed(
    scenario: str = typer.Argument("default"),
    customers: int = typer.Option(200, "--customers", help="customers (tiers by tier_mix)"),
    products: int = typer.Option(300, "--products", help="products (ABC classes)"),
    suppliers: int = typer.Option(20, "--suppliers"),
    carriers: int = typer.Option(5, "--carriers"),
    gap_share: float = typer.Option(0.05, "--gap-share", help="share with master-data gaps"),
    seed_: int = typer.Option(0, "--seed", help="seed of the generated names and numbers"),
    *,
    login: OdooLogin,
) -> None:
    """Create the scenario's master data at scale, in batches (idempotent; cleanup removes it)."""
    from sim.odoo.masterdata import SeedSize
    from sim.odoo.seed import seed as run_seed

    sc, _ = _load(scenario, "default", None)
    for flag, value in (
        ("--customers", customers),
        ("--products", products),
        ("--suppliers", suppliers),
        ("--carriers", carriers),
    ):
        if value < 0:
            fail(f"{flag}: must be >= 0, got {value}")
    if not 0.0 <= gap_share <= 1.0:
        fail(f"--gap-share: must be between 0 and 1, got {gap_share}")
    size = SeedSize(customers, products, suppliers, carriers, gap_share, seed=seed_)
    t = login.connect()
    done = [0]
    with progress_bar("seeding") as bar:

        def advance(n: int) -> None:
            done[0] += n
            if bar is not None:
                bar(min(1.0, done[0] / max(1, size.total())))

        data = _guarded(lambda: run_seed(t, sc, size, advance))
    bulk = data.bulk
    out_console.print(f"created {len(data.created)} core records: {', '.join(data.created) or '-'}")
    if bulk is not None:
        tiers = ", ".join(f"{k} {len(v)}" for k, v in sorted(bulk.customers.items()))
        classes = ", ".join(f"{k} {len(v)}" for k, v in sorted(bulk.products.items()))
        out_console.print(
            f"master data: created {bulk.created}; customers {tiers}; products {classes}; "
            f"suppliers {len(bulk.suppliers)}; carriers {len(bulk.carriers)}; "
            f"warehouses {len(bulk.warehouses)}; deliberate gaps: "
            f"{bulk.gaps['customers']} customers, {bulk.gaps['products']} products"
        )


@odoo_verb()
def inject(
    scenario: str = typer.Argument("default"),
    policy: str = typer.Option("default", "--policy"),
    days: float = typer.Option(None, "--days", help="horizon override"),
    seed_: int = typer.Option(0, "--seed"),
    speed: float = typer.Option(60.0, "--speed", help="compress simulated time K times"),
    rate: float = typer.Option(None, "--rate", help="cases/s instead of --speed"),
    ramp: str = typer.Option(None, "--ramp", help="load test: cases/s r1,r2,... per step"),
    step_s: float = typer.Option(10.0, "--step-s", help="load-test step length"),
    batch: int = typer.Option(200, "--batch", help="max records per create"),
    dry_run: bool = typer.Option(False, "--dry-run"),
    resume: bool = typer.Option(False, "--resume"),
    sync_cron: bool = typer.Option(
        True,
        "--sync-cron/--no-sync-cron",
        help="start the run as Odoo's cron thread wakes (jobs then start seconds, not up to a "
        "minute, late)",
    ),
    *,
    login: OdooLogin,
) -> None:
    """Play the scenario's cases into Odoo as real records, in time order."""
    import time
    from collections import Counter

    from sim.odoo import inject as inj
    from sim.odoo.deploy import (
        CRON_PERIOD_S,
        SYNCED_WAKE_DRIFT_S,
        SYNCED_WAKE_LAG_S,
        align_schedules,
        probe_cron_wake,
    )
    from sim.odoo.deploy import deployed as deployed_in
    from sim.odoo.mapping import pattern_for
    from sim.odoo.plan import TimeMap, at_speed, build_plan, deployed_only
    from sim.odoo.seed import seed as run_seed

    sc, pol = _load(scenario, policy, days)
    if speed <= 0 or (rate is not None and rate <= 0):
        fail("--speed and --rate must be > 0")
    rates: list[float] = []
    if ramp:
        try:
            rates = [float(r) for r in ramp.split(",")]
        except ValueError:
            fail(f"--ramp: {ramp!r} is not a comma-separated list of cases/s")
        if not rates or min(rates) <= 0:
            fail("--ramp: every rate must be > 0")
    live_pol, notes = at_speed(pol, 1.0 if rate else speed, list(sc.categories))
    for note in notes:
        err_console.print(f"at speed {speed:g}: {note}", style="yellow")
    cases, _ = build_plan(sc, live_pol, seed_)
    if dry_run:
        counts = Counter(c.category for c in cases)
        for cat, n in sorted(counts.items()):
            p = pattern_for(cat)
            out_console.print(f"{cat:<24} {n:>6}  {p.model:<16} via {p.recipe}")
        pace = f"{rate} cases/s" if rate else f"speed {speed}x"
        span = cases[-1].occurred / (speed if not rate else 1) if cases else 0
        out_console.print(
            f"{len(cases)} cases, {pace}, batches of up to {batch}"
            + ("" if rate else f", ~{span:.0f} min wall")
        )
        for c in cases[:10]:
            out_console.print(
                f"  t={c.occurred:9.1f} trigger={c.trigger:9.1f} {c.category} case {c.case_id}"
            )
        return
    t = login.connect()

    def go():
        from datetime import timedelta

        master = run_seed(t, sc)
        run = inj.load_run(t) if resume else None
        fresh = run is None
        if fresh:
            now = inj.utc_now()
            wake = None
            if sync_cron and not rate and speed != 1:
                err_console.print("waiting for a pass of Odoo's cron thread (up to 75 s)")
                woke = probe_cron_wake(t, inj.utc_now, time.sleep)
                if woke is not None:  # the next pass, a minute on; be due just before it
                    wake = woke + timedelta(seconds=CRON_PERIOD_S)
                else:
                    err_console.print("no pass seen: the run is not in step", style="yellow")
            run = {
                # in step with Odoo's cron thread: jobs due at the anchor run as it wakes
                "anchor": (wake - timedelta(seconds=1) if wake else now).isoformat(),
                "speed": 1.0 if rate else speed,
                "wake_lag_s": SYNCED_WAKE_LAG_S if wake else None,
                "wake_drift_s": SYNCED_WAKE_DRIFT_S if wake else 0.0,
                "scenario": str(scenario),
                "policy": str(policy),
                "seed": seed_,
                "days": sc.horizon_days,
                "horizon_min": sc.horizon_min,
            }
        elif float(run["speed"]) != (1.0 if rate else speed):
            fail(
                f"this run was started at speed {run['speed']:g}: "
                f"resume it with --speed {run['speed']:g}"
            )
        # predict what is deployed, at this speed: a mechanism Odoo could not take detects
        # nothing live; the plan's self-clearings depend on what the prediction detects
        run_pol, _ = at_speed(
            pol,
            float(run["speed"]),
            list(sc.categories),
            run.get("wake_lag_s"),
            run.get("wake_drift_s", 0.0),
        )
        deployed = {r["name"] for r in deployed_in(t)}
        run_pol = deployed_only(run_pol, list(sc.categories), deployed)
        cases, _ = build_plan(sc, run_pol, seed_)
        if fresh:
            inj.save_run(t, run)
            # the deployed scans and time rules start at minute 0, as in the simulation
            align_schedules(t, run["anchor"], run_pol, float(run["speed"]))
        from datetime import datetime

        tm = TimeMap(datetime.fromisoformat(run["anchor"]), float(run["speed"]))
        injector = inj.Injector(t, master, tm)
        if ramp:
            from sim.odoo.loadtest import cases_for_ramp, ramp_test, render

            ramp_cases = cases_for_ramp(cases, rates, step_s)
            if len(ramp_cases) > len(cases):
                err_console.print(
                    f"the ramp needs {len(ramp_cases)} cases, the plan has {len(cases)}: "
                    "repeating them under further replication numbers",
                    style="yellow",
                )
            result = ramp_test(injector, ramp_cases, rates, step_s, batch, resume)
            render(out_console, result)
            return
        pacer = (
            inj.RatePacer(rate, batch)
            if rate
            else inj.SpeedPacer(tm.speed, batch, start=tm.anchor)  # a resumed run keeps pace
        )
        try:
            with progress_bar("inject") as bar:
                stats = injector.run(cases, pacer, resume=resume, progress=bar)
        finally:  # the RPC figures of this session go with the run, for observe's summary
            import contextlib

            from sim.odoo.technical import rpc_stats

            with contextlib.suppress(Exception):  # Odoo may be why we are here
                inj.save_run(t, {**run, "rpc": rpc_stats(t.calls)})
        out_console.print(
            f"injected {stats.cases} cases ({stats.skipped} already there) in "
            f"{stats.batches} batches, {stats.records} records, {stats.cleared} cleared, "
            f"{stats.retries} retries, "
            f"{stats.wall_s:.1f} s"
        )

    _guarded(go)


@odoo_verb()
def observe(
    out: Path = typer.Option(..., "--out"),
    since: float = typer.Option(None, "--since", help="only cases from this minute on"),
    webhooks: Path = typer.Option(None, "--webhooks", help="receiver's JSON-lines log"),
    odoo_log: Path = typer.Option(
        None, "--odoo-log", help="Odoo's log file: job runs, durations, failures, wake-up lag"
    ),
    compare_sim: bool = typer.Option(True, "--compare/--no-compare"),
    force: ForceOpt = False,
    *,
    login: OdooLogin,
) -> None:
    """Read back what Odoo did as an exsim run directory (events.parquet, summary.json):
    occurrence, detection and resolution of every case, and the technical metrics."""
    from sim import eventlog
    from sim.metrics import summarize_reps
    from sim.metrics.sim_vs_live import sim_vs_live
    from sim.odoo import inject as inj
    from sim.odoo import observe as obs
    from sim.odoo.deploy import deployed as deployed_in
    from sim.odoo.plan import at_speed, build_plan, deployed_only
    from sim.odoo.technical import technical_summary
    from sim.runner import write_run_dir

    if odoo_log is not None and not odoo_log.is_file():
        fail(f"{odoo_log}: no such file (--odoo-log, Odoo's log file)")
    checked_out_dir(out, force)
    t = login.connect(write=False)

    def go():
        run = inj.load_run(t)
        if run is None:
            fail("no exsim injection found in this database (system parameter exsim.inject.run)")
        sc = pol = None
        if run.get("scenario"):
            try:
                sc, pol = _load(run["scenario"], run.get("policy", "default"), run.get("days"))
            except typer.Exit:
                err_console.print("warning: cannot reload the scenario; no SLA, no comparison")
        sla = {c: pol.sla.target(c, None) for c in sc.categories} if pol is not None else None
        table = obs.observe(t, run, webhooks, since, sla)
        df = eventlog.to_pandas(table)
        summary = {
            "source": "odoo",
            "scenario": run.get("scenario"),
            "policy": run.get("policy"),
            "seed": run.get("seed"),
            "speed": run.get("speed"),
            "start": run["anchor"],
            **summarize_reps(df),
        }
        summary.pop("reps", None)
        summary["technical"] = technical_summary(t, run, odoo_log, webhooks)
        if compare_sim and pol is not None:
            # the prediction for the speed the run was played at (see plan.at_speed)
            live_pol, _ = at_speed(
                pol,
                float(run.get("speed", 1.0)),
                list(sc.categories),
                run.get("wake_lag_s"),
                run.get("wake_drift_s", 0.0),
            )
            deployed = {r["name"] for r in deployed_in(t)}
            live_pol = deployed_only(live_pol, list(sc.categories), deployed)
            _, sim_df = build_plan(sc, live_pol, int(run.get("seed", 0)))
            summary["sim_vs_live"] = sim_vs_live(sim_df, df)
            fit = summary["technical"].get("wake_fit")
            if fit:  # the same prediction given the cron thread's lag measured in Odoo's log
                fitted, _ = at_speed(
                    pol, float(run["speed"]), list(sc.categories), fit["lag0_s"], fit["drift_s"]
                )
                fitted = deployed_only(fitted, list(sc.categories), deployed)
                _, fit_df = build_plan(sc, fitted, int(run.get("seed", 0)))
                summary["sim_vs_live_measured_lag"] = sim_vs_live(fit_df, df)
        write_run_dir(
            out,
            {
                "events.parquet": lambda p: eventlog.write_table(table, p),
                "summary.json": lambda p: p.write_text(json.dumps(summary, indent=2, default=str)),
            },
            force=force,
        )
        out_console.print(f"{df['case_id'].nunique()} cases observed -> {out}")
        if "sim_vs_live" in summary:
            out_console.print(_sim_vs_live_table(summary["sim_vs_live"]))
        if "sim_vs_live_measured_lag" in summary:
            fit = summary["technical"]["wake_fit"]
            out_console.print(
                f"with the cron lag measured in Odoo's log ({fit['lag0_s']:g} s "
                f"+ {fit['drift_s']:g} s per pass):"
            )
            out_console.print(_sim_vs_live_table(summary["sim_vs_live_measured_lag"]))

    _guarded(go)


def _sim_vs_live_table(report: dict):
    """A small table of ``sim_vs_live``'s result: per category, agreement and miss rates."""
    from rich.table import Table

    table = Table("category", "cases", "agreement", "miss sim", "miss live", "diff")
    for cat, e in sorted(report["by_category"].items()):
        ms, ml = e["sim"]["miss_rate"], e["live"]["miss_rate"]
        table.add_row(
            cat,
            str(e["cases"]),
            f"{e['agreement']:.3f}",
            f"{ms:.3f}",
            f"{ml:.3f}",
            f"{ml - ms:+.3f}",
        )
    overall = report["agreement"]
    table.caption = f"overall agreement {overall:.3f}" if overall is not None else "no cases"
    approvals = report.get("approvals")
    if approvals:  # tier reviews were read back: the approval cycle time, predicted vs seen
        s, v = approvals["sim"], approvals["live"]

        def minutes(x) -> str:
            return "-" if x is None else f"{x:.1f}"

        table.caption += (
            f"\napprovals: requested {s['requested']} sim / {v['requested']} live, "
            f"decided {s['approved'] + s['rejected']} / {v['approved'] + v['rejected']}, "
            f"cycle time p50 {minutes(s['cycle_p50'])} / {minutes(v['cycle_p50'])} min, "
            f"p90 {minutes(s['cycle_p90'])} / {minutes(v['cycle_p90'])} min"
        )
    return table


@odoo_verb("deploy-policy")
def deploy_policy(
    policy: str = typer.Argument("default"),
    scenario: str = typer.Option("default", "--scenario", help="categories to cover"),
    speed: float = typer.Option(1.0, "--speed", help="as given to inject --speed"),
    webhook_url: str = typer.Option(None, "--webhook-url"),
    webhook_secret: str = typer.Option(
        None,
        "--webhook-secret",
        envvar="EXSIM_WEBHOOK_SECRET",
        help="shared secret the receiver checks; put into the webhook URL as ?token=",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="show the diff, change nothing"),
    *,
    login: OdooLogin,
) -> None:
    """Install the policy's detection as automation rules, scheduled actions and webhooks."""
    from sim.odoo.deploy import deploy_policy as run_deploy
    from sim.odoo.plan import at_speed

    if webhook_secret and webhook_url:
        from sim.odoo.receiver import with_token

        webhook_url = with_token(webhook_url, webhook_secret)
    elif webhook_secret:
        fail("--webhook-secret: give --webhook-url too (the receiver's URL)")
    sc, pol = _load(scenario, policy, None)
    for note in at_speed(pol, speed, list(sc.categories))[1]:
        err_console.print(
            f"at speed {speed:g}: {note}; the comparison predicts this", style="yellow"
        )
    t = login.connect()
    result = _guarded(
        lambda: run_deploy(t, pol, list(sc.categories), speed, webhook_url, dry_run=dry_run)
    )
    for line in result.diff:
        out_console.print(line, markup=False)
    counts = (len(result.created), len(result.updated), len(result.removed))
    if dry_run:
        out_console.print(
            "dry run, nothing changed: {} to create, {} to update, {} to remove".format(*counts)
        )
    else:
        out_console.print("{} created, {} updated, {} removed".format(*counts))
    if result.skipped:
        out_console.print(f"as the policy says: {', '.join(result.skipped)}")
    if result.unsupported:
        out_console.print(f"not deployed: {', '.join(result.unsupported)}", markup=False)
    for note in result.notes:
        out_console.print(f"note: {note}", markup=False)


@odoo_verb()
def cleanup(
    *,
    login: OdooLogin,
) -> None:
    """Remove everything exsim created (found through ir.model.data module exsim)."""
    from sim.odoo.cleanup import cleanup as run_cleanup

    t = login.connect()
    report = _guarded(lambda: run_cleanup(t))
    out_console.print(f"deleted: {report.deleted or '-'}; archived: {report.archived or '-'}")
    if report.failed:
        fail("; ".join(report.failed))


@odoo_verb()
def receive(
    out: Path = typer.Option(Path("webhooks.jsonl"), "--out"),
    port: int = typer.Option(8787, "--port"),
    ack: bool = typer.Option(
        False,
        "--ack",
        help="write each delivery back into Odoo as an activity (what a reconciliation scan "
        "with only_undetected skips), as the middleware would",
    ),
    secret: str = typer.Option(
        None,
        "--secret",
        envvar="EXSIM_WEBHOOK_SECRET",
        help="refuse (401) deliveries without ?token=<secret> (deploy-policy --webhook-secret)",
    ),
    *,
    login: OdooLogin,
) -> None:
    """Run the webhook receiver on 127.0.0.1 until interrupted."""
    import time

    from sim.odoo.receiver import Receiver, ReceiverError

    if not 0 <= port <= 65535:
        fail(f"--port {port}: must be between 0 and 65535")
    transport = login.connect() if ack else None
    receiver = Receiver(out, port, ack=transport, secret=secret)
    try:
        receiver.start()
    except ReceiverError as exc:
        fail(str(exc))
    with receiver as r:
        out_console.print(
            f"receiving on {r.url} -> {out}"
            + (", acknowledged in Odoo" if ack else "")
            + " (Ctrl-C to stop)"
        )
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        if r.ack_failures:
            err_console.print(f"{len(r.ack_failures)} deliveries not acknowledged in Odoo")


@odoo_verb()
def load(
    scenario: str = typer.Argument("default"),
    policy: str = typer.Option("default", "--policy"),
    users: int = typer.Option(4, "--users", help="Locust users in all"),
    spawn_rate: float = typer.Option(1.0, "--spawn-rate", help="users started per second"),
    run_time: float = typer.Option(60.0, "--run-time", help="seconds the load runs"),
    rate: float = typer.Option(2.0, "--rate", help="exception cases/s played, all users together"),
    workers: int = typer.Option(0, "--workers", help="Locust worker processes (0: one process)"),
    master_host: str = typer.Option(
        None,
        "--master-host",
        help="bind the master here and print the commands starting the --workers on other "
        "machines (none are started locally)",
    ),
    master_port: int = typer.Option(0, "--master-port", help="master's port (0: a free one)"),
    background: bool = typer.Option(
        False, "--background", help="users also browse and sell (reads, orders confirmed)"
    ),
    days: float = typer.Option(None, "--days", help="horizon override"),
    seed_: int = typer.Option(0, "--seed"),
    out: Path = typer.Option(..., "--out"),
    force: ForceOpt = False,
    *,
    login: OdooLogin,
) -> None:
    """Load-test the deployed automations with Locust: users play the scenario's cases (and
    optionally background traffic) for --run-time seconds; then observe what Odoo caught and
    write one run directory with Locust's request stats and detection latency per load step."""
    import os
    import shutil
    import socket
    import subprocess
    import sys
    import tempfile

    import sim
    from sim.odoo import inject as inj
    from sim.odoo import loadrun
    from sim.odoo.mapping import case_key
    from sim.odoo.plan import build_plan
    from sim.odoo.seed import seed as run_seed
    from sim.outdir import write_run_dir

    for flag, value in (("--users", users), ("--spawn-rate", spawn_rate), ("--run-time", run_time)):
        if value <= 0:
            fail(f"{flag}: must be > 0, got {value:g}")
    if rate <= 0:
        fail(f"--rate: must be > 0, got {rate:g}")
    if workers < 0 or (master_host and workers < 1):
        fail("--workers: must be >= 0 (>= 1 with --master-host: the workers to wait for)")
    if shutil.which("locust") is None:
        fail("locust is not installed: pip install 'exsim[load]'")
    sc, pol = _load(scenario, policy, days)
    checked_out_dir(out, force)
    t = login.connect()
    cases, _ = build_plan(sc, pol, seed_)
    # as many cases as the run can play at --rate, self-clearings included, with a margin
    budget, n = int(rate * run_time * 0.8), 0
    used = 0
    for c in cases:
        cost = 1 + (c.cleared is not None)
        if used + cost > budget:
            break
        used, n = used + cost, n + 1
    cases = cases[:n]
    if not cases:
        fail(f"--rate {rate:g} x --run-time {run_time:g}: too short to play a single case")
    work = Path(tempfile.mkdtemp(prefix="exsim-load-"))
    try:

        def prepare():
            master = run_seed(t, sc)
            run = {
                "anchor": inj.utc_now().isoformat(),
                "speed": 1.0,
                "scenario": str(scenario),
                "policy": str(policy),
                "seed": seed_,
                "days": sc.horizon_days,
                "horizon_min": sc.horizon_min,
            }
            inj.Injector(t, master, None).run(cases, lambda items: [])  # refuses a replay
            inj.save_run(t, run)
            return master, run

        master, run = _guarded(prepare)
        plan_file = work / "plan.json"
        loadrun.write_plan(plan_file, cases, master, run, rate, max(1, workers), background)
        locustfile = str(Path(sim.__file__).parent / "odoo" / "locust.py")
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                [str(Path(sim.__file__).parent.parent), os.environ.get("PYTHONPATH", "")]
            ),
            loadrun.PLAN_ENV: str(plan_file),
            "EXSIM_ODOO_URL": t.settings.url,
            "EXSIM_ODOO_DB": t.settings.db,
            "EXSIM_ODOO_USER": t.settings.user,
            "EXSIM_ODOO_PASSWORD": t.settings.password,
        }
        prefix = str(work / "locust")
        cmd = [sys.executable, "-m", "locust", "-f", locustfile, "--headless"]
        cmd += ["-u", str(users), "-r", f"{spawn_rate:g}", "-t", f"{run_time:g}s"]
        cmd += ["--csv", prefix, "--csv-full-history", "--stop-timeout", "10"]
        cmd += ["--exit-code-on-error", "0"]
        procs = []
        if workers:
            host = master_host or "127.0.0.1"
            if not master_port:
                with socket.socket() as s:
                    s.bind((host, 0))
                    master_port = s.getsockname()[1]
            cmd += ["--master", "--master-bind-host", host, "--master-bind-port", str(master_port)]
            cmd += ["--expect-workers", str(workers)]
            worker_cmd = [sys.executable, "-m", "locust", "-f", locustfile, "--worker"]
            worker_cmd += ["--master-host", host, "--master-port", str(master_port)]
            if master_host:
                out_console.print(
                    f"start {workers} worker(s) on other machines (exsim installed, "
                    f"{plan_file} copied there, EXSIM_ODOO_PASSWORD set):",
                    markup=False,
                )
                out_console.print(
                    f"  {loadrun.PLAN_ENV}={plan_file} EXSIM_ODOO_URL={t.settings.url} "
                    f"EXSIM_ODOO_DB={t.settings.db} EXSIM_ODOO_USER={t.settings.user} "
                    f"locust -f $(python -c 'import sim,os;print(os.path.dirname(sim.__file__))')"
                    f"/odoo/locust.py --worker --master-host {host} --master-port {master_port}",
                    markup=False,
                )
        master_proc = subprocess.Popen(cmd, env=env)
        if workers and not master_host:
            procs = [subprocess.Popen(worker_cmd, env=env) for _ in range(workers)]
        try:
            master_proc.wait(timeout=run_time + 120 + (600 if master_host else 0))
        except subprocess.TimeoutExpired:
            master_proc.kill()
            fail("locust did not finish in time (workers missing?)")
        finally:
            for p in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
        if master_proc.returncode not in (0, None):
            fail(f"locust exited with {master_proc.returncode}")
        # what Odoo caught, read back as observe does, into a scratch run directory
        observed = work / "observed"
        secret = work / "password"
        secret.touch(mode=0o600)
        secret.write_text(t.settings.password)
        observe(
            out=observed,
            since=None,
            webhooks=None,
            odoo_log=None,
            compare_sim=True,
            url=t.settings.url,
            db=t.settings.db,
            user=t.settings.user,
            password=None,
            password_file=secret,
            force=False,
        )
        summary = json.loads((observed / "summary.json").read_text(encoding="utf-8"))
        from sim import eventlog

        log = eventlog.read_log(observed / "events.parquet")
        profile = loadrun.load_profile(Path(prefix + "_stats_history.csv"))
        step_rows = loadrun.steps(log, profile, run["anchor"], 1.0)
        summary["load"] = {
            "users": users,
            "spawn_rate": spawn_rate,
            "run_time_s": run_time,
            "rate": rate,
            "workers": workers,
            "background": background,
            "planned_cases": sorted(case_key(c.category, c.rep, c.case_id) for c in cases),
            "requests": loadrun.request_stats(Path(prefix + "_stats.csv")),
            "profile": profile.to_dict("records"),
            "steps": step_rows,
            "behind_at_users": loadrun.behind_at(step_rows),
        }
        files = {
            "events.parquet": lambda p: shutil.copyfile(observed / "events.parquet", p),
            "summary.json": lambda p: p.write_text(json.dumps(summary, indent=2, default=str)),
        }
        for csv_file in sorted(work.glob("locust_*.csv")):
            files[csv_file.name] = lambda p, f=csv_file: shutil.copyfile(f, p)
        write_run_dir(out, files, force=force)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    from rich.table import Table

    table = Table(
        "step (users)", "cases", "detected", "missed", "detect p50 s", "detect p95 s", "RPC p95 ms"
    )
    for s in step_rows:
        table.add_row(
            str(s["users"]),
            str(s["cases"]),
            str(s["detected"]),
            f"{s['miss_share']:.0%}",
            "-" if s["detect_p50_s"] is None else f"{s['detect_p50_s']:.1f}",
            "-" if s["detect_p95_s"] is None else f"{s['detect_p95_s']:.1f}",
            "-" if s["rpc_p95_ms"] is None else f"{s['rpc_p95_ms']:.0f}",
        )
    out_console.print(table)
    agg = next((r for r in summary["load"]["requests"] if r["name"] == "Aggregated"), None)
    if agg:
        out_console.print(
            f"{agg['count']} requests, {agg['failures']} failed, p95 {agg['p95_ms']:.0f} ms"
        )
    made = sum(
        r["count"] - r["failures"] for r in summary["load"]["requests"] if r["type"] == "case"
    )
    behind = summary["load"]["behind_at_users"]
    out_console.print(
        f"automations fall behind at {behind} users" if behind else "automations kept up"
    )
    out_console.print(f"-> {out}")
    if made < len(cases):
        fail(
            f"only {made} of the {len(cases)} planned cases were made (see Locust's failures "
            f"in {out}); carry on with `exsim odoo inject --rate {rate:g} --resume`",
            code=1,
        )
