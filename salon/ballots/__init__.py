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
"""
