"""Engine set-up per dialect, and the one place that commits: once per request, after success."""
from __future__ import annotations

import time

from flask import Flask, abort, request
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

from salon.extensions import db

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


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (the pysqlite recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows are zeroed, and the write-ahead log shrinks back after each checkpoint: the scrub at a
    # poll's close must not leave the order of voting behind in free pages or old log frames (SPEC §5).
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


def configure_engine(engine: Engine, idle_limit: float = 10.0) -> None:
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        event.listen(engine.pool, "checkin", _idle_since_checkin)
        event.listen(engine.pool, "checkout", _idle_check(idle_limit))


def init_app(app: Flask) -> None:
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
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def rollback_on_error(exc):
        if exc is not None:
            db.session.rollback()
