"""Casting a ballot, and the receipt codes it returns.

Casting is one short transaction: take the poll's lock shared (on PostgreSQL an advisory lock,
salon.database.lock_poll; the close takes it exclusive, so it waits for ballots in flight and a ballot
arriving during a close waits for it), read the poll and check the window with the clock read under that
lock, record the seat as having voted
(INSERT … ON CONFLICT DO NOTHING: of two ballots for one seat exactly one inserts), store a random receipt
code, and last, just before the commit, add one to a randomly picked shard of each chosen option's counter
(see Counter), so the contended counter row locks are held for as short a time as possible. Nothing about
the choices is logged or audited."""
from __future__ import annotations

import secrets
import unicodedata
from datetime import datetime
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import Integer, bindparam, exists, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from salon import clock
from salon.ballots.models import (Counter, EligibleSeat, Poll, PollState, Receipt, SealedBallot, SealedCiphertext,
                                  VoterRecord)
from salon.database import POLL_LOCK_SHARED_SQL, lock_poll
from salon.errors import Conflict, Forbidden, NotFound, ValidationFailed
from salon.extensions import db
from salon.rules import ballots as rules

from . import sealing
from .open_polls import COUNT_CTES, _remember_open, _shape, forget_open, open_poll_seal, picks
from .reading import has_voted

RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

_statements: dict[str, dict] = {}


class PollRow(NamedTuple):
    state: PollState
    closes_at: datetime
    seal: str | None
    programme_id: int
    counter_shards: int
    sealed: bool


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
    code: nothing readable about the choices is written (the receipt is the fingerprint)."""
    connection = db.session.connection()
    statements = _cast_statements(connection.dialect.name)
    lock_poll(poll_id, shared=True)
    row = connection.execute(statements["poll"], {"poll_id": poll_id}).first()
    now = _check_window(row, programme_id, seat_id, now)
    if not row.sealed or row.seal != prepared.seal:
        sealing.forget_shape(poll_id)  # read again on the next try
        raise _PollChanged(_("The poll changed; please reload and vote again."), "poll")
    params = {"poll_id": poll_id, "seat_id": seat_id, "programme_id": programme_id}
    recorded = connection.execute(statements["voter"], params, execution_options={"preserve_rowcount": True}).rowcount
    if recorded != 1:
        _refuse_unrecorded(poll_id, seat_id)
    stored = connection.execute(statements["alphas"], [{"poll_id": poll_id, "alpha": a} for a in prepared.alphas],
                                execution_options={"preserve_rowcount": True}).rowcount
    if stored != len(prepared.alphas):
        raise ValidationFailed(_("This sealed ballot repeats a ballot already cast."), "sealed")
    connection.execute(insert(SealedBallot).values(poll_id=poll_id, fingerprint=prepared.fingerprint,
                                                   ballot=prepared.ballot_json, sealed_by=prepared.sealed_by))
    return prepared.fingerprint


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
        "poll": select(polls.c.state, polls.c.closes_at, polls.c.seal, polls.c.programme_id, polls.c.counter_shards,
                       polls.c.sealed).where(polls.c.id == poll_id),
        "voter": dialect_insert(voters).from_select(
            ["poll_id", "seat_id", "programme_id"],
            select(poll_id, seat_id, programme_id).where(exists().where(
                eligible.c.poll_id == poll_id, eligible.c.seat_id == seat_id)))
        .on_conflict_do_nothing(),
        "receipt": insert(receipts_).values(poll_id=poll_id, code=bindparam("code"), programme_id=programme_id),
        # A sealed ballot's ciphertexts, each once per poll: a copied answer inserts fewer rows than it has.
        "alphas": dialect_insert(SealedCiphertext.__table__).on_conflict_do_nothing(),
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
        built["poll_sql"] = ("SELECT state, closes_at, seal, programme_id, counter_shards, sealed FROM ballot_polls"
                             " WHERE id = %(poll_id)s")
    else:  # SQLite: one writer at a time (BEGIN IMMEDIATE), so no lock order to keep.
        built["count"] = update(counters).where(
            tuple_(counters.c.option_id, counters.c.shard).in_(bindparam("keys", expanding=True))
        ).values(n=counters.c.n + 1)
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


_UNBIASED = 256 - 256 % len(RECEIPT_ALPHABET)  # random bytes at or above it are dropped: every letter equally likely


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


def new_receipt_code() -> str:
    """12 letters from RECEIPT_ALPHABET, uniformly at random (one call for the random bytes, not twelve)."""
    letters: list[str] = []
    while len(letters) < 12:
        letters += [RECEIPT_ALPHABET[b % len(RECEIPT_ALPHABET)] for b in secrets.token_bytes(16) if b < _UNBIASED]
    raw = "".join(letters[:12])
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def cast(poll_id: int, seat_id: int | None, choices: list[int] | None, programme_id: int,
         now: datetime | None = None, sealed: dict | None = None) -> str:
    """Cast the seat's ballot; return its receipt code. Choices not given for a question make that
    answer blank; an empty list is a blank ballot.

    A sealed poll (SPEC §5.1) takes either a ballot sealed by the voter (`sealed`, checked here) or the plain
    choices, which the server seals; the receipt is then the ballot's fingerprint. Its proofs are checked, or
    the ballot sealed, before the poll's lock is taken, so the lock is held only for the short writes."""
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
    if sealed is not None or open_poll_seal(poll_id) is None:  # a plain poll seen open needs no look-up
        shape = sealing.sealed_shape(poll_id)
        if shape is not None:
            if shape.programme_id != programme_id:
                raise NotFound(_("Not found."), "poll_id")
            answers = None if sealed is not None else _answers(_shape(poll_id, shape.seal), choices or [])
            return _cast_sealed(poll_id, seat_id, programme_id, now, sealing.prepare(shape, answers, sealed))
        if sealed is not None:
            raise ValidationFailed(_("This poll's ballots are not sealed: send the choices."), "sealed")
    if choices is None:
        raise ValidationFailed(_("Send the choices."), "choices")
    connection = db.session.connection()
    try:
        if connection.dialect.name != "postgresql":
            return _cast(connection, None, poll_id, seat_id, choices, programme_id, now)
        cursor = connection.connection.cursor()
        try:
            return _cast(connection, cursor, poll_id, seat_id, choices, programme_id, now)
        finally:
            cursor.close()
    except _SealedAfterAll:
        # This process remembered the poll open and plain, but its row says sealed: the memory was of another
        # database's poll with this id (a restore, a test run). Forget it; the server seals the choices.
        forget_open(poll_id)
        return cast(poll_id, seat_id, choices, programme_id, now)


class _PollChanged(Conflict):
    """A sealed ballot checked against a shape whose seal is no longer the poll's (nothing was written)."""


class _SealedAfterAll(Exception):
    """The plain path found the poll's row sealed (see cast): nothing was written."""


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
    now = _check_window(row, programme_id, seat_id, now)
    if row.sealed:  # remembered as plain by this process, but sealed: cast takes the sealed path instead
        raise _SealedAfterAll()
    shape = _shape(poll_id, row.seal)
    answers = _answers(shape, choices)

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
        _refuse_unrecorded(poll_id, seat_id)
    if dialect != "postgresql":
        connection.execute(statements["receipt"], {**params, "code": code})
        # Last before the commit: the counter rows are what concurrent ballots contend for.
        changed = connection.execute(statements["count"], {"keys": list(zip(increments, shards))}).rowcount
    if changed != len(increments):
        raise Conflict(_("The poll changed; please reload and vote again."), "choices")
    if dialect == "postgresql":
        _remember_open(poll_id, row.seal, row.counter_shards)  # later ballots for it can take the fast path
    return code
