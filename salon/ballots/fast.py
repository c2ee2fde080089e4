"""The ballot's fast path: POST /api/v1/polls/<id>/ballot answered in one statement, on PostgreSQL.

Why it exists: the API ballot is the request a whole county or province sends within minutes (issue 10;
bench/ballots.py measures it against a bare Flask + psycopg floor). Through the regular path a ballot took
five database round trips (BEGIN, the token check, the poll row, the writes, COMMIT) and went through the
ORM session, webargs and flask-smorest, for a request whose every valid form is `{"choices": [ints]}`.

What it does: for the common case only — a bearer token of the right form, a small JSON body that is
exactly {"choices": [int, …]}, choices that fit the poll's questions, and a poll this process has already
seen open — it checks the token and the poll, takes the poll's lock, records the seat, stores the receipt
and counts, all in ONE statement (CAST_SQL) that is its own transaction (with only its plan setting
around it, GENERIC_PLAN): one round trip, where the floor needs
four (BEGIN,
two statements, COMMIT) and the regular path five. It uses the engine's pooled DB-API connection directly
(no ORM session is created for the request) and answers without webargs or flask-smorest.

Why it is safe: it answers only a ballot that was counted. Anything else — a token it does not find, a
poll closed, changed or not yet seen, a seat not eligible or already voted, a body of another shape, choices
that do not fit, a database error — leaves nothing written (the statement's transaction rolls back) and
returns None, and the request continues down the regular path (salon.accounts.auth.authenticate_api, webargs,
services.cast), which gives exactly the answers and error messages it always gave. The guarantees are those
of services.cast, in the same order and with the same locks (salon/database.py): the poll's advisory lock,
shared, before any write (so a close, which takes it exclusive, waits for the ballots in flight; no row
lock on the poll, whose sharing by every ballot was the costliest part of the statement), the seat recorded only
if eligible
and not yet voted (INSERT … ON CONFLICT DO NOTHING: of two ballots for one seat exactly one inserts), the
receipt only if the seat was recorded, then the counter shards locked in key order and incremented only if
the receipt was stored; should a stored receipt lack any of its counts, the statement fails and nothing of
it remains, so turnout = voter records = receipts = counter sums.

A close that commits while the statement waits for the lock: the statement's snapshot was taken when it
began, so it still reads the poll as open (services.cast avoids this by locking in a statement of its own).
The statement cannot count such a ballot even so: the close rewrote every counter row of the poll (folding
the shards), so the counter rows the statement can see are all deleted ones, which FOR UPDATE skips; it
finds none of its counts, the guard fails it and nothing of it remains, and the regular path answers
"Voting has closed" (tests/web/test_ballot_fast_path.py holds a close open and sends one).

A connection lost while the statement ran leaves it committed or not, as a lost COMMIT would on the regular
path: the regular path then finds the seat recorded
(409) or not (and counts the ballot). It records nothing about the voter beyond what
services.cast records (SECRECY in __init__.py); nothing is logged.

SQLite (one writer at a time, not a deployment for a province) always takes the regular path."""
from __future__ import annotations

import json

import psycopg
from flask import current_app, request

from salon import clock
from salon.accounts.services import TOKEN_JOIN_SQL, TOKEN_VALID_SQL, Role, bearer_token, hash_token
from salon.database import POLL_LOCK_CLASS
from salon.ballots import services
from salon.ballots.models import PollState
from salon.extensions import db
from salon.programmes.services import SEAT_HELD_SQL
from salon.rules import ballots as rules

# A ballot body is a few dozen bytes; anything larger (up to the app's limit) takes the regular path.
MAX_FAST_BODY = 4096

# The token check of accounts.auth.token_holder (a secretary's active account, a token not revoked, the
# seat held now), the poll row of services.cast (open, in the holder's programme, before its closing time,
# the opening this process knows: same seal and shard count), the poll's lock, shared (salon.database.lock_poll;
# taken once, only for a poll found: a CTE calling a volatile function runs once, and the EXISTS on it gates
# the first write), then services.cast's writes, each reading the previous step's rows: that is what orders
# them and makes each conditional on the one before. Taking the lock before or after reading the poll makes no
# difference within one statement, whose snapshot is taken as it starts (see the docstring); after it, nothing
# waits for a poll the statement cannot see (one being opened, in a transaction not yet committed).
HOLDER_CTE = (
    f"holder AS (SELECT u.programme_id, h.seat_id FROM {TOKEN_JOIN_SQL}"
    f" JOIN {SEAT_HELD_SQL}"
    f" WHERE {TOKEN_VALID_SQL}"
    f" AND u.role = '{Role.SECRETARY.name}' LIMIT 1)")
CAST_SQL = (
    f"WITH {HOLDER_CTE},"
    " poll AS (SELECT holder.programme_id, holder.seat_id FROM ballot_polls AS p"
    " JOIN holder ON holder.programme_id = p.programme_id"
    f" WHERE p.id = %(poll_id)s AND p.state = '{PollState.OPEN.name}'"
    " AND p.closes_at > %(now)s AND p.seal = %(seal)s AND p.counter_shards = %(counter_shards)s),"
    f" locked AS (SELECT pg_advisory_xact_lock_shared({POLL_LOCK_CLASS}, CAST(%(poll_id)s AS integer))"
    " FROM poll),"
    " voted AS (INSERT INTO ballot_voters (poll_id, seat_id, programme_id)"
    " SELECT %(poll_id)s, poll.seat_id, poll.programme_id FROM poll"
    " WHERE EXISTS (SELECT 1 FROM locked) AND EXISTS"
    " (SELECT 1 FROM ballot_eligible_seats AS e WHERE e.poll_id = %(poll_id)s AND e.seat_id = poll.seat_id)"
    " ON CONFLICT DO NOTHING RETURNING programme_id),"
    " receipt AS (INSERT INTO ballot_receipts (poll_id, code, programme_id)"
    " SELECT %(poll_id)s, %(code)s, programme_id FROM voted RETURNING 1),"
    + services.COUNT_CTES
    # The statement runs alone in its transaction (autocommit), so it must not end half-done: should a
    # stored receipt not have every chosen shard counted (the poll changed under it: cannot happen while the
    # seal matches and the poll's lock is held, and a close committed while the statement waited for the
    # lock left it no counter row to find (see the docstring); the counts must never depend on either), the
    # CASE turns the count into an error (a text that is not a number: evaluated at run time, never at
    # planning), and the whole statement, voter record and receipt included, is rolled back.
    + " SELECT recorded, CASE WHEN recorded = 0 OR counted = %(expected)s THEN counted"
    " ELSE CAST('ballot not fully counted: ' || counted AS integer) END"
    " FROM (SELECT (SELECT count(*) FROM receipt) AS recorded, (SELECT count(*) FROM counted) AS counted) AS done")


# The statement runs on its generic plan, and nothing else does. psycopg prepares a statement once a connection
# has run it five times; with PostgreSQL's default (plan_cache_mode = auto) the server then plans CAST_SQL anew
# on every execution whenever its cost estimates make a plan for the actual values look cheaper, which happened
# in some runs and not others, and planning it cost more than running it: bench/ballots.py measured PostgreSQL
# CPU per ballot at 0.91–1.07 ms with plans forced per execution against 0.43–0.56 ms with the generic plan
# (2026-12-04). Setting it for whole connections (as from 2026-12-04 to issue 18) put every page's prepared
# statements on generic plans too, which cost the home page two thirds of its database time. So the setting is
# sent with the statement: SET, the statement, RESET in one pipeline (one round trip, one implicit transaction
# up to the Sync: if the statement fails, the SET is rolled back with it, and the connection goes back to the
# pool as it came).
GENERIC_PLAN = "SET plan_cache_mode = force_generic_plan"
DEFAULT_PLAN = "RESET plan_cache_mode"


def _choices() -> list[int] | None:
    """The body's choices when the body is exactly {"choices": [int, …]} (what BallotSchema accepts), else
    None. Integers cannot carry control characters and the body nests two levels, so the body checks of
    salon.errors have nothing to find in it."""
    if not request.is_json:
        return None
    length = request.content_length
    if length is None or length > MAX_FAST_BODY or length > (current_app.config.get("MAX_CONTENT_LENGTH") or length):
        return None
    data = request.get_data(cache=True)
    if data.count(b"[") + data.count(b"{") > 2:  # nested deeper than {"choices": […]}: salon.errors says why
        return None
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if type(body) is not dict or len(body) != 1:
        return None
    choices = body.get("choices")
    if type(choices) is not list or any(type(c) is not int for c in choices):
        return None
    return choices


def answer(poll_id: int):
    """The 201 answer for a ballot counted here, or None: the regular path takes the request over."""
    known = services.open_poll_seal(poll_id)
    if known is None:
        return None
    engine = db.engine
    if engine.dialect.name != "postgresql":
        return None
    seal, counter_shards = known
    raw = bearer_token(request.headers.get("Authorization"))
    if raw is None:
        return None
    choices = _choices()
    shape = services.cached_shape(seal)
    if choices is None or shape is None:
        return None
    try:
        answers = rules.sort_ballot(list(shape.questions), choices)
    except rules.BallotRejected:
        return None
    increments, shards = services.picks(answers, shape, counter_shards)
    if not increments:  # every answer counts (a blank one on its question's blank option); the guard needs one
        return None
    code = services.new_receipt_code()
    # The two integer lists go as array literals (text): psycopg adapts a string far faster than a list.
    params = {"token_hash": hash_token(raw), "poll_id": poll_id,
              "now": clock.utcnow(), "seal": seal, "counter_shards": counter_shards, "code": code,
              "options": "{%s}" % ",".join(map(str, increments)), "shards": "{%s}" % ",".join(map(str, shards)),
              "expected": len(increments)}
    try:
        pooled = engine.raw_connection()
    except psycopg.Error:
        return None  # no connection to be had (the database restarting): the regular path answers 503
    connection: psycopg.Connection = pooled.driver_connection
    try:
        # One round trip: the statement (between the plan setting and its reset) is its own transaction,
        # committed by PostgreSQL at the pipeline's Sync.
        connection.autocommit = True
        with connection.pipeline():
            connection.execute(GENERIC_PLAN)
            cursor = connection.execute(CAST_SQL, params)
            connection.execute(DEFAULT_PLAN)
        recorded, counted = cursor.fetchone()
    except psycopg.Error:
        # An error (the guard above, or a connection lost) rolled the statement back, or it never ran:
        # nothing was counted, and the regular path, on another connection if this one died, decides.
        if connection.closed or connection.broken:
            pooled.invalidate()
        return None
    finally:
        try:
            if not connection.closed:
                connection.autocommit = False
        except psycopg.Error:
            # A connection that broke after the statement refuses the change (psycopg raises): rather than end the
            # request there, the connection is discarded and the regular path decides, as after any failure.
            pooled.invalidate()
        pooled.close()
    if recorded != 1 or counted != len(increments):
        return None  # nothing was written (see the guard); the regular path gives the reason
    return current_app.json.response({"poll_id": poll_id, "receipt": code}), 201

