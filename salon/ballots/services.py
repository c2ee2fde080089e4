"""Running a poll: draft → open → closed, casting a ballot, and what a closed poll publishes.

Casting is one short transaction: take the poll's lock shared (on PostgreSQL an advisory lock,
salon.database.lock_poll; the close takes it exclusive, so it waits for ballots in flight and a ballot
arriving during a close waits for it), read the poll and check the window with the clock read under that
lock, record the seat as having voted
(INSERT … ON CONFLICT DO NOTHING: of two ballots for one seat exactly one inserts), store a random receipt
code, and last, just before the commit, add one to a randomly picked shard of each chosen option's counter
(see Counter), so the contended counter row locks are held for as short a time as possible. Nothing about
the choices is logged or audited."""
from __future__ import annotations

import logging
import secrets
import sqlite3
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import Integer, bindparam, delete, event, exists, func, insert, select, tuple_, update
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as OrmSession

from salon import clock, registry
from salon.audit import services as audit
from salon.ballots import signals
from salon.ballots.models import Counter, EligibleSeat, Option, Poll, PollState, Question, Receipt, VoterRecord
from salon.ballots.models import PendingScrub
from salon.database import POLL_LOCK_SHARED_SQL, lock_poll, lock_programme
from salon.errors import Conflict, Forbidden, NotFound, ValidationFailed
from salon.extensions import db
from salon.rows import get_scoped
from salon.rules import ballots as rules

log = logging.getLogger(__name__)

RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SCRUBBED_TABLES = ("ballot_voters", "ballot_receipts", "ballot_counters")
# Counter rows per option while a poll is open (see Counter): enough that concurrent ballots rarely pick
# the same row; folded into one row per option when the poll closes.
COUNTER_SHARDS = 16


# --- building and running a poll ------------------------------------------------------------

def create_poll(programme_id: int, kind: str, title: str = "", closes_at: datetime | None = None,
                opens_at: datetime | None = None,
                min_published: int = 3, subject_id: int | None = None) -> Poll:
    if closes_at is None:
        raise ValidationFailed(_("Voting must close after it opens."), "closes_at")
    if opens_at is not None and closes_at <= opens_at:
        raise ValidationFailed(_("Voting must close after it opens."), "closes_at")
    poll = Poll(programme_id=programme_id, kind=kind, title=title[:200], opens_at=opens_at, closes_at=closes_at,
                min_published=min_published, subject_id=subject_id, state=PollState.DRAFT)
    db.session.add(poll)
    db.session.flush()
    return poll


def _draft_only(poll: Poll) -> None:
    if poll.state != PollState.DRAFT:
        raise Conflict(_("The poll has opened; its questions can no longer change."), "poll")


def add_question(poll: Poll, text: str = "", kind: str = rules.APPROVAL, max_choices: int = 1,
                 code: str | None = None, ref_id: int | None = None) -> Question:
    _draft_only(poll)
    if kind not in (rules.APPROVAL, rules.SINGLE):
        raise ValidationFailed(_("Unknown kind of question."), "kind")
    if kind == rules.SINGLE:
        max_choices = 1
    if max_choices < 1:
        raise ValidationFailed(_("At least one choice must be allowed."), "max_choices")
    position = db.session.scalar(select(func.count(Question.id)).where(Question.poll_id == poll.id))
    question = Question(programme_id=poll.programme_id, poll_id=poll.id, position=position, text=text[:300],
                        kind=kind, max_choices=max_choices, code=code, ref_id=ref_id)
    db.session.add(question)
    db.session.flush()
    db.session.add(Option(programme_id=poll.programme_id, poll_id=poll.id, question_id=question.id,
                          position=-1, label="", is_blank=True))
    return question


def add_option(question: Question, label: str = "", ref_id: int | None = None, code: str | None = None) -> Option:
    _draft_only(question.poll)
    position = db.session.scalar(select(func.count(Option.id)).where(
        Option.question_id == question.id, Option.is_blank.is_(False)))
    option = Option(programme_id=question.programme_id, poll_id=question.poll_id, question_id=question.id,
                    position=position, label=label[:200], ref_id=ref_id, code=code)
    db.session.add(option)
    db.session.flush()
    return option


def open_poll(poll: Poll, seat_ids: list[int], actor=None, now: datetime | None = None) -> Poll:
    """draft → open: fix the eligible seats and create a zero counter for every option."""
    lock_programme(poll.programme_id)  # lock order: salon/database.py
    lock_poll(poll.id, shared=False)
    now = now or clock.utcnow()
    db.session.refresh(poll, with_for_update=True)
    if poll.state != PollState.DRAFT:
        raise Conflict(_("Only a poll that has not opened yet can open."), "state")
    if now >= poll.closes_at:
        raise Conflict(_("The voting window has already ended."), "closes_at")
    option_ids = db.session.scalars(select(Option.id).where(Option.poll_id == poll.id)).all()
    if not option_ids:
        raise Conflict(_("A poll needs at least one question."), "questions")
    seat_ids = sorted(set(seat_ids))
    db.session.execute(insert(Counter), [
        {"option_id": oid, "shard": shard, "programme_id": poll.programme_id, "poll_id": poll.id, "n": 0}
        for oid in sorted(option_ids) for shard in range(COUNTER_SHARDS)])
    if seat_ids:
        db.session.execute(insert(EligibleSeat), [
            {"poll_id": poll.id, "seat_id": sid, "programme_id": poll.programme_id} for sid in seat_ids])
    poll.state = PollState.OPEN
    poll.opened_at = now
    poll.seal = secrets.token_hex(16)
    poll.counter_shards = COUNTER_SHARDS
    if poll.opens_at is None or poll.opens_at > now:
        poll.opens_at = now
    poll.eligible_count = len(seat_ids)
    db.session.flush()
    audit.record(poll.programme_id, actor, "poll.open", poll, kind=poll.kind, eligible=len(seat_ids))
    return poll


def add_eligible(poll_id: int, seat_id: int, programme_id: int, now: datetime | None = None) -> bool:
    """Make a seat eligible in an open poll (a secretary checking in at a review). True if it was added.

    Serialised against the close: the poll's lock, shared (salon.database.lock_poll), waits for a close in
    progress and makes a later close wait for it, yet never blocks ballots (they share it too); then FOR NO
    KEY UPDATE on the poll row, whose eligible count it changes, orders check-ins among themselves. Seats
    added after the close, or after the window ended, are refused, so `eligible_count` at the close is
    exactly who could vote. Adding a seat says nothing about any ballot."""
    now = now or clock.utcnow()
    lock_poll(poll_id, shared=True)
    poll = db.session.scalar(select(Poll).where(Poll.id == poll_id).with_for_update(key_share=True)
                             .execution_options(populate_existing=True))
    if poll is None or poll.programme_id != programme_id:
        raise NotFound(_("Not found."), "poll_id")
    if poll.state != PollState.OPEN or now >= poll.closes_at:
        raise Conflict(_("Voting has closed; check-in is over."), "poll")
    dialect = db.session.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    added = db.session.execute(
        dialect_insert(EligibleSeat).values(poll_id=poll.id, seat_id=seat_id, programme_id=programme_id)
        .on_conflict_do_nothing(), execution_options={"preserve_rowcount": True}).rowcount
    if added == 1:
        db.session.execute(update(Poll).where(Poll.id == poll.id)
                           .values(eligible_count=Poll.eligible_count + 1))
        db.session.refresh(poll)
    return added == 1


def remove_eligible(poll_id: int, seat_id: int, programme_id: int) -> bool:
    """Take a seat's eligibility back in an open poll (a seat marked present at a review by mistake) before it
    has voted. True if it was removed; Conflict once the seat has voted (its ballot stays counted).

    The poll's lock, exclusive, waits for any ballot of the poll in flight, so "has not voted" read after it
    holds until the commit: a ballot of the seat that starts later finds it no longer eligible."""
    lock_programme(programme_id)  # lock order: salon/database.py
    lock_poll(poll_id, shared=False)
    poll = db.session.scalar(select(Poll).where(Poll.id == poll_id).with_for_update()
                             .execution_options(populate_existing=True))
    if poll is None or poll.programme_id != programme_id:
        raise NotFound(_("Not found."), "poll_id")
    if poll.state != PollState.OPEN:
        raise Conflict(_("Voting has closed; the roll can no longer change."), "poll")
    if has_voted(poll_id, seat_id):
        raise Conflict(_("This community has already voted: it stays on the roll and its ballot stays counted."),
                       "seat_id")
    removed = db.session.execute(delete(EligibleSeat).where(EligibleSeat.poll_id == poll_id,
                                                            EligibleSeat.seat_id == seat_id),
                                 execution_options={"preserve_rowcount": True}).rowcount
    if removed == 1:
        db.session.execute(update(Poll).where(Poll.id == poll_id).values(eligible_count=Poll.eligible_count - 1))
        db.session.refresh(poll)
    return removed == 1


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
    _scrub(poll)
    db.session.flush()
    audit.record(poll.programme_id, actor, "poll.close", poll, kind=poll.kind, turnout=turnout(poll.id))
    signals.poll_closed.send(poll, actor=actor, now=now)  # e.g. an election is counted in the close itself
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


# --- casting ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shape:
    questions: tuple[rules.QuestionShape, ...]
    blank_of: dict[int, int]  # question id → its blank option


_shapes: OrderedDict = OrderedDict()


def _shape(poll_id: int, key) -> Shape:
    """Questions and options never change once a poll is open, so their shape is cached per open poll."""
    cached = _shapes.get(key)
    if cached is not None:
        return cached
    rows = db.session.execute(
        select(Question.id, Question.kind, Question.max_choices, Option.id, Option.is_blank)
        .join(Option, Option.question_id == Question.id).where(Question.poll_id == poll_id)).all()
    by_question: dict[int, tuple] = {}
    options: dict[int, set] = {}
    blank_of: dict[int, int] = {}
    for qid, kind, max_choices, oid, is_blank in rows:
        by_question[qid] = (kind, max_choices)
        if is_blank:
            blank_of[qid] = oid
        else:
            options.setdefault(qid, set()).add(oid)
    shape = Shape(tuple(rules.QuestionShape(qid, kind, k, frozenset(options.get(qid, ())))
                        for qid, (kind, k) in sorted(by_question.items())), blank_of)
    _shapes[key] = shape
    while len(_shapes) > 512:
        _shapes.popitem(last=False)
    return shape


def cached_shape(seal: str) -> Shape | None:
    """The shape cached for an opening of a poll (its seal), if this process has read it."""
    return _shapes.get(seal) if seal else None


# Polls this process has seen open, poll id → (seal, counter_shards): what the fast path (fast.py) needs to
# check a ballot before its one statement, which re-checks both against the poll row under its lock.
_open_polls: OrderedDict = OrderedDict()


def open_poll_seal(poll_id: int) -> tuple[str, int] | None:
    return _open_polls.get(poll_id)


def _remember_open(poll_id: int, seal: str | None, counter_shards: int) -> None:
    if seal and _open_polls.get(poll_id) != (seal, counter_shards):
        _open_polls[poll_id] = (seal, counter_shards)
        while len(_open_polls) > 512:
            _open_polls.popitem(last=False)


def picks(answers: dict[int, list[int]], shape: Shape, counter_shards: int) -> tuple[list[int], list[int]]:
    """The counter rows a ballot adds one to: each chosen option (a question's blank option when it has
    none chosen), in key order, each with a shard picked at random."""
    increments = sorted(oid for qid, chosen in answers.items() for oid in (chosen or [shape.blank_of[qid]]))
    shards = counter_shards or 1
    if 256 % shards == 0:  # e.g. COUNTER_SHARDS = 16: one random byte per pick is uniform, one call for all
        return increments, [b % shards for b in secrets.token_bytes(len(increments))]
    return increments, [secrets.randbelow(shards) for _ in increments]


# The counting steps of a ballot's statement on PostgreSQL, shared by the regular path (record_and_count) and
# the fast path (salon.ballots.fast): only if the receipt CTE stored a receipt, lock the picked counter shards
# in key order (ORDER BY … FOR UPDATE: two ballots never wait for each other's rows in opposite orders) and add
# one to each. Parameters: options, shards (integer array literals).
COUNT_CTES = (
    " picked AS (SELECT option_id, shard FROM ballot_counters"
    " WHERE option_id = ANY(CAST(%(options)s AS integer[]))"  # the primary key's prefix: an index scan
    " AND (option_id, shard) IN (SELECT * FROM unnest(CAST(%(options)s AS integer[]),"
    " CAST(%(shards)s AS integer[])))"
    " AND EXISTS (SELECT 1 FROM receipt)"
    " ORDER BY option_id, shard FOR UPDATE),"
    " counted AS (UPDATE ballot_counters AS c SET n = c.n + 1 FROM picked"
    " WHERE c.option_id = picked.option_id AND c.shard = picked.shard RETURNING 1)")

_statements: dict[str, dict] = {}


class PollRow(NamedTuple):
    state: PollState
    closes_at: datetime
    seal: str | None
    programme_id: int
    counter_shards: int


def _cast_statements(dialect: str) -> dict:
    """The casting statements, built once per dialect with bound parameters (no per-ballot construction)."""
    built = _statements.get(dialect)
    if built is not None:
        return built
    polls, voters, eligible = Poll.__table__, VoterRecord.__table__, EligibleSeat.__table__
    counters, receipts_ = Counter.__table__, Receipt.__table__
    poll_id, seat_id = bindparam("poll_id", type_=Integer), bindparam("seat_id", type_=Integer)
    programme_id = bindparam("programme_id", type_=Integer)
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    built = {
        # SQLite: BEGIN IMMEDIATE already made this the only writer, so the poll cannot close under it.
        "poll": select(polls.c.state, polls.c.closes_at, polls.c.seal, polls.c.programme_id, polls.c.counter_shards)
        .where(polls.c.id == poll_id),
        "voter": dialect_insert(voters).from_select(
            ["poll_id", "seat_id", "programme_id"],
            select(poll_id, seat_id, programme_id).where(exists().where(
                eligible.c.poll_id == poll_id, eligible.c.seat_id == seat_id)))
        .on_conflict_do_nothing(),
        "receipt": insert(receipts_).values(poll_id=poll_id, code=bindparam("code"), programme_id=programme_id),
    }
    if dialect == "postgresql":
        # PostgreSQL: plain SQL run on the DB-API cursor of the session's connection (same transaction),
        # sparing the per-statement work of SQLAlchemy's execution layer on the hottest path.
        # The ballot's writes in one statement (one round trip), in this order: record the seat (INSERT … ON
        # CONFLICT DO NOTHING, only if the seat is eligible: of two ballots for one seat exactly one inserts),
        # store the receipt only if the seat's record was inserted, then, only if the receipt was stored, lock
        # the picked counter shards in key order (ORDER BY … FOR UPDATE, so two ballots never wait for each
        # other's rows in opposite orders: no deadlock) and add one to each. Each step reads the previous
        # step's RETURNING rows, which is what orders them. Answers (seat recorded, counters changed).
        built["record_and_count"] = (
            "WITH voted AS (INSERT INTO ballot_voters (poll_id, seat_id, programme_id)"
            " SELECT %(poll_id)s, %(seat_id)s, %(programme_id)s WHERE EXISTS (SELECT 1 FROM ballot_eligible_seats"
            " WHERE poll_id = %(poll_id)s AND seat_id = %(seat_id)s)"
            " ON CONFLICT DO NOTHING RETURNING 1),"
            " receipt AS (INSERT INTO ballot_receipts (poll_id, code, programme_id)"
            " SELECT %(poll_id)s, %(code)s, %(programme_id)s FROM voted RETURNING 1),"
            + COUNT_CTES
            + " SELECT (SELECT count(*) FROM receipt), (SELECT count(*) FROM counted)")
        # The poll's lock, shared (salon.database.lock_poll), in a statement of its own before the poll is
        # read: under READ COMMITTED each later statement takes a new snapshot, so it sees a close that
        # committed while this one waited for the lock (one statement would keep its older snapshot).
        built["lock_sql"] = POLL_LOCK_SHARED_SQL
        built["poll_sql"] = ("SELECT state, closes_at, seal, programme_id, counter_shards FROM ballot_polls"
                             " WHERE id = %(poll_id)s")
    else:  # SQLite: one writer at a time (BEGIN IMMEDIATE), so no lock order to keep.
        built["count"] = update(counters).where(
            tuple_(counters.c.option_id, counters.c.shard).in_(bindparam("keys", expanding=True))
        ).values(n=counters.c.n + 1)
    _statements[dialect] = built
    return built


def check_choices(poll: Poll, choices: list[int]) -> None:
    """Validate a ballot before the confirmation step, with the errors `cast` would give."""
    shape = _shape(poll.id, poll.seal)
    try:
        rules.sort_ballot(list(shape.questions), list(choices))
    except rules.BallotRejected as exc:
        if exc.reason == "too_many":
            raise ValidationFailed(_("Choose at most %(n)d.", n=exc.limit), "choices")
        if exc.reason == "duplicate":
            raise ValidationFailed(_("Each option can be chosen only once."), "choices")
        raise ValidationFailed(_("Not an option of this poll."), "choices")


_UNBIASED = 256 - 256 % len(RECEIPT_ALPHABET)  # random bytes at or above it are dropped: every letter equally likely


RECEIPT_TYPED_MAX = 40  # what a receipt lookup accepts as typed (spaces, hyphens) before normalising


def normalise_receipt(typed) -> str:
    """A receipt code as a voter may type it — with spaces, without hyphens, in any case, full-width from a
    Chinese keyboard — in the published form "ABCD-EFGH-JKMN". Whatever cannot be a code comes back cleaned
    but unformatted, so it matches nothing."""
    if not isinstance(typed, str):
        return ""
    cleaned = "".join(c for c in unicodedata.normalize("NFKC", typed[:RECEIPT_TYPED_MAX]).upper()
                      if c.isalnum())
    if len(cleaned) == 12 and all(c in RECEIPT_ALPHABET for c in cleaned):
        return f"{cleaned[:4]}-{cleaned[4:8]}-{cleaned[8:]}"
    return cleaned


def new_receipt_code() -> str:
    """12 letters from RECEIPT_ALPHABET, uniformly at random (one call for the random bytes, not twelve)."""
    letters: list[str] = []
    while len(letters) < 12:
        letters += [RECEIPT_ALPHABET[b % len(RECEIPT_ALPHABET)] for b in secrets.token_bytes(16) if b < _UNBIASED]
    raw = "".join(letters[:12])
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def cast(poll_id: int, seat_id: int | None, choices: list[int], programme_id: int,
         now: datetime | None = None) -> str:
    """Cast the seat's ballot; return its receipt code. Choices not given for a question make that
    answer blank; an empty list is a blank ballot."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return _cast(connection, None, poll_id, seat_id, choices, programme_id, now)
    cursor = connection.connection.cursor()
    try:
        return _cast(connection, cursor, poll_id, seat_id, choices, programme_id, now)
    finally:
        cursor.close()


def _cast(connection, cursor, poll_id: int, seat_id: int | None, choices: list[int], programme_id: int,
          now: datetime | None) -> str:
    dialect = connection.dialect.name
    statements = _cast_statements(dialect)
    if dialect == "postgresql":
        cursor.execute(statements["lock_sql"], {"poll_id": poll_id})
        cursor.execute(statements["poll_sql"], {"poll_id": poll_id})
        found = cursor.fetchone()
        row = None if found is None else PollRow(PollState[found[0]], *found[1:])
    else:
        row = connection.execute(statements["poll"], {"poll_id": poll_id}).first()
    if row is None or row.programme_id != programme_id:
        raise NotFound(_("Not found."), "poll_id")
    now = now or clock.utcnow()
    if row.state == PollState.DRAFT:
        raise Conflict(_("Voting has not opened yet."), "poll")
    if row.state == PollState.CLOSED or now >= row.closes_at:
        raise Conflict(_("Voting has closed; the ballot was not counted."), "poll")
    if seat_id is None:
        raise Forbidden(_("Only a community's secretary can vote."), "seat")
    shape = _shape(poll_id, row.seal)
    try:
        answers = rules.sort_ballot(list(shape.questions), list(choices))
    except rules.BallotRejected as exc:
        if exc.reason == "too_many":
            raise ValidationFailed(_("Choose at most %(n)d.", n=exc.limit), "choices")
        if exc.reason == "duplicate":
            raise ValidationFailed(_("Each option can be chosen only once."), "choices")
        raise ValidationFailed(_("Not an option of this poll."), "choices")

    code = new_receipt_code()
    params = {"poll_id": poll_id, "seat_id": seat_id, "programme_id": programme_id}
    increments, shards = picks(answers, shape, row.counter_shards)
    if dialect == "postgresql":
        cursor.execute(statements["record_and_count"], {**params, "code": code, "options": increments,
                                                         "shards": shards})
        recorded, changed = cursor.fetchone()
    else:
        recorded = connection.execute(statements["voter"], params,
                                      execution_options={"preserve_rowcount": True}).rowcount
    if recorded != 1:
        if has_voted(poll_id, seat_id):
            raise Conflict(_("Your community has already voted in this poll; a ballot is final."), "seat")
        raise Forbidden(_("Your community's seat is not eligible in this poll."), "seat")
    if dialect != "postgresql":
        connection.execute(statements["receipt"], {**params, "code": code})
        # Last before the commit: the counter rows are what concurrent ballots contend for.
        changed = connection.execute(statements["count"], {"keys": list(zip(increments, shards))}).rowcount
    if changed != len(increments):
        raise Conflict(_("The poll changed; please reload and vote again."), "choices")
    if dialect == "postgresql":
        _remember_open(poll_id, row.seal, row.counter_shards)  # later ballots for it can take the fast path
    return code


# --- reading ----------------------------------------------------------------------------------

def get_poll(poll_id, programme_id: int) -> Poll:
    return get_scoped(Poll, poll_id, programme_id, "poll_id")


def has_voted(poll_id: int, seat_id: int | None) -> bool:
    if seat_id is None:
        return False
    return db.session.scalar(select(func.count()).select_from(VoterRecord).where(
        VoterRecord.poll_id == poll_id, VoterRecord.seat_id == seat_id)) > 0


def is_eligible(poll_id: int, seat_id: int | None) -> bool:
    if seat_id is None:
        return False
    return db.session.scalar(select(func.count()).select_from(EligibleSeat).where(
        EligibleSeat.poll_id == poll_id, EligibleSeat.seat_id == seat_id)) > 0


def turnout(poll_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(VoterRecord).where(VoterRecord.poll_id == poll_id))


def receipts(poll: Poll) -> list[str]:
    """The sorted receipt codes, published once the poll has closed."""
    if poll.state != PollState.CLOSED:
        return []
    return list(db.session.scalars(select(Receipt.code).where(Receipt.poll_id == poll.id).order_by(Receipt.code)))


@dataclass
class Results:
    state: PollState
    turnout: int
    eligible: int
    published: bool  # per-option counts shown (closed, and at least min_published ballots)
    counts: dict[int, int] = field(default_factory=dict)  # option id → n, when published
    blanks: dict[int, int] = field(default_factory=dict)  # question id → blank answers, when published
    ref_counts: dict[int, int] = field(default_factory=dict)  # option ref id → n, when published


def results(poll: Poll) -> Results:
    """Counts stay hidden until the close; below the minimum only the turnout is shown (SPEC §5)."""
    count = turnout(poll.id)
    published = poll.state == PollState.CLOSED and rules.counts_published(count, poll.min_published)
    out = Results(poll.state, count, poll.eligible_count, published)
    if published:
        for option_id, question_id, ref_id, is_blank, n in db.session.execute(
                select(Option.id, Option.question_id, Option.ref_id, Option.is_blank, func.sum(Counter.n))
                .join(Counter, Counter.option_id == Option.id).where(Option.poll_id == poll.id)
                .group_by(Option.id, Option.question_id, Option.ref_id, Option.is_blank)):
            n = int(n or 0)
            if is_blank:
                out.blanks[question_id] = n
            else:
                out.counts[option_id] = n
                if ref_id is not None:
                    out.ref_counts[ref_id] = n
    return out


@dataclass
class Tally:
    """The full count of a closed poll, for the server's own use (naming winners, finding ties, applying
    the re-election rule) whatever the publication minimum. What is *shown* still follows SPEC §5."""
    turnout: int
    eligible: int
    counts: dict[int, int]  # option id → n
    blanks: dict[int, int]  # question id → blank answers
    by_ref: dict[int, dict[int, int]]  # question id → {option ref id → n}
    by_code: dict[int, dict[str, int]]  # question id → {option code → n}


def tally(poll: Poll) -> Tally:
    if poll.state != PollState.CLOSED:
        raise Conflict(_("Voting is still open; decide after it closes."), "poll")
    out = Tally(turnout(poll.id), poll.eligible_count, {}, {}, {}, {})
    for option_id, question_id, ref_id, code, is_blank, n in db.session.execute(
            select(Option.id, Option.question_id, Option.ref_id, Option.code, Option.is_blank, func.sum(Counter.n))
            .join(Counter, Counter.option_id == Option.id).where(Option.poll_id == poll.id)
            .group_by(Option.id, Option.question_id, Option.ref_id, Option.code, Option.is_blank)):
        n = int(n or 0)
        if is_blank:
            out.blanks[question_id] = n
            continue
        out.counts[option_id] = n
        if ref_id is not None:
            out.by_ref.setdefault(question_id, {})[ref_id] = n
        if code is not None:
            out.by_code.setdefault(question_id, {})[code] = n
    return out


def question_results(poll: Poll, result: Results) -> list[dict]:
    """Per question: its options with their counts when published, and its blank answers."""
    return [{"question": q, "options": [(o, result.counts.get(o.id) if result.published else None)
                                        for o in q.options],
             "blank": result.blanks.get(q.id) if result.published else None} for q in poll.questions]


# --- what rooms ask about several polls at once (they never read the engine's tables) -------------

def get(poll_id: int | None) -> Poll | None:
    return db.session.get(Poll, poll_id) if poll_id is not None else None


def states(poll_ids: list[int]) -> dict[int, PollState]:
    if not poll_ids:
        return {}
    return dict(db.session.execute(select(Poll.id, Poll.state).where(Poll.id.in_(poll_ids))).all())


@dataclass(frozen=True)
class PollSummary:
    id: int
    state: PollState
    closes_at: datetime
    eligible_count: int
    eligible: bool = False  # the seat asked about may vote in it
    voted: bool = False  # the seat asked about has voted in it
    turnout: int = 0  # when asked for
    closed_at: datetime | None = None


def summaries(poll_ids: list[int], seat_id: int | None = None, turnout: bool = False) -> dict[int, PollSummary]:
    """State, closing time and eligible count of several polls, whether `seat_id` may vote and has voted in
    each, and (turnout=True) how many have voted: in one query (for lists and home pages)."""
    if not poll_ids:
        return {}
    columns = [Poll.id, Poll.state, Poll.closes_at, Poll.eligible_count, Poll.closed_at]
    if seat_id is not None:
        columns += [exists().where(EligibleSeat.poll_id == Poll.id, EligibleSeat.seat_id == seat_id).label("eligible"),
                    exists().where(VoterRecord.poll_id == Poll.id, VoterRecord.seat_id == seat_id).label("voted")]
    if turnout:
        columns.append(select(func.count()).select_from(VoterRecord).where(VoterRecord.poll_id == Poll.id)
                       .scalar_subquery().label("turnout"))
    found = {}
    for row in db.session.execute(select(*columns).where(Poll.id.in_(poll_ids))):
        found[row.id] = PollSummary(row.id, row.state, row.closes_at, row.eligible_count,
                                    bool(row.eligible) if seat_id is not None else False,
                                    bool(row.voted) if seat_id is not None else False,
                                    row.turnout if turnout else 0, row.closed_at)
    return found


# --- labels: stored as codes, translated when shown -------------------------------------------------

def register_kind(app, kind: str, title, labels: dict | None = None) -> None:
    """The owning room's init_app names its kind of poll: title(poll) -> str, and its codes' lazy strings."""
    wired = registry.of(app)
    wired.poll_titles[kind] = title
    wired.poll_labels.update(labels or {})


def poll_title(poll: Poll) -> str:
    compose = registry.of().poll_titles.get(poll.kind)
    return str(compose(poll)) if compose is not None else poll.title


def question_text(question: Question) -> str:
    labels = registry.of().poll_labels
    return str(labels[question.code]) if question.code in labels else question.text


def option_label(option: Option) -> str:
    labels = registry.of().poll_labels
    return str(labels[option.code]) if option.code in labels else option.label
