"""The secret-ballot engine (SPEC §5): polls of one or more questions, counted without keeping ballots.

Topic votes use it now; reviews and elections will. What it stores, and what it never stores, is
described in models.py; the limits of the promise are in SECRECY below.

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
    transaction (one xmin for all, ctid order = key order), then VACUUMs those tables; SQLite closes
    with a WAL checkpoint that truncates the write-ahead log.
  * Residual limit (SPEC §5 allows it; closing it needs encrypted ballots): someone watching the live
    database while voting goes on — reading rows as they change, the PostgreSQL write-ahead log or its
    archive, or raw data files before freed space is reused — can correlate a seat's voter row with the
    counters changed by the same transaction. Logical backups (pg_dump, `salon backup` after the close)
    hold none of that.
"""
