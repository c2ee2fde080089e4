"""The secret-ballot engine (SPEC §5, §5.1): polls of one or more questions, cast sealed, counted from their
encrypted sums.

Topic votes, reviews and elections use it. Every poll opens sealed, with the trustees' ready key, or does not open
(services.open_poll, require_key; docs/secrecy.md "No plain polls"). A ballot is sealed in the voter's browser (or
by a client, or by the server from plain choices, marked so on the board): ciphertexts with proofs, stored by
fingerprint without any voter link (services/sealing.py, casting.py; docs/sealed-ballots.md). The close adds the
ciphertexts; k trustees decrypt only the sums; the counts are then written (ballot_counters, one row per option)
and the bulletin board published.

SECRECY — what a copy of the database cannot tell, and the residual limits (README, "Secret ballots and their
limits"; docs/secrecy.md):
  * Nothing stored, logged or written ahead pairs a seat with a readable choice, at any moment: the ballot tables
    hold ciphertexts, the record that a seat voted (ballot_voters: no timestamp, no surrogate id) and, until the
    trustees decrypt, no count at all. tests/services/test_sealed_database.py reads a live PostgreSQL as a
    superuser (tables, dead tuples, the write-ahead log, a dump) to show it.
  * A seat's voter row and its ciphertexts are written by one transaction, so the database (xmin, physical order,
    the write-ahead log) can pair a seat with its ciphertexts. Reading them needs k trustees' keys together: the
    quorum limit SPEC §5.1 accepts, documented in docs/secrecy.md.
  * Polls opened plain by a version before migration 0013 had counters, receipts, a scrub and a fast path; none
    can still be open (migration 0015 refuses to upgrade while one is), and what such polls published (counts,
    receipt codes in ballot_receipts) stays published.

CASTING — one short transaction (services/casting.py): the proofs are checked (or the choices sealed) before the
poll's lock is taken shared (salon.database.lock_poll; the close takes it exclusive); then the seat is recorded
(INSERT … ON CONFLICT DO NOTHING, only if eligible), the ciphertexts stored once each and the ballot by
fingerprint. On PostgreSQL the poll's row and those writes are one statement (casting.CAST_SQL) after the lock's
own: three round trips with the token check, and the commit. The token check of a ballot reads the holder and seat as plain values (accounts.auth.token_holder,
asked for by api.PollBallot.seat_only), not a User object.
"""
