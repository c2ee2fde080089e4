"""Which database settings keep ballot data outside the ballot tables (SPEC §5: ballot contents never reach logs;
"a copy of the database" includes its write-ahead log, archives and replicas). Every ballot is sealed (SPEC §5.1):
archives, slots and standbys hold who voted beside ciphertexts, never a readable choice, so they are notes; a log
of statements' values pairs a seat's token with its sealed ballot outside the database, a warning.
docs/secrecy-leaks.md says what each finding means and how it was established.

Pure: the caller reads the settings (salon.secrecy) and passes them in as text, None when unreadable.
What Salon's ballot statements carry: they bind their values as parameters (psycopg, server-side binding), so a
logged statement's text holds only placeholders; the values appear in a log only through the parameter logging
of log_parameter_max_length(_on_error) and auto_explain.log_parameter_max_length."""
from __future__ import annotations

from dataclasses import dataclass

WARNING = "warning"  # a setting that keeps ballot data where SPEC §5 says none may be: change it
NOTE = "note"  # a limit worth knowing, or something that could not be checked

# Server settings read (pg_settings.reset_val: what the configuration gives every session) …
POSTGRESQL_SETTINGS = (
    "log_statement", "log_min_duration_statement", "log_min_duration_sample", "log_statement_sample_rate",
    "log_transaction_sample_rate", "log_parameter_max_length", "log_min_error_statement",
    "log_parameter_max_length_on_error", "shared_preload_libraries", "session_preload_libraries",
    "auto_explain.log_min_duration", "auto_explain.log_parameter_max_length", "archive_mode", "archive_command",
    "archive_library", "wal_level", "wal_keep_size", "track_activity_query_size", "server_version_num")
# … and those the app sets for its own connections where its role may (salon.database.QUIET_SETTINGS).
PARAMETER_LOGGING = ("log_parameter_max_length", "log_parameter_max_length_on_error",
                     "auto_explain.log_parameter_max_length")


@dataclass(frozen=True)
class Finding:
    code: str  # stable; the texts are in salon.secrecy
    severity: str
    setting: str
    value: str = ""


def _int(value: str | None, default: int) -> int:
    try:
        return int(float(value)) if value not in (None, "") else default
    except ValueError:
        return default


def _libraries(value: str | None) -> set[str]:
    return {part.strip().strip('"') for part in (value or "").split(",") if part.strip()}


def postgresql(server: dict[str, str | None], session: dict[str, str | None], replication_slots: int,
               standbys: int) -> list[Finding]:
    """Findings for a PostgreSQL server. `server`: the configured values (None: unreadable by the app's role);
    `session`: the values the app's own connections run with (after salon.database quiets what it may)."""
    found: list[Finding] = []

    def values_logged(name: str) -> bool:
        """Parameter values are logged by the app's connections (0 turns parameter logging off)."""
        return _int(session.get(name, server.get(name)), -1) != 0

    statement_log = []
    if server.get("log_statement") == "all":
        statement_log.append(("log_statement", "all"))
    if _int(server.get("log_min_duration_statement"), -1) >= 0:
        statement_log.append(("log_min_duration_statement", server["log_min_duration_statement"]))
    if (_int(server.get("log_min_duration_sample"), -1) >= 0
            and float(server.get("log_statement_sample_rate") or 0) > 0):
        statement_log.append(("log_min_duration_sample", server["log_min_duration_sample"]))
    if float(server.get("log_transaction_sample_rate") or 0) > 0:
        statement_log.append(("log_transaction_sample_rate", server["log_transaction_sample_rate"]))
    for name, value in statement_log:
        if server.get("log_parameter_max_length") is None and session.get("log_parameter_max_length") is None:
            found.append(Finding("unreadable", NOTE, "log_parameter_max_length"))
        elif values_logged("log_parameter_max_length"):
            found.append(Finding("statement_log_values", WARNING, name, value))
        else:
            found.append(Finding("statement_log_text", NOTE, name, value))

    if server.get("log_min_error_statement") != "panic" and values_logged("log_parameter_max_length_on_error"):
        found.append(Finding("error_log_values", WARNING, "log_parameter_max_length_on_error",
                             session.get("log_parameter_max_length_on_error")
                             or server.get("log_parameter_max_length_on_error") or ""))

    preload = server.get("shared_preload_libraries")
    libraries = _libraries(preload) | _libraries(server.get("session_preload_libraries"))
    if preload is None:
        found.append(Finding("unreadable", NOTE, "shared_preload_libraries"))
    auto_explain = "auto_explain" in libraries or server.get("auto_explain.log_min_duration") is not None
    if auto_explain and _int(server.get("auto_explain.log_min_duration"), -1) >= 0:
        # Before PostgreSQL 16 auto_explain logs no parameter values.
        if (_int(server.get("server_version_num"), 0) >= 160000
                and values_logged("auto_explain.log_parameter_max_length")):
            found.append(Finding("auto_explain_values", WARNING, "auto_explain.log_min_duration",
                                 server.get("auto_explain.log_min_duration") or ""))
    if "pg_stat_statements" in libraries:
        found.append(Finding("stat_statements", NOTE, "pg_stat_statements"))

    archive_mode = server.get("archive_mode")
    if archive_mode in ("on", "always"):
        found.append(Finding("archive", NOTE, "archive_mode", archive_mode))
    elif archive_mode is None:
        found.append(Finding("unreadable", NOTE, "archive_mode"))
    if replication_slots:
        found.append(Finding("slots", NOTE, "pg_replication_slots", str(replication_slots)))
    if standbys:
        found.append(Finding("standbys", NOTE, "pg_stat_replication", str(standbys)))
    if server.get("wal_level") == "logical":
        found.append(Finding("wal_logical", NOTE, "wal_level", "logical"))
    found.append(Finding("wal", NOTE, "wal_keep_size", server.get("wal_keep_size") or "0"))
    return found


def sqlite(journal_mode: str, secure_delete: int) -> list[Finding]:
    """Findings for a SQLite file. Snapshots and backups of the file happen outside it: not knowable here."""
    found = []
    if secure_delete != 1:
        found.append(Finding("sqlite_secure_delete", WARNING, "secure_delete", str(secure_delete)))
    if journal_mode.lower() == "wal":
        found.append(Finding("sqlite_wal", NOTE, "journal_mode", journal_mode))
    found.append(Finding("sqlite_copies", NOTE, "file"))
    return found


def warnings(found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.severity == WARNING]
