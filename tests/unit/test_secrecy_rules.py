"""The rule that maps database settings to secrecy findings (salon.rules.secrecy), on fixed inputs."""
from __future__ import annotations

import pytest

from salon.rules import secrecy as rules

# PostgreSQL 15's defaults, as pg_settings.reset_val gives them.
DEFAULTS = {
    "log_statement": "none", "log_min_duration_statement": "-1", "log_min_duration_sample": "-1",
    "log_statement_sample_rate": "1", "log_transaction_sample_rate": "0", "log_parameter_max_length": "-1",
    "log_min_error_statement": "error", "log_parameter_max_length_on_error": "0", "shared_preload_libraries": "",
    "session_preload_libraries": "", "auto_explain.log_min_duration": None,
    "auto_explain.log_parameter_max_length": None, "archive_mode": "off", "archive_command": "(disabled)",
    "archive_library": "", "wal_level": "replica", "wal_keep_size": "0", "track_activity_query_size": "1024",
    "server_version_num": "150020"}


def codes(server=None, session=None, slots=0, standbys=0):
    found = rules.postgresql({**DEFAULTS, **(server or {})}, session or {}, slots, standbys)
    return {(f.code, f.severity, f.setting) for f in found}


def test_the_defaults_warn_of_nothing_and_note_the_write_ahead_log():
    assert codes() == {("wal", rules.NOTE, "wal_keep_size")}


@pytest.mark.parametrize("server,setting", [
    ({"log_min_duration_statement": "0"}, "log_min_duration_statement"),
    ({"log_min_duration_statement": "250"}, "log_min_duration_statement"),
    ({"log_statement": "all"}, "log_statement"),
    ({"log_min_duration_sample": "100", "log_statement_sample_rate": "0.1"}, "log_min_duration_sample"),
    ({"log_transaction_sample_rate": "0.01"}, "log_transaction_sample_rate"),
])
def test_a_statement_log_with_values_warns_and_without_values_only_notes(server, setting):
    assert ("statement_log_values", rules.WARNING, setting) in codes(server)
    quiet_server = codes({**server, "log_parameter_max_length": "0"})
    assert ("statement_log_text", rules.NOTE, setting) in quiet_server
    assert not any(severity == rules.WARNING for _c, severity, _s in quiet_server)
    # The app's own connections quieted (its role may set it): no warning either.
    assert not any(s == rules.WARNING for _c, s, _n in codes(server, {"log_parameter_max_length": "0"}))


@pytest.mark.parametrize("server", [{"log_statement": "mod"}, {"log_statement": "ddl"},
                                    {"log_min_duration_sample": "100", "log_statement_sample_rate": "0"},
                                    {"log_min_duration_statement": "-1"}])
def test_logs_that_do_not_record_ballot_statements_do_not_warn(server):
    assert codes(server) == codes()


def test_failed_statements_logged_with_values_warn_unless_quieted_or_never_logged():
    assert ("error_log_values", rules.WARNING, "log_parameter_max_length_on_error") in codes(
        {"log_parameter_max_length_on_error": "-1"})
    assert codes({"log_parameter_max_length_on_error": "-1"}, {"log_parameter_max_length_on_error": "0"}) == codes()
    assert codes({"log_parameter_max_length_on_error": "64", "log_min_error_statement": "panic"}) == codes()


def test_auto_explain_warns_from_postgresql_16_when_it_logs_values():
    loaded = {"shared_preload_libraries": "auto_explain", "auto_explain.log_min_duration": "0",
              "auto_explain.log_parameter_max_length": "-1"}
    assert codes(loaded) == codes()  # PostgreSQL 15: auto_explain logs no values, and plans are generic
    v16 = {**loaded, "server_version_num": "160004"}
    assert ("auto_explain_values", rules.WARNING, "auto_explain.log_min_duration") in codes(v16)
    assert codes({**v16, "auto_explain.log_parameter_max_length": "0"}) == codes()
    assert codes({**v16, "auto_explain.log_min_duration": "-1"}) == codes()
    assert codes(v16, {"auto_explain.log_parameter_max_length": "0"}) == codes()


def test_archiving_slots_and_standbys_are_notes_as_every_ballot_is_sealed():
    """They hold who voted beside ciphertexts (SPEC §5.1), no readable choice: worth knowing, not a warning."""
    assert ("archive", rules.NOTE, "archive_mode") in codes({"archive_mode": "on"})
    assert ("archive", rules.NOTE, "archive_mode") in codes({"archive_mode": "always"})
    assert ("slots", rules.NOTE, "pg_replication_slots") in codes(slots=1)
    assert ("standbys", rules.NOTE, "pg_stat_replication") in codes(standbys=2)
    assert not rules.warnings(rules.postgresql({**DEFAULTS, "archive_mode": "on"}, {}, 1, 2))
    assert ("wal_logical", rules.NOTE, "wal_level") in codes({"wal_level": "logical"})


def test_pg_stat_statements_is_only_a_note():
    found = codes({"shared_preload_libraries": "pg_stat_statements, \"auto_explain\""})
    assert ("stat_statements", rules.NOTE, "pg_stat_statements") in found
    assert not any(s == rules.WARNING for _c, s, _n in found)


def test_settings_the_role_cannot_read_are_noted_not_guessed():
    found = codes({"shared_preload_libraries": None, "archive_mode": None})
    assert {("unreadable", rules.NOTE, "shared_preload_libraries"), ("unreadable", rules.NOTE, "archive_mode")} <= found
    assert not any(s == rules.WARNING for _c, s, _n in found)


def test_sqlite():
    assert {f.code for f in rules.sqlite("wal", 1)} == {"sqlite_wal", "sqlite_copies"}
    assert rules.warnings(rules.sqlite("delete", 0)) == [rules.Finding("sqlite_secure_delete", rules.WARNING,
                                                                       "secure_delete", "0")]
