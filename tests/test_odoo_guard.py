"""The test-database guard and the connection settings."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.odoo.guard import PARAM
from sim.odoo.settings import SettingsError, resolve


def _env(s) -> dict:
    return {
        "EXSIM_ODOO_URL": s.url,
        "EXSIM_ODOO_DB": s.db,
        "EXSIM_ODOO_USER": s.user,
        "EXSIM_ODOO_PASSWORD": s.password,
        "EXSIM_ODOO_API_KEY": s.api_key or "",  # JSON-2 on Odoo 19
    }


@pytest.mark.parametrize(
    "verb", [["seed"], ["deploy-policy"], ["inject", "--rate", "50"], ["cleanup"]]
)
def test_guard_refuses_unmarked_database(fake_odoo, odoo_settings, verb):
    fake_odoo.execute(2, "ir.config_parameter", "set_param", [PARAM, False])
    before = {m: len(fake_odoo.db.tables[m]) for m in fake_odoo.db.tables}
    try:
        result = CliRunner().invoke(app, ["odoo", *verb], env=_env(odoo_settings))
        after = {m: len(fake_odoo.db.tables[m]) for m in fake_odoo.db.tables}
    finally:
        fake_odoo.execute(2, "ir.config_parameter", "set_param", [PARAM, "1"])
    assert result.exit_code == 2, result.output
    assert "not marked as a test database" in result.output
    assert after == before  # nothing written


def test_mark_test_db_needs_the_flag(fake_odoo, odoo_settings):
    fake_odoo.execute(2, "ir.config_parameter", "set_param", [PARAM, False])
    try:
        no = CliRunner().invoke(app, ["odoo", "mark-test-db"], env=_env(odoo_settings))
        assert no.exit_code == 2
        assert fake_odoo.execute(2, "ir.config_parameter", "get_param", [PARAM]) is False
        yes = CliRunner().invoke(
            app, ["odoo", "mark-test-db", "--yes-this-is-a-test-database"], env=_env(odoo_settings)
        )
        assert yes.exit_code == 0, yes.output
        assert fake_odoo.execute(2, "ir.config_parameter", "get_param", [PARAM]) == "1"
    finally:
        fake_odoo.execute(2, "ir.config_parameter", "set_param", [PARAM, "1"])


def test_password_is_never_shown_and_warned_on_the_command_line():
    warnings = []
    s = resolve("http://127.0.0.1:1", "db", "u", "s3cret-pw", environ={}, warn=warnings.append)
    assert "s3cret-pw" not in repr(s) and "s3cret-pw" not in str(s)
    assert warnings and "command line" in warnings[0]
    quiet = []
    resolve(
        environ={
            "EXSIM_ODOO_URL": "https://h",
            "EXSIM_ODOO_DB": "d",
            "EXSIM_ODOO_USER": "u",
            "EXSIM_ODOO_PASSWORD": "x",
        },
        warn=quiet.append,
    )
    assert not quiet
    with pytest.raises(SettingsError, match="EXSIM_ODOO_PASSWORD"):
        resolve("http://h", "d", "u", environ={})
    with pytest.raises(SettingsError, match="EXSIM_ODOO_URL"):
        resolve("ftp://h", "d", "u", "p", environ={})


def test_bad_password_is_one_line_exit_2(odoo_settings):
    env = {
        **_env(odoo_settings),
        "EXSIM_ODOO_PASSWORD": "wrong-password",
        "EXSIM_ODOO_API_KEY": "wrong-key" if odoo_settings.api_key else "",
    }
    result = CliRunner().invoke(app, ["odoo", "seed"], env=env)
    assert result.exit_code == 2
    assert "login" in result.output and "wrong-password" not in result.output
    assert "wrong-key" not in result.output


def test_unknown_database_is_named_not_access_denied(odoo_settings):
    env = {**_env(odoo_settings), "EXSIM_ODOO_DB": "nosuchdb"}
    result = CliRunner().invoke(app, ["odoo", "check"], env=env)
    assert result.exit_code == 2
    assert f"database 'nosuchdb' does not exist on {odoo_settings.url}" in result.output
    assert "AccessDenied" not in result.output and len(result.output.strip().splitlines()) == 1
