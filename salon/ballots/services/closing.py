"""The close (open → closed, by hand or when the window ends) and the scrub: the closing transaction rewrites
the poll's ballot rows in key order, and its after-commit step erases the old row versions from the database
files (see SECRECY in salon/ballots/__init__.py)."""
from __future__ import annotations

import logging
import secrets
import sqlite3
import time
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, event, func, insert, select
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as OrmSession

from salon import clock
from salon.audit import services as audit
from salon.ballots import signals
from salon.ballots.models import Counter, Option, Poll, PollState, Receipt, VoterRecord
from salon.ballots.models import PendingScrub
from salon.database import lock_poll, lock_programme
from salon.errors import Conflict
from salon.extensions import db

from . import sealing
from .reading import turnout

log = logging.getLogger(__name__)

SCRUBBED_TABLES = ("ballot_voters", "ballot_receipts", "ballot_counters")


def close_poll(poll: Poll, actor=None, now: datetime | None = None) -> Poll:
    """open → closed. The poll's lock, exclusive, waits for every ballot in flight (they hold it shared) to
    commit; the statements after it see them all."""
    lock_programme(poll.programme_id)  # lock order: salon/database.py
    lock_poll(poll.id, shared=False)
    now = now or clock.utcnow()
    db.session.refresh(poll, with_for_update=True)
    if poll.state != PollState.OPEN:
        raise Conflict(_("Only an open poll can close."), "state")
    poll.state = PollState.CLOSED
    poll.closed_at = now
    if poll.closes_at > now:
        poll.closes_at = now
    if poll.sealed:
        # SPEC §5.1: the encrypted sums; nothing plain was ever written, so there is nothing to scrub. The
        # counts come when k trustees have decrypted the sums (sealing.record_decryption sends poll_counted), or
        # at once below the minimum when no sum is to be decrypted (sealing.count_at_close, below).
        sealing.tally_at_close(poll)
    else:
        _scrub(poll)
    db.session.flush()
    audit.record(poll.programme_id, actor, "poll.close", poll, kind=poll.kind, turnout=turnout(poll.id))
    signals.poll_closed.send(poll, actor=actor, now=now)
    if not poll.sealed:
        signals.poll_counted.send(poll, actor=actor, now=now)  # e.g. an election is counted in the close itself
    else:
        sealing.count_at_close(poll, now)  # no sum to decrypt below the minimum (SPEC §5): counted now, no trustee
    return poll


def close_unopened(poll: Poll, now: datetime) -> Poll:
    """draft → closed without ever opening: a poll whose window passed before it could open (no trustees' key was
    ready, SPEC §5.1). No seat was eligible and no ballot exists, so its counts (zeros) are known at once:
    poll_closed and poll_counted are sent as for any close."""
    lock_programme(poll.programme_id)  # lock order: salon/database.py
    lock_poll(poll.id, shared=False)
    db.session.refresh(poll, with_for_update=True)
    if poll.state != PollState.DRAFT:
        raise Conflict(_("Only a poll that has not opened yet can close unopened."), "state")
    option_ids = db.session.scalars(select(Option.id).where(Option.poll_id == poll.id)).all()
    if option_ids:
        db.session.execute(insert(Counter), [
            {"option_id": oid, "shard": 0, "programme_id": poll.programme_id, "poll_id": poll.id, "n": 0}
            for oid in sorted(option_ids)])
    poll.state = PollState.CLOSED
    poll.opened_at = poll.closed_at = now
    poll.opens_at = min(poll.opens_at or now, now)
    poll.closes_at = min(poll.closes_at, now)
    poll.seal = secrets.token_hex(16)
    poll.counter_shards = 1
    poll.eligible_count = 0
    db.session.flush()
    audit.record(poll.programme_id, None, "poll.close", poll, kind=poll.kind, turnout=0, unopened=True)
    signals.poll_closed.send(poll, actor=None, now=now)
    signals.poll_counted.send(poll, actor=None, now=now)
    return poll


def close_due(now: datetime, programme_id: int | None = None) -> list[Poll]:
    """Close every open poll whose window has ended (lazily on a request, and by `salon tick`)."""
    query = select(Poll).where(Poll.state == PollState.OPEN, Poll.closes_at <= now)
    if programme_id is not None:
        query = query.where(Poll.programme_id == programme_id)
    closed = []
    for poll in db.session.scalars(query).all():
        lock_programme(poll.programme_id)
        lock_poll(poll.id, shared=False)
        db.session.refresh(poll, with_for_update=True)
        if poll.state == PollState.OPEN:
            close_poll(poll, None, now)
            closed.append(poll)
    return closed


def _scrub(poll: Poll) -> None:
    """Rewrite the poll's voter, receipt and counter rows in key order inside the closing transaction,
    so neither physical order nor the writing transaction follows the order of voting (see SECRECY).
    Each option's counter shards are folded into one row (shard 0) holding its total.

    The old row versions are still in the tables' files after this commits; the closing transaction
    therefore also records a PendingScrub, and the after-commit step (scrub_pending) rewrites the files."""
    seats = db.session.scalars(select(VoterRecord.seat_id).where(VoterRecord.poll_id == poll.id)
                               .order_by(VoterRecord.seat_id)).all()
    codes = db.session.scalars(select(Receipt.code).where(Receipt.poll_id == poll.id)
                               .order_by(Receipt.code)).all()
    db.session.execute(delete(VoterRecord).where(VoterRecord.poll_id == poll.id))
    db.session.execute(delete(Receipt).where(Receipt.poll_id == poll.id))
    if seats:
        db.session.execute(insert(VoterRecord), [
            {"poll_id": poll.id, "seat_id": s, "programme_id": poll.programme_id} for s in seats])
    if codes:
        db.session.execute(insert(Receipt), [
            {"poll_id": poll.id, "code": c, "programme_id": poll.programme_id} for c in codes])
    totals = db.session.execute(select(Counter.option_id, func.sum(Counter.n)).where(Counter.poll_id == poll.id)
                                .group_by(Counter.option_id).order_by(Counter.option_id)).all()
    db.session.execute(delete(Counter).where(Counter.poll_id == poll.id))
    if totals:
        db.session.execute(insert(Counter), [
            {"option_id": oid, "shard": 0, "programme_id": poll.programme_id, "poll_id": poll.id, "n": int(n or 0)}
            for oid, n in totals])
    xid = None
    if db.session.get_bind().dialect.name == "postgresql":
        xid = int(db.session.scalar(text("SELECT CAST(pg_current_xact_id() AS text)")))
    db.session.execute(insert(PendingScrub).values(poll_id=poll.id, programme_id=poll.programme_id, closed_xid=xid))
    db.session.info.setdefault("salon_after_commit", set()).add("scrub")


def install_listeners() -> None:
    """Installed by the room's init_app (never by an import): a closing poll's after-commit step."""
    if not event.contains(OrmSession, "after_commit", _after_commit):
        event.listen(OrmSession, "after_commit", _after_commit)


def _after_commit(session) -> None:
    if not session.info.pop("salon_after_commit", None):
        return
    try:
        if not scrub_pending(session.get_bind()):
            log.warning("a closed poll's ballots could not yet be erased from the database files; "
                        "`salon tick` retries")
    except Exception:  # noqa: BLE001 - the close itself has committed; its PendingScrub makes tick retry
        log.warning("could not rewrite the ballot tables after closing a poll; `salon tick` retries",
                    exc_info=True)


# How long the after-commit step waits for transactions older than the close to end, and for the table
# locks of the rewrite, before leaving the work to `salon tick`. Ballots of other polls wait behind the
# rewrite's lock while it runs (see README, "Secret ballots and their limits").
SCRUB_HORIZON_WAIT = 5.0
SCRUB_LOCK_TIMEOUT_MS = 2000
SCRUB_LOCK_KEY = 0x5A105C2B  # pg_advisory_lock key: one scrub at a time

# VACUUM FULL copies into the new file every row version that some snapshot may still see ("recently
# dead"), so it must start only once nothing at or before the close's transaction id holds the horizon back:
# the snapshots of this database's sessions and of walsenders (hot_standby_feedback); the transactions
# still running in any database (they hold back the xmin of every new snapshot, VACUUM FULL's own too);
# replication slots, prepared transactions (and, PostgreSQL < 16, vacuum_defer_cleanup_age).
_HORIZON = """
  SELECT pid, backend_xid AS x FROM pg_stat_activity WHERE pid <> pg_backend_pid()
  UNION ALL SELECT pid, backend_xmin FROM pg_stat_activity
   WHERE pid <> pg_backend_pid() AND (datname = current_database() OR datname IS NULL)
  UNION ALL SELECT NULL, xmin FROM pg_replication_slots
  UNION ALL SELECT NULL, transaction FROM pg_prepared_xacts
  UNION ALL SELECT NULL, CAST(:xid AS xid) WHERE age(CAST(:xid AS xid))
   <= COALESCE(CAST(current_setting('vacuum_defer_cleanup_age', true) AS integer), 0)
"""
_OLDER_THAN_CLOSE = text(f"""
SELECT count(*) FROM ({_HORIZON}) AS horizon
WHERE x IS NOT NULL AND age(x) >= age(CAST(:xid AS xid))
  - COALESCE(CAST(current_setting('vacuum_defer_cleanup_age', true) AS integer), 0)
""")
_OLDER_SESSIONS = text(f"""
SELECT concat_ws(' ', datname, backend_type, 'pid', pid, state, 'since', CAST(xact_start AS text))
  FROM pg_stat_activity WHERE pid IN (SELECT pid FROM ({_HORIZON}) AS horizon
                                       WHERE x IS NOT NULL AND age(x) >= age(CAST(:xid AS xid)))
""")
_FILENODES = text("SELECT relname, pg_relation_filenode(oid) FROM pg_class "
                  "WHERE relname IN :names AND relkind = 'r' AND relnamespace = CAST(current_schema() AS regnamespace)"
                  ).bindparams(bindparam("names", expanding=True))


def scrub_pending(engine, wait: float | None = None) -> bool:
    """Erase closed polls' ballots from the database files; True when no closed poll is left to scrub.

    PostgreSQL: VACUUM FULL writes each ballot table into a new file holding only the live rows (the
    close's rewrite, one transaction id for the poll's rows) and rebuilds its indexes; the old files, with
    every dead row version and its ballot's transaction id, are dropped. Plain VACUUM would not do: it
    leaves the removed tuples' bytes in the pages' free space. It runs only once no snapshot older than
    the close remains (else the old versions would be copied as "recently dead"), and counts as done only
    if every table really got a new file (VACUUM skips, with a warning, tables the role does not own).
    SQLite: deleted content is zeroed (secure_delete) and the write-ahead log is checkpointed and emptied."""
    wait = SCRUB_HORIZON_WAIT if wait is None else wait
    if engine.dialect.name == "postgresql":
        return _scrub_postgresql(engine, wait)
    if engine.dialect.name == "sqlite":
        return _scrub_sqlite(engine)
    return True


def _scrub_postgresql(engine, wait: float) -> bool:
    deadline = time.monotonic() + wait
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # One scrub at a time (closes at the same deadline would otherwise queue VACUUM FULLs behind each
        # other's locks); the one running repeats while closes commit during its rewrite.
        while not conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": SCRUB_LOCK_KEY}):
            if time.monotonic() >= deadline:
                return conn.scalar(select(func.count()).select_from(PendingScrub)) == 0
            time.sleep(0.05)
        try:
            for _round in range(3):
                pending, upto = conn.execute(select(func.count(), func.max(PendingScrub.closed_xid))).one()
                if not pending:
                    return True
                if not _rewrite_ballot_tables(conn, upto, deadline):
                    return False
            return conn.scalar(select(func.count()).select_from(PendingScrub)) == 0
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCRUB_LOCK_KEY})


def _rewrite_ballot_tables(conn, upto: int | None, deadline: float) -> bool:
    if upto is None:  # a marker without a transaction id (written elsewhere): scrub up to now
        upto = int(conn.scalar(text("SELECT CAST(pg_current_xact_id() AS text)")))
    started = time.monotonic()
    while conn.scalar(_OLDER_THAN_CLOSE, {"xid": str(upto % 2**32)}):
        if time.monotonic() >= deadline:
            log.warning("ballot tables not rewritten yet: transactions older than a poll's close still "
                        "run (%s)", ", ".join(conn.scalars(_OLDER_SESSIONS, {"xid": str(upto % 2**32)})))
            return False
        time.sleep(0.05)
    waited = time.monotonic() - started
    before = dict(conn.execute(_FILENODES, {"names": list(SCRUBBED_TABLES)}).all())
    conn.exec_driver_sql(f"SET lock_timeout = {int(SCRUB_LOCK_TIMEOUT_MS)}")
    try:
        for table in SCRUBBED_TABLES:  # one table at a time: each lock is held only for its own rewrite
            conn.exec_driver_sql(f"VACUUM (FULL) {table}")
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available: lock_timeout expired
            raise
        log.warning("ballot tables not rewritten yet: %s was in use for more than %d ms", table,
                    SCRUB_LOCK_TIMEOUT_MS)
        return False
    finally:
        conn.exec_driver_sql("RESET lock_timeout")
    after = dict(conn.execute(_FILENODES, {"names": list(SCRUBBED_TABLES)}).all())
    if set(after) != set(SCRUBBED_TABLES) or any(before.get(t) == after[t] for t in SCRUBBED_TABLES):
        log.warning("VACUUM FULL did not rewrite the ballot tables (does the database role own them?)")
        return False
    conn.execute(delete(PendingScrub).where(func.coalesce(PendingScrub.closed_xid, 0) <= upto))
    log.info("ballot tables rewritten in %.0f ms, after waiting %.0f ms for older transactions",
             1000 * (time.monotonic() - started - waited), 1000 * waited)
    return True


def _scrub_sqlite(engine) -> bool:
    with engine.connect() as conn:
        polls = conn.scalars(select(PendingScrub.poll_id)).all()
    if not polls:
        return True
    path = engine.url.database
    if path not in (None, "", ":memory:") and not truncate_sqlite_wal(path):
        return False
    with engine.begin() as conn:
        conn.execute(delete(PendingScrub).where(PendingScrub.poll_id.in_(polls)))
    if path not in (None, "", ":memory:"):
        truncate_sqlite_wal(path)  # the log now holds only the marker's removal; empty it too if it can be
    return True


def truncate_sqlite_wal(path: str, attempts: int = 20, pause: float = 0.05) -> bool:
    """Empty the write-ahead log, whose frames would otherwise keep each ballot's writes after the close.

    A checkpoint cannot finish while another connection reads; requests are short, so wait for them."""
    raw = sqlite3.connect(path, timeout=0.2)  # the busy handler waits for readers up to this, per try
    try:
        for _attempt in range(attempts):
            busy, _frames, _done = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return True
            time.sleep(pause)
        return False
    finally:
        raw.close()
