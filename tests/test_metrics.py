"""KPIs from real event logs: a hand-checked desk, random logs for the invariants."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from sim.eventlog import EVENT_CODE, SEVERITY_RANK, EventLog, LogMeta, concat, to_pandas
from sim.metrics import backlog_series, case_table, get_path, summarize, summarize_reps
from sim.metrics.summary import kpi_range
from sim.stats import wilson
from tests.profiles import examples

H = 1000.0


def record_cases(log: EventLog, cases: list[dict]) -> None:
    """Register ``cases`` and record all their events in time order, as the engine would."""
    rows = []
    for spec in cases:
        cid = log.open_case(spec["category"], spec.get("value", 100.0), "key", "WH1", "north")
        for ts, event, extra in spec["events"]:
            rows.append((ts, cid, event, extra))
    for ts, cid, event, extra in sorted(rows, key=lambda r: r[0]):
        sev = extra.get("severity")
        log.record(
            ts,
            cid,
            EVENT_CODE[event],
            severity=SEVERITY_RANK[sev] if sev else -1,
            team=log.code(extra.get("team")),
            actor=log.code(extra.get("actor")),
            detail=log.code(extra.get("detail")),
            due=extra.get("due", math.nan),
        )


def meta(horizon: float = H, reps: int = 1, **capacity: float) -> LogMeta:
    return LogMeta(
        start="2024-01-01T00:00:00", horizon_min=horizon, reps=reps, capacity_min=dict(capacity)
    )


def build(cases: list[dict], horizon: float = H, **capacity: float) -> pd.DataFrame:
    log = EventLog(meta(horizon, **capacity))
    record_cases(log, cases)
    return to_pandas(log.table())


def build_reps(runs: list[list[dict]], horizon: float = H) -> pd.DataFrame:
    m = meta(horizon, reps=len(runs))
    tables = []
    for rep, cases in enumerate(runs):
        log = EventLog(m, rep=rep)
        record_cases(log, cases)
        tables.append(log.table())
    return to_pandas(concat(tables, m))


# A: stock_shortage, detected twice, met its SLA, closed at 120.
# B: picking_sla, escalated (tier1) and re-graded medium, resolved late, never closed.
# C: stock_shortage, never detected, open at the horizon (no deadline known).
# D: picking_sla, escalated (tier2) and notified, past due and open at the horizon.
# E: stock_shortage, open at the horizon but not due yet.
HIGH_A = {"severity": "high", "due": 200.0}
LOW_B = {"severity": "low", "due": 150.0}
CRIT_D = {"severity": "critical", "due": 500.0, "team": "ops"}
DESK = [
    {
        "category": "stock_shortage",
        "events": [
            (0.0, "occurred", {}),
            (10.0, "detected", {"detail": "time_rule", "actor": "time_rule"}),
            (15.0, "detected", {"detail": "event_rule", "actor": "event_rule"}),
            (20.0, "classified", HIGH_A),
            (20.0, "assigned", {**HIGH_A, "team": "stock"}),
            (30.0, "acknowledged", {**HIGH_A, "team": "stock"}),
            (40.0, "work_started", {**HIGH_A, "team": "stock"}),
            (100.0, "resolved", {**HIGH_A, "team": "stock"}),
            (120.0, "closed", {**HIGH_A, "team": "stock"}),
        ],
    },
    {
        "category": "picking_sla",
        "events": [
            (50.0, "occurred", {}),
            (80.0, "detected", {}),
            (90.0, "classified", LOW_B),
            (100.0, "assigned", {**LOW_B, "team": "ops"}),
            (100.0, "work_started", {**LOW_B, "team": "ops"}),
            (160.0, "escalated", {"severity": "medium", "due": 150.0, "detail": "tier1"}),
            (300.0, "resolved", {"severity": "medium", "due": 150.0, "team": "ops"}),
        ],
    },
    {"category": "stock_shortage", "events": [(900.0, "occurred", {})]},
    {
        "category": "picking_sla",
        "events": [
            (400.0, "occurred", {}),
            (410.0, "detected", {}),
            (420.0, "classified", {"severity": "critical", "due": 500.0}),
            (420.0, "assigned", CRIT_D),
            (520.0, "escalated", {**CRIT_D, "detail": "tier2"}),
            (520.0, "notified", {**CRIT_D, "detail": "tier2"}),
        ],
    },
    {
        "category": "stock_shortage",
        "events": [
            (950.0, "occurred", {}),
            (955.0, "detected", {}),
            (960.0, "classified", {"severity": "high", "due": 1100.0}),
            (960.0, "assigned", {"severity": "high", "due": 1100.0, "team": "stock"}),
        ],
    },
]
N_ROWS = sum(len(c["events"]) for c in DESK)


@pytest.fixture
def desk() -> pd.DataFrame:
    return build(DESK, ops=600.0, stock=600.0)  # 20 agent-hours


def test_case_table(desk):
    ct = case_table(desk)
    assert list(ct["case_id"]) == [0, 1, 2, 3, 4]
    a, b, c, d, e = (ct.iloc[i] for i in range(5))
    assert (a.occurred, a.detected, a.acknowledged, a.resolved, a.closed) == (0, 10, 30, 100, 120)
    assert a.n_detected == 2 and a.severity == "high" and a.team == "stock" and a.due == 200
    assert b.severity == "medium" and b.team == "ops" and b.n_escalated == 1
    assert math.isnan(b.closed) and math.isnan(b.acknowledged)
    assert a.detected_by == "time_rule" and pd.isna(c.detected_by)  # first detector; a miss
    assert c.n_detected == 0 and pd.isna(c.severity) and pd.isna(c.team) and math.isnan(c.due)
    assert d.category == "picking_sla" and d.due == 500
    assert e.site == "north" and e.customer_tier == "key" and e.order_value == 100.0
    assert ct["parent_case_id"].isna().all()


def test_case_table_does_not_depend_on_row_order(desk):
    shuffled = desk.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(case_table(shuffled), case_table(desk))


def test_case_table_keeps_replications_apart():
    ct = case_table(build_reps([DESK, DESK[1:2]]))
    assert list(zip(ct["rep"], ct["case_id"], strict=True)) == [
        (0, 0),
        (0, 1),
        (0, 2),
        (0, 3),
        (0, 4),
        (1, 0),
    ]
    assert ct.iloc[5].occurred == 50.0 and ct.iloc[5].category == "picking_sla"
    assert ct.iloc[0].occurred == 0.0 and ct.iloc[0].category == "stock_shortage"


def test_summary_of_the_hand_checked_desk(desk):
    s = summarize(desk)
    json.dumps(s, allow_nan=False)
    assert s["cases"] == {"generated": 5, "resolved": 2, "open": 3}
    sla = s["sla"]
    assert (sla["met"], sla["breached"], sla["pending"], sla["no_due"]) == (1, 2, 1, 1)
    assert sla["overall"] == pytest.approx(1 / 3)
    assert sla["by_category"] == {"stock_shortage": 1.0, "picking_sla": 0.0}
    assert sla["by_severity"] == {"low": None, "medium": 0.0, "high": 1.0, "critical": 0.0}
    det = s["detection_latency_min"]  # A 10, B 30, D 10, E 5
    assert det["n"] == 4 and det["mean"] == pytest.approx(13.75) and det["p50"] == 10.0
    assert s["time_to_acknowledge_min"]["mean"] == 20.0
    assert s["queue_wait_min"]["n"] == 2 and s["queue_wait_min"]["mean"] == 10.0
    assert s["time_to_resolve_min"]["mean"] == 175.0
    assert s["waited_fraction"] == 0.5
    # open spells: A [0,120) B [50,300) D [400,-) C [900,-) E [950,-)
    assert s["backlog"] == {"mean": pytest.approx(1120 / 1000), "max": 3, "final": 3}
    assert s["aging_open"] == {"<1h": 1, "1-4h": 1, "4-24h": 1, "1-3d": 0, ">3d": 0}
    assert s["escalations"] == 2 and s["escalations_by_tier"] == {"tier1": 1, "tier2": 1}
    # alerts interrupt a human: 2 escalated + 1 notified (detections are not alerts; A's
    # second detection is not marked as a duplicate delivery, so it is no second ticket)
    assert s["alerts"] == 3
    assert s["alerts_per_agent_hour"] == pytest.approx(3 / 20)
    little = s["littles_law"]
    assert little["W_min"] == pytest.approx(1120 / 5)
    assert little["lambda_per_min"] == pytest.approx(5 / 1000)
    assert little["L"] == pytest.approx(little["lambda_W"])
    assert s["events"] == N_ROWS
    assert s["missed_detections"] == 1 and s["duplicates"] == 1


def test_warmup_drops_early_cases_but_keeps_the_state(desk):
    s = summarize(desk, warmup_min=100.0)
    assert s["cases"] == {"generated": 3, "resolved": 0, "open": 3}  # C, D, E
    assert s["sla"]["overall"] == 0.0 and s["sla"]["pending"] == 1
    assert s["detection_latency_min"]["n"] == 2
    # A and B still open after the warm-up count in the backlog: 20 + 200 + 100 + 600 + 50
    assert s["backlog"] == {"mean": pytest.approx(970 / 900), "max": 3, "final": 3}
    little = s["littles_law"]
    assert little["lambda_W"] == pytest.approx(3 / 900 * 750 / 3)
    assert little["rel_error"] == pytest.approx(220 / 970)
    assert s["alerts"] == 3  # escalations at 160 and 520, the notification at 520
    assert s["alerts_per_agent_hour"] == pytest.approx(3 / 18)
    assert s["escalations_by_tier"] == {"tier1": 1, "tier2": 1}


def test_bad_warmup_and_several_reps_are_refused(desk):
    with pytest.raises(ValueError):
        summarize(desk, warmup_min=H + 1)
    with pytest.raises(ValueError, match="summarize_reps"):
        summarize(build_reps([DESK, DESK]))


def test_empty_log():
    s = summarize(build([]))
    assert s["cases"] == {"generated": 0, "resolved": 0, "open": 0}
    assert s["sla"]["overall"] is None and s["backlog"]["mean"] == 0.0
    assert s["littles_law"]["rel_error"] is None and s["alerts_per_agent_hour"] is None


def test_backlog_series(desk):
    total = backlog_series(desk, step_min=50.0)
    assert list(total.columns) == ["rep", "ts", "open"]
    assert total["ts"].iloc[-1] == H
    at = total.set_index("ts")["open"]
    assert (at[0.0], at[50.0], at[100.0], at[150.0], at[450.0], at[1000.0]) == (1, 2, 2, 1, 1, 3)
    by_team = backlog_series(desk, step_min=50.0, by="team")
    team = by_team.set_index(["ts", "team"])["open"]
    assert team[(50.0, "stock")] == 1 and team[(50.0, "unassigned")] == 1  # B not routed yet
    assert team[(100.0, "ops")] == 1 and team[(1000.0, "unassigned")] == 1  # C
    by_cat = backlog_series(desk, step_min=50.0, by="category")
    for grouped in (by_team, by_cat):
        pd.testing.assert_series_equal(
            grouped.groupby("ts")["open"].sum(), total.set_index("ts")["open"], check_names=False
        )
    with pytest.raises(ValueError):
        backlog_series(desk, by="site")


def test_get_path():
    s = {"sla": {"overall": 0.9, "by_category": {"a.b": 0.5}}}
    assert get_path(s, "sla.overall") == 0.9
    assert get_path(s, "sla.by_category.a.b") == 0.5
    with pytest.raises(KeyError, match="overall"):
        get_path(s, "sla.overal")
    with pytest.raises(KeyError):
        get_path(s, "sla.overall.x")


# -- random logs ----------------------------------------------------------------------------
CHAIN = ("detected", "classified", "assigned", "work_started", "resolved", "closed")
# round times often, so cases open and close at the same instant (the tricky ties)
random_case = st.fixed_dictionaries(
    {
        "occ": st.one_of(st.sampled_from([0.0, 100.0, 500.0, H]), st.floats(0, H)),
        "gaps": st.lists(
            st.one_of(st.sampled_from([0.0, 50.0, 100.0]), st.floats(0, 400)), max_size=len(CHAIN)
        ),
        "category": st.sampled_from(["stock_shortage", "picking_sla", "credit_hold"]),
        "sla": st.floats(0, 500),
        "dupes": st.integers(0, 2),
        "escalate": st.booleans(),
    }
)


def as_case(spec: dict) -> dict:
    """A random case spec as events, dropping whatever falls after the horizon."""
    t = spec["occ"]
    due = t + spec["sla"]
    events = [(t, "occurred", {})]
    for name, gap in zip(CHAIN, spec["gaps"], strict=False):
        t += gap
        extra = {} if name == "detected" else {"severity": "high", "due": due, "team": "ops"}
        events.append((t, name, extra))
        if name == "detected":
            events += [(t + k, "detected", {}) for k in range(1, spec["dupes"] + 1)]
        if name == "assigned" and spec["escalate"]:
            events.append((t + 30, "escalated", {"detail": "tier1", "due": due}))
    return {"category": spec["category"], "events": [e for e in events if e[0] <= H]}


def first(spec: dict, name: str) -> float:
    times = [ts for ts, ev, _ in as_case(spec)["events"] if ev == name]
    return min(times) if times else math.nan


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(random_case, max_size=25), st.floats(0, H))
def test_conservation_and_counts(specs, warmup):
    s = summarize(build([as_case(c) for c in specs]), warmup_min=warmup)
    gen = [c for c in specs if c["occ"] >= warmup]
    cases = s["cases"]
    assert cases["generated"] == len(gen)
    assert cases["resolved"] == sum(not math.isnan(first(c, "resolved")) for c in gen)
    assert cases["generated"] == cases["resolved"] + cases["open"]
    sla = s["sla"]
    assert sla["met"] + sla["breached"] + sla["pending"] + sla["no_due"] == len(gen)
    assert sum(s["aging_open"].values()) == s["backlog"]["final"]
    assert s["missed_detections"] == sum(math.isnan(first(c, "detected")) for c in gen)


def open_at(specs: list[dict], t: float) -> int:
    """Brute force: cases occurred by t and not closed (or resolved) by t."""
    n = 0
    for c in specs:
        end = first(c, "closed")
        end = first(c, "resolved") if math.isnan(end) else end
        n += c["occ"] <= t and not end <= t
    return n


def tie_case(occ: float, gaps: list[float]) -> dict:
    return {
        "occ": occ,
        "gaps": gaps,
        "category": "picking_sla",
        "sla": 60.0,
        "dupes": 0,
        "escalate": False,
    }


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(random_case, min_size=1, max_size=25), st.floats(0, H))
@example([tie_case(100.0, [0.0] * 5)], 0.0)  # opens and resolves at once: never open
@example([tie_case(0.0, [50.0, 50.0] + [0.0] * 4), tie_case(100.0, [])], 0.0)  # hand-over
def test_backlog_against_brute_force(specs, warmup):
    s = summarize(build([as_case(c) for c in specs]), warmup_min=warmup)
    times = {warmup, H} | {ts for c in specs for ts, _, _ in as_case(c)["events"]}
    assert s["backlog"]["final"] == open_at(specs, H)
    assert s["backlog"]["max"] == max(open_at(specs, t) for t in times if warmup <= t <= H)


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(random_case, min_size=1, max_size=25))
def test_littles_law_holds_exactly_from_time_zero(specs):
    little = summarize(build([as_case(c) for c in specs]))["littles_law"]
    assert little["lambda_W"] == pytest.approx(little["L"], rel=1e-9, abs=1e-12)


@settings(max_examples=examples(20), deadline=None)
@given(st.lists(st.lists(random_case, min_size=1, max_size=10), min_size=1, max_size=4))
def test_summarize_reps_is_the_mean_of_the_runs(runs):
    df = build_reps([[as_case(c) for c in cases] for cases in runs])
    agg = summarize_reps(df)
    singles = [summarize(build([as_case(c) for c in cases])) for cases in runs]
    assert agg["reps"] == len(runs)
    assert agg.keys() - {"ci95", "reps"} == singles[0].keys()
    paths = ["cases.generated", "backlog.mean", "sla.overall", "queue_wait_min.p90"]
    if any(s["escalations"] for s in singles):  # a tier no run saw has no key at all
        paths.append("escalations_by_tier.tier1")
    for path in paths:
        # a tier missing from one run's counts means none there
        values = [_get(s, path, 0 if path.startswith("escalations") else None) for s in singles]
        values = [v for v in values if v is not None]
        mean, ci = get_path(agg, path), get_path(agg["ci95"], path)
        if not values:
            assert mean is None and ci is None
            continue
        assert mean == pytest.approx(np.mean(values))
        if len(runs) == 1 and path == "sla.overall":  # one run: the Wilson interval
            sla = singles[0]["sla"]
            assert ci == pytest.approx(list(wilson(sla["met"], sla["met"] + sla["breached"])))
        elif len(values) < 2:
            assert ci is None
        elif np.std(values) == 0:
            assert ci == pytest.approx([values[0], values[0]])
        else:
            lo, hi = sps.t.interval(
                0.95, len(values) - 1, loc=np.mean(values), scale=sps.sem(values)
            )
            bounds = kpi_range(path, np.array(values, dtype=float))  # cut to what can be
            assert ci == pytest.approx([max(lo, bounds[0]), min(hi, bounds[1])])
            assert bounds[0] <= ci[0] <= ci[1] <= bounds[1]


def _get(summary: dict, path: str, default: object) -> object:
    try:
        return get_path(summary, path)
    except KeyError:
        return default


def test_summarize_reps_keeps_the_shape_for_one_run(desk):
    agg = summarize_reps(desk)
    single = summarize(desk)
    assert agg["reps"] == 1
    assert agg["sla"]["overall"] == pytest.approx(single["sla"]["overall"])
    lo, hi = agg["ci95"]["sla"]["overall"]  # one run: the Wilson interval of its cases
    assert 0.0 <= lo < single["sla"]["overall"] < hi <= 1.0
    assert agg["ci95"]["time_to_resolve_min"]["mean"] is None  # no interval from one run
    json.dumps(agg, allow_nan=False)


def test_wilson_stays_inside_zero_and_one_where_a_t_interval_would_not():
    assert wilson(20, 20)[1] == 1.0 and wilson(20, 20)[0] > 0.8
    assert wilson(0, 20)[0] == 0.0 and wilson(0, 20)[1] < 0.2
    assert wilson(0, 0) is None
    lo, hi = wilson(93, 100)
    assert lo < 0.93 < hi and hi - lo < 0.12


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=8))
def test_a_share_interval_never_leaves_zero_one_and_a_count_never_goes_below_zero(shares):
    from sim import stats

    runs = [{"sla": {"overall": x}, "cases": {"open": round(10 * x)}} for x in shares]
    _, cis = stats.aggregate(runs, ranges=kpi_range)
    lo, hi = cis["sla"]["overall"]
    assert 0.0 <= lo <= hi <= 1.0
    assert cis["cases"]["open"][0] >= 0.0
