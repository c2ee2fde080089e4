"""Casting a ballot (every poll is sealed, SPEC §5.1), and the receipts voters look up.

Casting is one short transaction: take the poll's lock shared (on PostgreSQL an advisory lock,
salon.database.lock_poll; the close takes it exclusive, so it waits for ballots in flight and a ballot
arriving during a close waits for it), read the poll and check the window with the clock read under that
lock, record the seat as having voted (INSERT … ON CONFLICT DO NOTHING: of two ballots for one seat exactly one
inserts), and store the sealed ballot by its fingerprint (the voter's receipt) and its ciphertexts once each.
On PostgreSQL that is two statements after the token check: the lock, then CAST_SQL, which reads the poll and
makes every write, each only if the one before it was made (one round trip where SQLAlchemy took four; the
lock stays a statement of its own: see _cast_postgresql). SQLite runs the same steps through SQLAlchemy.
The proofs are checked, or plain choices sealed by the server, before the lock is taken. Nothing readable about
the choices is written, logged or audited. Receipt codes of the older form ("ABCD-EFGH-JKMN") belong to polls
closed before migration 0015; they are still published and looked up (normalise_receipt), never issued."""
from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import Integer, bindparam, exists, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from salon import clock
from salon.ballots.models import EligibleSeat, Poll, PollState, SealedBallot, SealedCiphertext, VoterRecord
from salon.database import POLL_LOCK_SHARED_SQL
from salon.errors import Conflict, Forbidden, NotFound, ValidationFailed
from salon.extensions import db
from salon.rules import ballots as rules

from . import sealing
from .open_polls import _shape
from .reading import has_voted

RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

_statements: dict[str, dict] = {}


def _check_window(row, programme_id: int, seat_id: int | None, now: datetime | None) -> datetime:
    if row is None or row.programme_id != programme_id:
        raise NotFound(_("Not found."), "poll_id")
    now = now or clock.utcnow()
    if row.state == PollState.DRAFT:
        raise Conflict(_("Voting has not opened yet."), "poll")
    if row.state == PollState.CLOSED or now >= row.closes_at:
        raise Conflict(_("Voting has closed; the ballot was not counted."), "poll")
    if seat_id is None:
        raise Forbidden(_("Only a community's secretary can vote."), "seat")
    return now


def _refuse_unrecorded(poll_id: int, seat_id: int) -> None:
    if has_voted(poll_id, seat_id):
        raise Conflict(_("Your community has already voted in this poll; a ballot is final."), "seat")
    raise Forbidden(_("Your community's seat is not eligible in this poll."), "seat")


def _cast_sealed(poll_id: int, seat_id: int | None, programme_id: int, now: datetime | None,
                 prepared: sealing.Prepared) -> str:
    """The short transaction of a sealed ballot: the poll's lock shared, the window, the seat recorded (eligible,
    once), the sealed ballot stored by fingerprint and its ciphertexts once each. No counter changes, no receipt
    code: nothing readable about the choices is written (the receipt is the fingerprint).

    A refusal raises before anything is returned, so the caller does not commit: the request's error path (or,
    outside a request, the caller) rolls the transaction back. Only a copied ballot can have written before it
    is refused (its seat's record and the ciphertexts that were new); every other refusal writes nothing."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.cursor()
        try:
            now, row, recorded, stored, written = _cast_postgresql(cursor, poll_id, seat_id, programme_id, now,
                                                                   prepared)
        finally:
            cursor.close()
        _check_poll(row, programme_id, seat_id, now, prepared)
    else:
        statements = _cast_statements(connection.dialect.name)
        # SQLite: BEGIN IMMEDIATE already made this the only writer (lock_poll would do nothing).
        row = connection.execute(statements["poll"], {"poll_id": poll_id}).first()
        _check_poll(row, programme_id, seat_id, now, prepared)
        params = {"poll_id": poll_id, "seat_id": seat_id, "programme_id": programme_id}
        recorded = connection.execute(statements["voter"], params,
                                      execution_options={"preserve_rowcount": True}).rowcount
        stored = written = 0
        if recorded == 1:
            stored = connection.execute(statements["alphas"],
                                        [{"poll_id": poll_id, "alpha": a} for a in prepared.alphas],
                                        execution_options={"preserve_rowcount": True}).rowcount
            if stored == len(prepared.alphas):
                written = connection.execute(statements["ballot"], {
                    "poll_id": poll_id, "fingerprint": prepared.fingerprint, "ballot": prepared.ballot_json,
                    "sealed_by": prepared.sealed_by}).rowcount
    if recorded != 1:
        _refuse_unrecorded(poll_id, seat_id)
    if stored != len(prepared.alphas):
        raise ValidationFailed(_("This sealed ballot repeats a ballot already cast."), "sealed")
    if written != 1:  # cannot happen: every ciphertext was new, so the fingerprint is too (it hashes them)
        raise RuntimeError(f"sealed ballot of poll {poll_id} not stored")
    return prepared.fingerprint


def _check_poll(row, programme_id: int, seat_id: int | None, now: datetime | None,
                prepared: sealing.Prepared) -> None:
    """The refusals that read the poll's row, in this order: not found, not open, closed, no seat, changed."""
    _check_window(row, programme_id, seat_id, now)
    if not row.sealed or row.seal != prepared.seal:
        sealing.forget_shape(row.id)  # read again on the next try
        raise _PollChanged(_("The poll changed; please reload and vote again."), "poll")


class _PollRow(NamedTuple):
    id: int
    state: PollState
    closes_at: datetime
    seal: str | None
    programme_id: int
    sealed: bool


def _cast_postgresql(cursor, poll_id: int, seat_id: int | None, programme_id: int, now: datetime | None,
                     prepared: sealing.Prepared):
    """PostgreSQL: the lock, then ONE statement (CAST_SQL) that reads the poll and makes every write; both plain
    SQL on the DB-API cursor of the session's connection (same transaction), sparing SQLAlchemy's execution
    layer on the hottest path. Answers the clock value the statement checked the window with, the poll's row
    (None if there is none) and what was written: the seat recorded (0 or 1), the ciphertexts stored, the ballot
    stored (0 or 1)."""
    # The poll's lock, shared (salon.database.lock_poll), in a statement of its own before the poll is read:
    # under READ COMMITTED each statement takes a new snapshot, so CAST_SQL sees a close that committed while
    # this one waited for the lock (a single statement would keep the snapshot taken before it waited).
    cursor.execute(POLL_LOCK_SHARED_SQL, {"poll_id": poll_id})
    now = now or clock.utcnow()  # read under the lock, as the SQLite path does
    cursor.execute(CAST_SQL, {
        "poll_id": poll_id, "seat_id": seat_id, "programme_id": programme_id, "now": now, "seal": prepared.seal,
        # An array literal: psycopg adapts one string far faster than a list. The alphas are the points' own hex
        # (sealing.prepare parsed them), never the client's text: nothing in them needs quoting.
        "alphas": "{%s}" % ",".join(prepared.alphas), "expected": len(prepared.alphas),
        "fingerprint": prepared.fingerprint, "ballot": prepared.ballot_json, "sealed_by": prepared.sealed_by})
    found, state, closes_at, seal, row_programme, sealed, recorded, stored, written = cursor.fetchone()
    row = None if not found else _PollRow(poll_id, PollState[state], closes_at, seal, row_programme, sealed)
    return now, row, recorded, stored, written


# A sealed ballot in one statement after the lock. The poll's row is read and returned (Python gives the refusal
# from it, _check_poll, with the same clock value); the writes happen only if the poll is the voter's programme's,
# open, before its closing time, sealed with the seal the ballot was checked against (the conditions _check_poll
# refuses on, evaluated here the same way). Each write reads the previous one's RETURNING rows, which orders them
# and makes each conditional on the one before: the seat is recorded only if eligible and not yet recorded
# (INSERT … ON CONFLICT DO NOTHING: of two ballots for one seat exactly one inserts; no seat, no eligible row),
# the ciphertexts are stored once each only if the seat was, and the ballot only if every ciphertext was new.
# A data-modifying CTE runs to completion whether or not it is read; count(*) reads `stored` whole before the
# ballot's insert is decided.
CAST_SQL = (
    "WITH poll AS (SELECT state, closes_at, seal, programme_id, sealed FROM ballot_polls WHERE id = %(poll_id)s),"
    " open AS (SELECT 1 FROM poll WHERE programme_id = %(programme_id)s"
    f" AND state = '{PollState.OPEN.name}' AND %(now)s < closes_at AND sealed AND seal = %(seal)s),"
    " voted AS (INSERT INTO ballot_voters (poll_id, seat_id, programme_id)"
    " SELECT %(poll_id)s, CAST(%(seat_id)s AS integer), %(programme_id)s FROM open WHERE EXISTS"
    " (SELECT 1 FROM ballot_eligible_seats WHERE poll_id = %(poll_id)s AND seat_id = CAST(%(seat_id)s AS integer))"
    " ON CONFLICT DO NOTHING RETURNING 1),"
    " stored AS (INSERT INTO ballot_sealed_alphas (poll_id, alpha)"
    " SELECT %(poll_id)s, alpha FROM unnest(CAST(%(alphas)s AS text[])) AS alpha WHERE EXISTS (SELECT 1 FROM voted)"
    " ON CONFLICT DO NOTHING RETURNING 1),"
    " ballot AS (INSERT INTO ballot_sealed (poll_id, fingerprint, ballot, sealed_by)"
    " SELECT %(poll_id)s, %(fingerprint)s, %(ballot)s, %(sealed_by)s FROM voted"
    " WHERE (SELECT count(*) FROM stored) = %(expected)s RETURNING 1)"
    " SELECT poll.state IS NOT NULL, poll.state, poll.closes_at, poll.seal, poll.programme_id, poll.sealed,"
    " (SELECT count(*) FROM voted), (SELECT count(*) FROM stored), (SELECT count(*) FROM ballot)"
    " FROM (SELECT 1) AS one LEFT JOIN poll ON true")


def _cast_statements(dialect: str) -> dict:
    """The casting statements (SQLite's, and the poll row's on both), built once per dialect with bound
    parameters (no per-ballot construction)."""
    built = _statements.get(dialect)
    if built is not None:
        return built
    polls, voters, eligible = Poll.__table__, VoterRecord.__table__, EligibleSeat.__table__
    poll_id, seat_id = bindparam("poll_id", type_=Integer), bindparam("seat_id", type_=Integer)
    programme_id = bindparam("programme_id", type_=Integer)
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    built = {
        "poll": select(polls.c.id, polls.c.state, polls.c.closes_at, polls.c.seal, polls.c.programme_id,
                       polls.c.sealed).where(polls.c.id == poll_id),
        # The seat is recorded only if eligible; of two ballots for one seat exactly one inserts.
        "voter": dialect_insert(voters).from_select(
            ["poll_id", "seat_id", "programme_id"],
            select(poll_id, seat_id, programme_id).where(exists().where(
                eligible.c.poll_id == poll_id, eligible.c.seat_id == seat_id)))
        .on_conflict_do_nothing(),
        # A sealed ballot's ciphertexts, each once per poll: a copied answer inserts fewer rows than it has.
        "alphas": dialect_insert(SealedCiphertext.__table__).on_conflict_do_nothing(),
        "ballot": insert(SealedBallot),
    }
    _statements[dialect] = built
    return built


def _answers(shape, choices: list[int]):
    """The ballot's answers per question (salon.rules.ballots.sort_ballot), or the error that names `choices`."""
    try:
        return rules.sort_ballot(list(shape.questions), list(choices))
    except rules.BallotRejected as exc:
        if exc.reason == "too_many":
            raise ValidationFailed(_("Choose at most %(n)d.", n=exc.limit), "choices")
        if exc.reason == "duplicate":
            raise ValidationFailed(_("Each option can be chosen only once."), "choices")
        raise ValidationFailed(_("Not an option of this poll."), "choices")


def check_choices(poll: Poll, choices: list[int]) -> None:
    """Validate a ballot before the confirmation step, with the errors `cast` would give."""
    _answers(_shape(poll.id, poll.seal), choices)


RECEIPT_TYPED_MAX = 80  # what a receipt lookup accepts as typed or pasted (spaces, hyphens; a 64-hex fingerprint)
FINGERPRINT_HEX = 64  # a sealed ballot's receipt: its SHA-256 fingerprint, published in lowercase hex


def normalise_receipt(typed) -> str:
    """A receipt code as a voter may type it — with spaces, without hyphens, in any case, full-width from a
    Chinese keyboard — in the published form "ABCD-EFGH-JKMN"; a sealed ballot's fingerprint (64 hex digits)
    in its published lowercase. Whatever cannot be either comes back cleaned but unformatted, so it matches
    nothing."""
    if not isinstance(typed, str):
        return ""
    cleaned = "".join(c for c in unicodedata.normalize("NFKC", typed[:RECEIPT_TYPED_MAX]).upper()
                      if c.isalnum())
    if len(cleaned) == FINGERPRINT_HEX and all(c in "0123456789ABCDEF" for c in cleaned):
        return cleaned.lower()
    if len(cleaned) == 12 and all(c in RECEIPT_ALPHABET for c in cleaned):
        return f"{cleaned[:4]}-{cleaned[4:8]}-{cleaned[8:]}"
    return cleaned


def cast(poll_id: int, seat_id: int | None, choices: list[int] | None, programme_id: int,
         now: datetime | None = None, sealed: dict | None = None) -> str:
    """Cast the seat's ballot; return its receipt, the sealed ballot's fingerprint (SPEC §5.1).

    Either a ballot sealed by the voter (`sealed`, its proofs checked here) or the plain choices, which the server
    seals (choices not given for a question make that answer blank; an empty list is a blank ballot). Both are
    done before the poll's lock is taken, so the lock is held only for the short writes."""
    if sealed is not None:
        cached = sealing.cached_shape(poll_id)
        if cached is not None and cached.programme_id == programme_id:
            # The remembered shape spares reading the poll before the proofs are checked; _cast_sealed compares
            # its seal with the row under the lock. Refused by it or by the proofs, the shape may be stale
            # (another database's poll of this id): read the poll and try once more, as without a cached shape.
            try:
                prepared = sealing.prepare(cached, None, sealed)
            except ValidationFailed:
                prepared = None
            if prepared is not None:
                try:
                    return _cast_sealed(poll_id, seat_id, programme_id, now, prepared)
                except _PollChanged:
                    pass
            sealing.forget_shape(poll_id)
    elif choices is None:
        raise ValidationFailed(_("Send the choices."), "choices")
    shape = sealing.sealed_shape(poll_id)
    if shape is None:
        _refuse_unopened(poll_id, seat_id, programme_id, now)
    if shape.programme_id != programme_id:
        raise NotFound(_("Not found."), "poll_id")
    answers = None if sealed is not None else _answers(_shape(poll_id, shape.seal), choices or [])
    return _cast_sealed(poll_id, seat_id, programme_id, now, sealing.prepare(shape, answers, sealed))


def _refuse_unopened(poll_id: int, seat_id: int | None, programme_id: int, now: datetime | None):
    """The answer for a poll with no sealed shape: not found, not yet open, or closed. A poll opened plain by a
    version before sealed ballots cannot be open (migration 0015 refuses to upgrade while one is)."""
    row = db.session.execute(_cast_statements(db.session.get_bind().dialect.name)["poll"],
                             {"poll_id": poll_id}).first()
    _check_window(row, programme_id, seat_id, now)
    raise Conflict(_("Voting has closed; the ballot was not counted."), "poll")


class _PollChanged(Conflict):
    """A sealed ballot checked against a shape whose seal is no longer the poll's (nothing was written)."""
