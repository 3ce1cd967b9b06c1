"""One KPI catalogue (``sim.metrics.kpis``): every entry names a number real summaries carry,
each label means one thing, and the tables that show KPIs by name take them from it."""

from __future__ import annotations

import pytest

from sim import config, runner
from sim.metrics import get_path, summarize
from sim.metrics.kpis import CATALOGUE, HEADLINE, kpi


@pytest.fixture(scope="module")
def summaries() -> list[dict]:
    """An injected run with a time rule and an operations run with webhooks: between them
    every kind of number the catalogue lists (detection counters, business outcomes)."""
    out = []
    for scen, pol, days in (("default", "odoo-rules", 2), ("baseline", "webhook-n8n", 1)):
        scenario = config.load_scenario(scen, {"horizon_days": days})
        result = runner.run(scenario, config.load_policy(pol), runner.RunSettings(seed=2))
        out.append(summarize(result.frame()))
    return out


def _has(summary: dict, path: str) -> bool:
    try:
        value = get_path(summary, path)
    except KeyError:
        return False
    return value is None or isinstance(value, int | float)  # None: no such case in the run


def test_every_catalogued_kpi_is_a_number_of_a_summary(summaries) -> None:
    assert [p for p in CATALOGUE if not any(_has(s, p) for s in summaries)] == []


def test_a_label_means_one_kpi() -> None:
    labels = [k.label for k in CATALOGUE.values()]
    assert len(labels) == len(set(labels))
    assert all(k.unit and k.better in ("higher", "lower", "") for k in CATALOGUE.values())


def test_tables_showing_kpis_by_name_take_them_from_the_catalogue() -> None:
    from sim.cli import replay as replay_cli
    from sim.reports.comparison import KPIS as REPORT_KPIS

    assert set(replay_cli.KPIS) <= set(CATALOGUE)
    assert all(CATALOGUE[k.path] is k for k in REPORT_KPIS)
    assert kpi("sla.overall") is HEADLINE[0] and HEADLINE[0].label == "SLA attainment"
