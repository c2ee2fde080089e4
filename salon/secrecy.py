"""Where the database itself keeps ballot data: its logs, archives and replicas (SPEC §5, §5.1). Every ballot is
sealed, so what these hold is who voted beside ciphertexts that only the trustees together could open; a log of a
statement's values is still a warning (SPEC §5: ballot contents never reach logs), the rest are notes. Reads the
settings, asks the rule (salon.rules.secrecy) and says each finding in the reader's language with what to change.
Shown by `salon check-secrecy` (for the site admin) and on the bureau's settings page and home page.
It reads the database server's settings and no room's tables, so it sits below the rooms, beside salon.database
(which sets the settings it checks on every connection)."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import text

from salon.database import QUIET_SETTINGS
from salon.extensions import db
from salon.rules import secrecy as rules
from salon.rules.secrecy import Finding

# code → (what it means, what to change); %(setting)s and %(value)s are the finding's.
TEXTS = {
    "statement_log_values": (
        _l("The statement log (%(setting)s = %(value)s) records each ballot statement with its values: the "
           "seat's token hash beside its sealed ballot (ciphertexts and fingerprint), in one line."),
        _l("Set log_parameter_max_length = 0 (statements are then logged without their values), or turn this log "
           "off; or let the app's role set it for its own connections (GRANT SET ON PARAMETER "
           "log_parameter_max_length).")),
    "statement_log_text": (
        _l("Statements are logged (%(setting)s = %(value)s), but without their values: a ballot statement shows "
           "only placeholders."),
        _l("Nothing to change for ballots.")),
    "error_log_values": (
        _l("A failed statement is logged with its values (%(setting)s = %(value)s): a ballot refused by the "
           "database would be logged with its seat and its sealed ballot."),
        _l("Set log_parameter_max_length_on_error = 0.")),
    "auto_explain_values": (
        _l("auto_explain logs slow statements with their values (%(setting)s = %(value)s)."),
        _l("Set auto_explain.log_parameter_max_length = 0, or stop loading auto_explain.")),
    "stat_statements": (
        _l("pg_stat_statements keeps each statement's text and how often it ran, without values (Salon's ballot "
           "statements send their values apart): nothing of a ballot."),
        _l("Nothing to change.")),
    "archive": (
        _l("Write-ahead log archiving is on (%(setting)s = %(value)s): the archive keeps every ballot's writes, "
           "the seat's record beside its sealed ballot, for as long as archives are kept. No choice is readable in "
           "it; only the trustees together could open a ciphertext."),
        _l("Keep WAL archives no longer than needed and as protected as the database itself.")),
    "slots": (
        _l("%(value)s replication slots hold write-ahead log, with every ballot's writes (the seat's record beside "
           "its sealed ballot), until what reads them has read it."),
        _l("Drop the slots no longer used (pg_drop_replication_slot) and check what reads the others.")),
    "standbys": (
        _l("%(value)s standby servers receive every ballot's writes (the seat's record beside its sealed ballot): "
           "their logs, archives and backups hold the same as this server's."),
        _l("Check each standby's settings as well (salon check-secrecy against it).")),
    "wal_logical": (
        _l("wal_level = logical: a logical decoding slot could turn the ballots' writes back into rows."),
        _l("Use wal_level = replica unless logical replication is needed.")),
    "wal": (
        _l("The write-ahead log holds each ballot's writes until its segment is recycled after a checkpoint "
           "(wal_keep_size = %(value)s MB keeps more of it)."),
        _l("Nothing to change: ballots are sealed, so it holds no readable choice.")),
    "unreadable": (
        _l("The app's database role cannot read %(setting)s, so it was not checked."),
        _l("Grant pg_read_all_settings to the app's role, or have the site admin check it.")),
    "sqlite_secure_delete": (
        _l("SQLite's secure_delete is off (%(value)s): deleted ballot rows keep their bytes in the file."),
        _l("Let Salon open the database itself (it turns secure_delete on for every connection).")),
    "sqlite_wal": (
        _l("SQLite keeps recent changes in its write-ahead file (journal_mode = %(value)s) until a checkpoint: "
           "sealed ballots and who voted, no readable choice."),
        _l("Nothing to change.")),
    "sqlite_copies": (
        _l("Whether the database file is on a file system that takes snapshots, or is copied while a poll is "
           "open, cannot be seen from here: such a copy holds who voted beside the sealed ballots."),
        _l("Copy the file only when no poll is open (salon backup), and keep no snapshots of it.")),
}


@dataclass(frozen=True)
class Said:
    finding: Finding
    what: str
    change: str

    @property
    def warning(self) -> bool:
        return self.finding.severity == rules.WARNING


def read_postgresql(connection) -> tuple[dict, dict, int, int]:
    """(server settings, the app's session settings, replication slots, standbys) as the rule takes them."""
    names = list(rules.POSTGRESQL_SETTINGS)
    # One statement (the bureau's home page asks on every view): the counts on every row, and one row with no
    # setting when none of the names exists.
    rows = connection.execute(text(
        "SELECT s.name, s.reset_val, s.setting, c.slots, c.standbys FROM (SELECT"
        " (SELECT count(*) FROM pg_replication_slots) AS slots, (SELECT count(*) FROM pg_stat_replication) AS standbys)"
        " AS c LEFT JOIN pg_settings AS s ON s.name = ANY(:names)"), {"names": names}).all()
    server: dict[str, str | None] = {name: None for name in names}
    session: dict[str, str | None] = {}
    slots = standbys = 0
    for name, reset_val, setting, slots, standbys in rows:
        if name is None:
            continue
        server[name] = reset_val
        if name in QUIET_SETTINGS:
            session[name] = setting
    return server, session, int(slots), int(standbys)


def check() -> list[Finding]:
    """The findings for the database the app uses, read on the request's own connection (one of the app's
    connections, as salon.database set it up; on SQLite a second connection would wait for this one's lock)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        return rules.postgresql(*read_postgresql(connection))
    journal, secure_delete = connection.exec_driver_sql(
        "SELECT j.journal_mode, s.secure_delete FROM pragma_journal_mode() AS j, pragma_secure_delete() AS s").one()
    return rules.sqlite(str(journal), int(secure_delete))


def said(found: list[Finding]) -> list[Said]:
    """Each finding in the reader's language, warnings first."""
    out = []
    for finding in sorted(found, key=lambda f: f.severity != rules.WARNING):
        what, change = TEXTS[finding.code]
        out.append(Said(finding, str(what) % {"setting": finding.setting, "value": finding.value}, str(change)))
    return out
