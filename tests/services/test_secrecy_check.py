"""`salon check-secrecy` and what it reads, against the real databases (read-only: the shared PostgreSQL's
settings are never changed; the rule's warnings are tested on fixed inputs in tests/unit/test_secrecy_rules.py)."""
from __future__ import annotations

import pytest
from psycopg import errors
from sqlalchemy import text

from salon import secrecy
from salon.database import quiet_settings_allowed
from salon.extensions import db
from salon.rules import secrecy as rules


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_the_check_reads_this_database(app, database_url):
    found = secrecy.check()
    if database_url.startswith("postgresql"):
        connection = db.session.connection()
        server, session, slots, standbys = secrecy.read_postgresql(connection)
        assert server["wal_level"] == connection.execute(text("SHOW wal_level")).scalar_one()
        assert found == rules.postgresql(server, session, slots, standbys)
        assert ("wal", rules.NOTE) in {(f.code, f.severity) for f in found}
    else:
        assert {f.code for f in found} == {"sqlite_wal", "sqlite_copies"}  # the app's own pragmas hold


def test_the_app_keeps_parameter_values_out_of_the_log_where_its_role_may(app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's logging")
    with db.engine.connect() as connection:
        superuser = connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar_one()
        quieted = dict(connection.execute(text(
            "SELECT name, setting FROM pg_settings WHERE name LIKE 'log_parameter_max_length%'")).all())
        assert quieted["log_parameter_max_length_on_error"] == "0"  # any role may
        if superuser:
            assert quieted["log_parameter_max_length"] == "0"
    # A role that is not a superuser (a predefined one, so nothing is created on the shared server) may set only
    # the first; setting the others is refused, and the check then warns instead (the rule's tests).
    raw = db.engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()
        cursor.execute("BEGIN")
        cursor.execute("SET LOCAL ROLE pg_monitor")
        assert quiet_settings_allowed(cursor, raw.driver_connection.info.server_version) == [
            "log_parameter_max_length_on_error"]
        with pytest.raises(errors.InsufficientPrivilege):
            cursor.execute("SET LOCAL log_parameter_max_length = 0")
        cursor.execute("ROLLBACK")
    finally:
        raw.close()


def test_the_command_says_each_finding_and_exits_1_on_a_warning(cli, monkeypatch, database_url):
    calm = cli("check-secrecy", "--lang", "en")
    warned = any(f.severity == rules.WARNING for f in secrecy.check())
    assert calm.exit_code == (1 if warned else 0), calm.output
    assert "warnings" in calm.output and "->" in calm.output
    monkeypatch.setattr(secrecy, "check", lambda: [
        rules.Finding("statement_log_values", rules.WARNING, "log_statement", "all"),
        rules.Finding("archive", rules.NOTE, "archive_mode", "on")])
    result = cli("check-secrecy", "--lang", "en")
    assert result.exit_code == 1
    assert "WARNING  log_statement = all" in result.output and "token hash beside its sealed ballot" in result.output
    assert "NOTE  archive_mode = on" in result.output and "No choice is readable" in result.output
    assert result.output.index("WARNING") < result.output.index("NOTE")
    assert "1 warnings, 1 notes" in result.output
    chinese = cli("check-secrecy")
    assert chinese.exit_code == 1 and "token hash" not in chinese.output
