"""Engine set-up per dialect, the lock order, and the one place that commits: once per request, after success.

Lock order (PostgreSQL; SQLite serialises every writer at BEGIN IMMEDIATE, so it cannot deadlock):

1. The programme row, FOR NO KEY UPDATE, through `lock_programme()`: every write that records an audit event,
   and every time-based transition that changes shared rows, takes it *before* it updates, deletes or locks
   any other existing row. FOR NO KEY UPDATE, not FOR UPDATE: inserting a row that references the programme
   takes FOR KEY SHARE on it, which FOR UPDATE would wait for — two bureau members inviting at once
   deadlocked that way (issue 11).
2. A poll's advisory lock, through `lock_poll()` (a transaction-level advisory lock keyed by the poll's id,
   released at commit or rollback): shared by every write that must not interleave with the poll changing
   state (a ballot, a check-in adding an eligible seat), exclusive for the steps that change it (opening,
   closing), so a close waits for the ballots in flight and a ballot arriving during a close waits for it.
   It takes no row lock: ballots used to take FOR KEY SHARE on the poll row, and many transactions sharing
   a lock on one row make PostgreSQL create a MultiXact for it, which cost a ballot more than its writes.
3. The rows the write changes (several rows of one table in primary-key order). A write that counts or numbers
   the rows hanging off one parent locks that parent first, FOR UPDATE, through the owning room's service:
   `schedule.services.lock_session()` (a session's topic poll and decision, resolutions, action items, packet
   links), `programmes.services.lock_community()` (a community's nominations for a session).
4. The audit chain's tail: `audit.record()` appends under the lock of step 1.

Casting a ballot takes no programme lock (it records no audit event and must stay concurrent): the poll's
advisory lock, shared, first; then the seat's voter record, the ballot's ciphertexts, the sealed ballot (rows it
inserts; on PostgreSQL one statement after the lock's own, ballots.services.casting.CAST_SQL).
A check-in (audited, SPEC §4.1) takes step 1, then the shared poll lock, then the poll row (its eligible count). Opening and closing a poll
take steps 1, 2 (exclusive), 3, 4. Whatever takes the poll lock takes it before reading the poll: under
READ COMMITTED each later statement then sees everything a close committed before the lock was granted.

In tests (TESTING) `audit.record()` fails loudly when its transaction changed or locked a row before
taking the programme lock, so a new write path that breaks the order is caught by its own tests.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

from flask import Flask, abort, current_app, has_app_context, request
from sqlalchemy import column, event, exc, select, table, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession

from salon.extensions import db

log = logging.getLogger(__name__)
_PROGRAMMES = table("programmes", column("id"))
_LOCKS = "salon_programme_locks"
_UNLOCKED_WRITE = "salon_unlocked_write"

MAX_ID = 2**31 - 1  # PostgreSQL's integer; SQLite's is wider, but ids are the same everywhere


def as_id(value) -> int | None:
    """A primary key from user input, or None: not a whole number, or outside what a key can be."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 1 <= number <= MAX_ID else None


def lock_programme(programme_id: int) -> None:
    """Step 1 of the lock order: call it first in a write that records an audit event (once is enough)."""
    held = db.session.info.setdefault(_LOCKS, set())
    if programme_id in held:
        return
    db.session.execute(select(_PROGRAMMES.c.id).where(_PROGRAMMES.c.id == programme_id)
                       .with_for_update(key_share=True), execution_options={"salon_lock": True})
    held.add(programme_id)


# The advisory locks of step 2 use PostgreSQL's two-key form, (POLL_LOCK_CLASS, poll id): a key space apart
# from the one-key (bigint) form, which ballots.services.closing.SCRUB_LOCK_KEY uses, and POLL_LOCK_CLASS names these
# locks among any other two-key ones. Poll ids are PostgreSQL integers, so every poll has its own key.
POLL_LOCK_CLASS = 0x5A10B011
POLL_LOCK_SHARED_SQL = f"SELECT pg_advisory_xact_lock_shared({POLL_LOCK_CLASS}, CAST(%(poll_id)s AS integer))"
_POLL_LOCK_SQL = {True: text(f"SELECT pg_advisory_xact_lock_shared({POLL_LOCK_CLASS}, CAST(:poll_id AS integer))"),
                  False: text(f"SELECT pg_advisory_xact_lock({POLL_LOCK_CLASS}, CAST(:poll_id AS integer))")}


def lock_poll(poll_id: int, shared: bool) -> None:
    """Step 2 of the lock order, on PostgreSQL (SQLite's writers are already one at a time): shared for a
    write that needs the poll to stay as it is (a ballot, a check-in), exclusive to change its state (open,
    close). Call it before reading the poll; it is held until the transaction ends."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(_POLL_LOCK_SQL[shared], {"poll_id": poll_id}, execution_options={"salon_lock": True})


def check_lock_order(programme_id: int) -> None:
    """Called by audit.record: did this transaction change or lock a row before the programme lock?"""
    wrote = db.session.info.get(_UNLOCKED_WRITE)
    if not wrote or programme_id in db.session.info.get(_LOCKS, ()):
        return
    message = (f"lock order (salon/database.py): {wrote} ran before lock_programme({programme_id}); "
               "call lock_programme() at the start of the write")
    if has_app_context() and current_app.testing:
        raise AssertionError(message)
    log.warning(message)


_KEEP_IF_REFUSED = "salon_keep_if_refused"


def keep_if_refused(write: Callable[[], object]) -> None:
    """`write` records, in the current transaction, something that must outlast a refusal: the audit event of a
    refused attempt (salon.audit.services.record_refused). A request answered with an error is rolled back
    (commit_on_success below); its rollback is then followed by a transaction of its own that runs `write`
    again and commits. A request that succeeds (a page that shows the refusal as a message) commits the first
    write, and this one is dropped. Outside a request (the command line, tests) nothing is replayed."""
    db.session.info.setdefault(_KEEP_IF_REFUSED, []).append(write)


def _replay_refused() -> None:
    """After a refused request's rollback: run what keep_if_refused kept, in a transaction of its own."""
    writes = db.session.info.pop(_KEEP_IF_REFUSED, None)
    if not writes:
        return
    try:
        for write in writes:
            write()
        db.session.commit()
    except Exception:  # noqa: BLE001 - the refusal's answer stands even if its trace cannot be written
        log.warning("could not record a refused attempt after its request was rolled back", exc_info=True)
        end_failed_transaction()


def end_failed_transaction() -> None:
    """Roll back what the request did; never raises. On a connection the database has cut, the rollback fails
    as well: SQLAlchemy then discards that connection and every other one the pool held from before the cut, so
    the next request connects afresh (that is what makes Salon recover from a database restart on its own). A
    rollback that fails without SQLAlchemy seeing a disconnect (the server's last message arrived before the
    socket closed) would fail again when the session is closed, in the error handler or the request's teardown,
    where nothing can answer 503 any more (a 500 from the WSGI server): the session's connections are then
    invalidated, discarded without another rollback."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - whatever failed, the session must be left usable
        try:
            db.session.close()
        except Exception:  # noqa: BLE001
            db.session.invalidate()


def _new_transaction(session, _transaction, _connection) -> None:
    session.info.pop(_LOCKS, None)
    session.info.pop(_UNLOCKED_WRITE, None)
    session.info.pop(_KEEP_IF_REFUSED, None)  # kept for the transaction that ended, not for this one


def _committed(session) -> None:
    session.info.pop(_KEEP_IF_REFUSED, None)  # the first write committed: nothing to replay


def _note_unlocked_statement(state) -> None:
    if state.session.info.get(_LOCKS) or state.session.info.get(_UNLOCKED_WRITE):
        return
    if state.execution_options.get("salon_lock"):
        return
    locks = state.is_select and getattr(state.statement, "_for_update_arg", None) is not None
    if state.is_update or state.is_delete or locks:
        state.session.info[_UNLOCKED_WRITE] = f"{type(state.statement).__name__.lower()} {_table_of(state)}"


def _note_unlocked_flush(session, _context, _instances) -> None:
    if session.info.get(_LOCKS) or session.info.get(_UNLOCKED_WRITE):
        return
    changed = [obj for obj in session.dirty if session.is_modified(obj)] + list(session.deleted)
    if changed:
        session.info[_UNLOCKED_WRITE] = f"a flush changing {type(changed[0]).__name__}"


def _table_of(state) -> str:
    try:
        if state.is_update or state.is_delete:
            return state.statement.table.name
        return ", ".join(sorted(t.name for t in state.statement.get_final_froms()))
    except Exception:  # noqa: BLE001 - only for the message
        return ""


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (the pysqlite recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows are zeroed, and the write-ahead log shrinks back after each checkpoint: what is deleted (a
    # revoked token, a withdrawn nomination) does not linger in free pages or old log frames.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_size_limit=0")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # IMMEDIATE: take the write lock at BEGIN, so read-then-write transactions queue up
    # instead of failing with "database is locked" when two requests race.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _idle_since_checkin(_dbapi_connection, record) -> None:
    record.info["salon_idle_since"] = time.monotonic()


def _idle_check(idle_limit: float):
    """Test a pooled connection at check-out only when it sat idle longer than idle_limit seconds.

    Pre-pinging every check-out (pool_pre_ping) cost a round trip and an extra transaction on every request,
    which was 5–20% of a ballot's CPU. A connection in steady use is known to be alive; one that sat idle is
    the kind a database restart, a failover or a firewall's idle timeout has closed, so only those are tested
    (SELECT 1, then rollback). A dead one raises DisconnectionError, on which the pool discards it and hands
    out a fresh connection; the request never sees it. A connection that dies while in steady use fails the
    request that uses it (500, nothing committed), and SQLAlchemy then invalidates the whole pool, so the
    next requests get fresh connections."""

    def check(dbapi_connection, record, _proxy) -> None:
        since = record.info.get("salon_idle_since")
        if since is None or time.monotonic() - since < idle_limit:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_connection.rollback()
        except Exception as error:  # noqa: BLE001 - any failure here means: not usable
            raise exc.DisconnectionError() from error

    return check


def _postgresql_session(dbapi_connection, _record) -> None:
    """Once per new connection, in its own transaction: no parameter values in the server's log. No plan
    setting: plan_cache_mode stays PostgreSQL's default (auto) for every statement."""
    cursor = dbapi_connection.cursor()
    try:
        _quiet_parameter_logging(cursor, dbapi_connection.info.server_version)
    finally:
        cursor.close()
    dbapi_connection.commit()


# Settings that make the server's log record a statement's parameter values: for a ballot, the seat's token hash,
# the choices and the receipt in one line (docs/secrecy-leaks.md). 0 keeps the values out (the statement's text,
# with placeholders only, may still be logged). Only the first may be set by any role; the others need a
# superuser or, from PostgreSQL 15, GRANT SET ON PARAMETER. Where the role may not, `salon check-secrecy` and
# the bureau's settings page warn instead (salon.secrecy).
QUIET_SETTINGS = ("log_parameter_max_length_on_error", "log_parameter_max_length",
                  "auto_explain.log_parameter_max_length")


def quiet_settings_allowed(cursor, server_version: int) -> list[str]:
    """Which of QUIET_SETTINGS the connection's role may set (those of a module not loaded are not listed)."""
    allowed = "context = 'user' OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
    if server_version >= 150000:
        allowed += " OR has_parameter_privilege(name, 'SET')"
    cursor.execute(f"SELECT name FROM pg_settings WHERE name = ANY(%s) AND ({allowed}) ORDER BY name",
                   [list(QUIET_SETTINGS)])
    return [name for (name,) in cursor.fetchall()]


def _quiet_parameter_logging(cursor, server_version: int) -> None:
    """For the app's own connections: no parameter values in the server's log, where the role may say so."""
    for name in quiet_settings_allowed(cursor, server_version):
        cursor.execute(f"SET {name} = 0")  # a name from QUIET_SETTINGS


def configure_engine(engine: Engine, idle_limit: float = 10.0) -> None:
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        event.listen(engine, "connect", _postgresql_session)
        event.listen(engine.pool, "checkin", _idle_since_checkin)
        event.listen(engine.pool, "checkout", _idle_check(idle_limit))


# The lock-order check's listeners and keep_if_refused's bookkeeping, on every ORM session; installed by
# init_app, never by an import.
_SESSION_LISTENERS = (("after_begin", _new_transaction), ("do_orm_execute", _note_unlocked_statement),
                      ("before_flush", _note_unlocked_flush), ("after_commit", _committed))


def init_app(app: Flask) -> None:
    for name, listener in _SESSION_LISTENERS:
        if not event.contains(OrmSession, name, listener):
            event.listen(OrmSession, name, listener)
    with app.app_context():
        configure_engine(db.engine, float(app.config.get("SALON_DB_IDLE_CHECK_SECONDS", 10.0)))

    @app.before_request
    def ids_in_range():
        # An id in the URL that no row can have is a missing page, not a database error.
        for value in (request.view_args or {}).values():
            if isinstance(value, int) and as_id(value) is None:
                abort(404)

    @app.after_request
    def commit_on_success(response):
        if not db.session.registry.has():
            return response  # the request never used the session: nothing to end
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
            _replay_refused()
        return response

    @app.teardown_request
    def rollback_on_error(exc):
        # An error raised here would escape every handler (the WSGI server answers a bare 500): end the
        # transaction the way the 503 answer does, which never raises (docs/faults.md).
        if exc is not None:
            end_failed_transaction()
