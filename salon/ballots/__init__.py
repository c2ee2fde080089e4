"""The secret-ballot engine (SPEC §5): polls of one or more questions, counted without keeping ballots.

Topic votes, reviews and elections use it. What it stores, and what it never stores, is
described in models.py; the limits of the promise are in SECRECY below.

SEALED POLLS (SPEC §5.1) — every poll opens sealed, with the trustees' ready key, or does not open (open_poll,
require_key; docs/secrecy.md "No plain polls"). It stores only ciphertexts (services/sealing.py,
docs/sealed-ballots.md "Integration"): no counter moves and no receipt code is written until k trustees have
decrypted the sums. What follows about counters, receipts, shards and the scrub is the path of a poll opened plain
by a version before migration 0013 and still open after the upgrade (tests/legacy_polls.py opens such polls).

SECRECY — what a copy of the database cannot tell, and the residual limits:
  * Choices exist only as per-option counters. The record that a seat voted (ballot_voters) and the
    receipt codes (ballot_receipts) carry no timestamp, no surrogate id and nothing about choices.
  * While a poll is open each option's counter is split into shards and a ballot adds one to a shard
    picked at random for each chosen option (so concurrent ballots seldom wait on one row); the shard
    carries nothing about the voter, shard rows have no timestamp, and closing folds each option's shards
    into one row holding its total, so a closed poll keeps no more than per-option totals.
  * Insertion order: SQLite keeps ballot_voters and ballot_receipts as WITHOUT ROWID tables, ordered by
    their keys (seat id; random code), so no rowid records who came first. PostgreSQL stores rows in a
    heap where physical position (ctid) and the writing transaction (xmin) follow insertion order, so
    closing a poll rewrites its voter, receipt and counter rows in key order within the closing
    transaction (one xmin for all, ctid order = key order).
  * The files after the close: the old row versions (each ballot's counter versions and voter row, with
    its transaction id) stay in the pages until the after-commit step (services.scrub_pending) has run
    VACUUM FULL on the ballot tables — new files with only the live rows, new indexes — once no snapshot
    older than the close remains; plain VACUUM would leave their bytes in the pages' free space. SQLite
    zeroes deleted content (secure_delete) and empties the write-ahead log. Until that step succeeds the
    poll stays in ballot_pending_scrubs: `salon tick` retries and the bureau's home page says so.
  * Residual limits (README, "Secret ballots and their limits"; SPEC §5 allows the first): someone watching
    the live database while voting goes on — reading rows as they change, or any copy taken then — can
    correlate a seat's voter row with the counters changed by the same transaction; so can the PostgreSQL
    write-ahead log and its archive, and filesystem blocks freed by the rewrite, until they are gone.
    Logical backups (pg_dump, `salon backup` after the close) hold none of that.

FAST PATH — casting through the API (POST /api/v1/polls/<id>/ballot) is the request a whole county or
province sends within minutes, so it is kept cheap; bench/ballots.py measures it against a floor (a bare
Flask + psycopg endpoint doing the same writes) in the same run (issue 10). What it does, and why:
  * fast.py (PostgreSQL) answers the common case before the regular path runs: a body that is exactly
    {"choices": [int, …]}, a bearer token of the right form, and a poll this process has already seen open
    (services.cast remembers its seal). One statement, its own transaction, does the token check, reads
    the poll row, takes the poll's lock shared, and does the writes of services.cast in the same order: one
    round trip (the floor needs four), on the engine's pooled DB-API connection, with no ORM session, webargs or
    flask-smorest. It answers
    only a ballot it counted; anything else leaves nothing written and goes down the regular path, which
    gives the answers and errors it always gave. Why each step is safe is written at the top of fast.py.
  * The regular path, services.cast on PostgreSQL, runs plain SQL on the DB-API cursor of the session's
    connection (same transaction, same commit in salon.database): BEGIN, the token check, the poll's lock
    shared, the poll row, one statement for every write (seat recorded only if eligible and not yet voted → receipt
    only if recorded → counter shards locked in key order and incremented only if the receipt was stored),
    COMMIT. Concurrency and secrecy are those described above and in services/casting.py.
  * The regular path's token check reads the holder and seat as plain values (accounts.auth.token_holder,
    asked for by api.PollBallot.seat_only), not a User object: loading the user was a seventh of the request.
  * The poll's lock is a PostgreSQL advisory lock (salon.database.lock_poll: shared by ballots and check-ins,
    exclusive for opening and closing), not a row lock: with every ballot sharing a lock on the one poll
    row (and the voter and receipt inserts' foreign keys taking more share locks on the poll and programme
    rows), PostgreSQL created a MultiXact for that row again and again, which cost a ballot more than its
    writes. ballot_voters and ballot_receipts therefore have no foreign key to ballot_polls or programmes
    (models.py says what keeps their ids right instead).
  * No pre-ping per request (salon.database tests only connections idle past a limit), and a pool of 32 per
    process, at least the threads using it: pre-ping cost a round trip and a transaction per request, and a
    pool smaller than the threads opened and closed connections under load.
  * The request body's schema is built once (api.PollBallot), and the session-cookie serializer once per key
    (accounts.auth.CookieSessions): both were rebuilt on every request.
SQLite keeps the plain SQLAlchemy path: one writer at a time, and not a deployment for a province.
"""
