"""SPEC §5.1 (issue 17, "Done when"): the whole PostgreSQL database read as a superuser — every table's rows,
the ballot tables' raw pages with their dead tuples (pageinspect), the write-ahead log of the poll's life from
its opening (pg_walinspect, and the WAL segments' bytes) and a dump (pg_dump) — while a sealed poll is open,
after its close and after the trustees decrypt.

What it shows, concretely (each assertion fails if the engine wrote anything plain about a choice):
- the counters of the sealed poll are never touched before the trustees decrypt: no WAL record of the poll's
  life until then references ballot_counters or its indexes, and every version of every counter row in its
  pages (dead ones included) holds n = 0;
- a ballot's transaction writes only ballot_voters, ballot_sealed, ballot_sealed_alphas (their indexes and
  TOAST), besides row locks on the poll and the seat, and its commit;
- each ballot's transaction leaves WAL records of the same shape and size whatever was chosen (resource manager,
  record type, relation, record length less the full-page images), blank ballots included;
- every stored ballot, in the tables, in the pages (dead tuples too) and in the dump, is ciphertexts with
  proofs (salon.sealed.ballot.verify), all of one length; no row of any table holds an option id or label beside
  a seat id; after the close, until decrypted, the only per-poll values are the encrypted sums;
- with the trustees' keys: k trustees' factors decrypt the sums to the right counts; one trustee's secret alone
  decrypts no ciphertext, and the factors posted for the sums, applied to a single ballot, give no 0/1 value.

What it cannot show by a test, and rests on the cryptographic assumption instead: the WAL (and the physical
order of ballot_voters and ballot_sealed) does pair a seat with its ballot's *ciphertexts*. An answer is
exponential ElGamal (α, β) = (r·G, m·G + r·X) under the joint key X = x·G. Anyone can form β − m·G for m = 0
and m = 1; telling which of those two points is r·X, knowing only G, X and α = r·G, is the decisional
Diffie–Hellman problem on secp256k1, believed infeasible. The ballot's proofs are zero-knowledge (disjunctive
Chaum–Pedersen: both branches verify, whichever is real). So the database's data cannot single out a choice
without x, which only k trustees together can rebuild. The test checks the concrete side of that: both
candidates are valid, distinct points for every answer and neither is the identity or G; a single trustee's
share and the sums' combined factors both fail to open any single answer.
"""
from __future__ import annotations

import difflib
import json
import re
import shutil
import subprocess
from datetime import timedelta
from glob import glob

import pytest
from sqlalchemy import create_engine, select, text

from salon import clock
from salon.ballots import services as ballots
from salon.ballots.models import Counter, Option, SealedBallot
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules import ballots as rules
from salon.sealed import ballot as sealed_ballot
from salon.sealed import board as sealed_board
from salon.sealed import threshold
from salon.sealed.group import Point, base_mul
from tests.sealed_keys import factors_of, key_provider, make_key, seal_choices
from tests.conftest import PASSWORD


def _seats(world, n: int) -> list[int]:
    from salon.accounts.models import User

    for i in range(n - len(world.communities)):
        community = programmes.add_community(world.programme, world.bureau, f"页面社区{i}")
        programmes.hand_over_seat(community, world.bureau, f"sec_p{i}", f"书记{i}", PASSWORD)
    db.session.commit()
    users = db.session.scalars(select(User).where(User.programme_id == world.programme.id))
    return sorted(programmes.seat_of(u).id for u in users if u.is_secretary)


def _raw_pages(conn, relation: str, fork: str = "main"):
    blocks = conn.scalar(text("SELECT pg_relation_size(CAST(:r AS regclass), :f) / current_setting('block_size')::int"),
                         {"r": relation, "f": fork})
    for block in range(blocks):
        yield block, bytes(conn.scalar(text("SELECT get_raw_page(:r, :f, :b)"), {"r": relation, "f": fork, "b": block}))


def _relations(conn, table: str) -> tuple[list[str], list[str]]:
    """The table and its TOAST table (heaps), and every index of both."""
    heaps = [table] + list(conn.scalars(text(
        "SELECT CAST(reltoastrelid AS regclass)::text FROM pg_class WHERE oid = CAST(:t AS regclass) "
        "AND reltoastrelid <> 0"), {"t": table}))
    indexes = list(conn.scalars(text(
        "SELECT CAST(indexrelid AS regclass)::text FROM pg_index WHERE indrelid = ANY(CAST(:h AS regclass[]))"),
        {"h": heaps}))
    return heaps, indexes

KEY = make_key("p1-k9", n=3, k=2, seed="database")
# Per seat: the ballot positions chosen. Q1 is an approval question (3 options, at most 2), Q2 a single-choice
# one (2 options and its blank answer, last). All different; the first is blank on both; the last is cast plain
# and sealed by the server.
ROWS = [
    [[0, 0, 0], [0, 0, 1]],
    [[1, 0, 0], [1, 0, 0]],
    [[0, 1, 1], [0, 1, 0]],
    [[1, 1, 0], [0, 0, 1]],
    [[0, 0, 1], [1, 0, 0]],
    [[1, 0, 1], [0, 1, 0]],  # sealed by the server
]
BALLOT_TABLES = ("ballot_voters", "ballot_sealed", "ballot_sealed_alphas")
LOCKED_ONLY = {"seats"}  # a row lock (FOR KEY SHARE) by ballot_voters' foreign key to the seat
# Records that add no row: an index's new root, upper level or metapage (page splits are the insert itself, kept
# as one), and the upkeep any transaction may do on pages it visits (pruning dead versions, deduplicating or
# deleting dead index entries, a hint-bit page image). Their number and size depend on what the pages held
# before, not on what a ballot holds; other tests' rows share these tables.
STRUCTURAL = {"NEWROOT", "INSERT_UPPER", "INSERT_META"}
UPKEEP = {("Heap2", "PRUNE"), ("Heap2", "VACUUM"), ("Heap2", "FREEZE_PAGE"), ("Heap2", "VISIBLE"),
          ("Btree", "DELETE"), ("Btree", "DEDUP"), ("Btree", "REUSE_PAGE"), ("Btree", "VACUUM"),
          ("XLOG", "FPI_FOR_HINT")}
LABELS = ["甲选项-4b1e", "乙选项-9c2d", "丙选项-7a3f", "留任-5e8b", "罢免-2d6c"]


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


@pytest.fixture
def su(app):
    """A superuser's own connection to the test database, in autocommit (it reads what was committed)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pageinspect, pg_walinspect and pg_dump are PostgreSQL's; the audit of tables is test_ballot_secrecy")
    engine = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_walinspect"))
        # Earlier tests' rolled-back rows leave dead tuples in these tables, and autovacuum may already have
        # removed their TOAST chunks while the heap tuples wait: pageinspect cannot detoast those ("missing chunk
        # number 0"). A plain VACUUM first removes both (the same horizon holds for a table and its TOAST).
        conn.execute(text("VACUUM ballot_sealed, ballot_sealed_alphas, ballot_voters, ballot_counters"))
        # This server is shared and checkpoints often: a temporary slot (gone with this connection) keeps the
        # WAL from now on, so the whole poll's WAL can still be read at the end.
        conn.execute(text("SELECT pg_create_physical_replication_slot(:n, true, true)"),
                     {"n": f"salon_sealed_read_{conn.scalar(text('SELECT pg_backend_pid()'))}"})
        yield conn
    engine.dispose()


def _lsn(conn, which: str = "insert") -> str:
    return conn.scalar(text(f"SELECT CAST(pg_current_wal_{which}_lsn() AS text)"))


class Wal:
    """The WAL records of this database between two LSNs, each with the relations its blocks name."""

    def __init__(self, conn):
        self.conn = conn
        self.dboid = conn.scalar(text("SELECT oid FROM pg_database WHERE datname = current_database()"))
        self.names: dict[int, str] = {}

    def relation(self, filenode: int) -> str:
        if filenode not in self.names:
            self.names[filenode] = self.conn.scalar(text(
                "SELECT COALESCE(CAST(pg_filenode_relation(0, CAST(:f AS oid)) AS regclass)::text, 'filenode ' || :f)"),
                {"f": filenode})
        return self.names[filenode]

    def records(self, start: str, end: str) -> list[dict]:
        found = []
        for row in self.conn.execute(text(
                "SELECT CAST(start_lsn AS text) AS lsn, CAST(xid AS text) AS xid, resource_manager AS rmgr, "
                "record_type AS type, record_length AS length, fpi_length AS fpi, COALESCE(block_ref, '') AS blocks "
                "FROM pg_get_wal_records_info(CAST(:s AS pg_lsn), CAST(:e AS pg_lsn))"), {"s": start, "e": end}):
            refs = re.findall(r"rel (\d+)/(\d+)/(\d+)", row.blocks)
            mine = [self.relation(int(node)) for _space, dboid, node in refs if int(dboid) == self.dboid]
            if refs and not mine:
                continue  # another database of this shared server
            found.append({**row._asdict(), "xid": int(row.xid), "relations": tuple(mine)})
        return found


def _shape(record: dict) -> tuple:
    kind = record["type"].replace("+INIT", "")
    if record["rmgr"] == "Btree" and kind in ("SPLIT_L", "SPLIT_R"):
        return ("Btree", "INSERT_LEAF", record["relations"][:1], "an index entry")
    if record["rmgr"] == "Btree" and kind == "INSERT_LEAF":
        return ("Btree", "INSERT_LEAF", record["relations"][:1], "an index entry")
    # With a full-page image (the page's first change after a checkpoint, which other databases on this server
    # cause at any time) the row is inside the image and not counted apart: that length is not compared.
    return (record["rmgr"], kind, record["relations"], record["length"] - record["fpi"] if not record["fpi"] else None)


def _differences(one: list[tuple], other: list[tuple]) -> list[tuple]:
    """Where two ballots' WAL shapes differ (a length beside a page image matches any length)."""
    if [s[:3] for s in one] != [s[:3] for s in other]:
        return [("records", "\n".join(difflib.unified_diff([str(x) for x in one], [str(x) for x in other],
                                                           lineterm="", n=0)))]
    return [(a, b) for a, b in zip(one, other) if a[3] is not None and b[3] is not None and a[3] != b[3]]


def _wal_bytes(conn, lsn: str, length: int) -> bytes:
    """A record's bytes, with its block data, read from the WAL segment file (page headers skipped)."""
    seg_size = int(conn.scalar(text("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'")))
    page = int(conn.scalar(text("SELECT setting FROM pg_settings WHERE name = 'wal_block_size'")))
    high, low = lsn.split("/")
    position = (int(high, 16) << 32) + int(low, 16)
    out = bytearray()
    segments: dict[str, bytes] = {}
    while len(out) < length:
        if position % page == 0:
            position += 40 if position % seg_size == 0 else 24  # long or short page header
            continue
        name = conn.scalar(text("SELECT pg_walfile_name(CAST(:l AS pg_lsn))"),
                           {"l": f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"})
        if name not in segments:
            segments[name] = bytes(conn.scalar(text("SELECT pg_read_binary_file('pg_wal/' || :n)"), {"n": name}))
        offset = position % seg_size
        take = min(length - len(out), page - position % page)
        out += segments[name][offset:offset + take]
        position += take
    return bytes(out)


def _table_relations(conn, *tables: str) -> set[str]:
    """The tables, their TOAST tables and every index of both."""
    found = set()
    for table in tables:
        heaps, indexes = _relations(conn, table)
        found |= set(heaps) | set(indexes)
    return found


def _tuples(conn, table: str) -> list[tuple[int, list]]:
    """Every tuple in the table's pages, dead ones too: (line pointer flags, its attributes, detoasted)."""
    found = []
    for block, _raw in _raw_pages(conn, table):
        for flags, attrs in conn.execute(text(
                "SELECT lp_flags, t_attrs FROM heap_page_item_attrs(get_raw_page(:r, :b), CAST(:r AS regclass), true)"),
                {"r": table, "b": block}):
            found.append((flags, [bytes(a) if a is not None else None for a in (attrs or [])]))
    return found


def _int(raw: bytes) -> int:
    return int.from_bytes(raw, "little", signed=True)


def _varlena_text(raw: bytes) -> str:
    """A detoasted JSON text attribute as pageinspect gives it: its varlena header, then the text."""
    return raw[raw.index(b'{"'):].decode()


def _all_rows(conn) -> dict[str, list[dict]]:
    tables = conn.scalars(text("SELECT relname FROM pg_class WHERE relkind IN ('r', 'p') "
                               "AND relnamespace = CAST(current_schema() AS regnamespace) ORDER BY relname")).all()
    return {t: [dict(r._mapping) for r in conn.execute(text(f'SELECT * FROM "{t}"'))] for t in tables}


def _foreign_columns(conn, target: str) -> set[tuple[str, str]]:
    """(table, column) pairs that refer to `target`.id, by foreign key or by name (the ballot tables have none)."""
    found = set(conn.execute(text(
        "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
        "WHERE c.contype = 'f' AND c.confrelid = CAST(:t AS regclass)"), {"t": target}).all())
    name = {"seats": "seat_id", "ballot_options": "option_id"}[target]
    found |= set(conn.execute(text(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND column_name = :n"), {"n": name}).all())
    return found


def _make_poll(world):
    now = clock.utcnow()
    poll = ballots.create_poll(world.programme.id, "test", "库读", closes_at=now + timedelta(days=1), opens_at=now,
                               min_published=1)
    q1 = ballots.add_question(poll, "Q1", rules.APPROVAL, 2)
    options = [ballots.add_option(q1, label) for label in LABELS[:3]]
    q2 = ballots.add_question(poll, "Q2", rules.SINGLE)
    options += [ballots.add_option(q2, label) for label in LABELS[3:]]
    db.session.commit()
    return poll, (q1, q2), options


def test_postgresql_everything_the_database_holds_pairs_no_seat_with_a_readable_choice(app, world, su):
    wal = Wal(su)
    seats = _seats(world, len(ROWS))[:len(ROWS)]
    poll, questions, options = _make_poll(world)
    opening = _lsn(su)
    with key_provider(app, KEY):
        ballots.open_poll(poll, seats, world.bureau)
        db.session.commit()
    opened = _lsn(su, "flush")
    assert poll.sealed
    spec = ballots.seal_spec(poll)
    public_key = Point.from_hex(spec["public_key"])
    shape = [sealed_ballot.Question.from_json(q) for q in spec["questions"]]
    assert [q["blank"] for q in spec["questions"]] == [3, 2]  # the approval question's blank position (protocol 2)
    counters, allowed = _table_relations(su, "ballot_counters"), _table_relations(su, *BALLOT_TABLES)
    option_ids = {o.id for o in db.session.scalars(select(Option).where(Option.poll_id == poll.id))}
    seat_ids = set(seats)

    # --- the ballots, one transaction each; their transaction ids and WAL ranges noted ----------------------
    cast = []  # (xid, start LSN, end LSN, rows, fingerprint)
    for seat, rows in zip(seats, ROWS):
        start = _lsn(su)
        if rows is ROWS[-1]:
            chosen = [oid for q, ids in zip(rows, (s["option_ids"] for s in spec["questions"]))
                      for bit, oid in zip(q, ids) if bit and oid is not None]
            receipt = ballots.cast(poll.id, seat, chosen, world.programme.id)
        else:
            receipt = ballots.cast(poll.id, seat, None, world.programme.id,
                                   sealed=seal_choices(poll, rows, seed=f"seat-{seat}"))
        xid = int(db.session.scalar(text("SELECT CAST(pg_current_xact_id() AS text)"))) % 2**32
        db.session.commit()
        cast.append((xid, start, _lsn(su, "flush"), rows, receipt))
    fingerprints = {c[4] for c in cast}
    assert len(fingerprints) == len(ROWS)

    # --- the WAL of each ballot's transaction ----------------------------------------------------------------
    shapes = []
    for xid, start, end, rows, receipt in cast:
        records = wal.records(start, end)
        own = [r for r in records if r["xid"] == xid]
        assert own and own[-1]["rmgr"] == "Transaction" and own[-1]["type"] == "COMMIT"
        touched = [r for r in records if set(r["relations"]) & counters]
        assert touched == [], f"a ballot's WAL touches the counters: {touched}"
        for r in own:
            written = set(r["relations"]) - allowed
            if (r["rmgr"], r["type"]) in UPKEEP:
                continue
            if r["type"] == "LOCK":
                assert written <= LOCKED_ONLY, r
            else:
                assert not written, f"a ballot's transaction wrote {written}: {r}"
        # A page's first row (INSERT+INIT, the same length) is an INSERT; an index page's split is an index entry
        # inserted (its length is half a page's); STRUCTURAL and UPKEEP records are left out (see above).
        shapes.append([_shape(r) for r in own if r["type"] not in STRUCTURAL and (r["rmgr"], r["type"]) not in UPKEEP])
        data = b"".join(_wal_bytes(su, r["lsn"], r["length"]) for r in own)
        assert receipt.encode() in data  # the reading works: the fingerprint is in the WAL, in the clear
        for label in LABELS:
            assert label.encode() not in data
    # Same shape and size whatever was chosen. The server-sealed ballot's row says "server" rather than "voter"
    # (public: the bulletin board shows who sealed each ballot), one byte more in the ballot_sealed insert.
    voter_shapes = shapes[:-1]
    for i, other in enumerate(voter_shapes[1:], 2):
        assert _differences(voter_shapes[0], other) == [], f"ballot {i}'s WAL differs from ballot 1's"
    server = shapes[-1]
    differing = _differences(voter_shapes[0], server)
    assert [(a[:3], b[3] - a[3]) for a, b in differing] in (
        [], [(("Heap", "INSERT", ("ballot_sealed",)), len("server") - len("voter"))]), differing
    hidden = sum(1 for s in shapes for x in s if x[3] is None)
    assert 2 * hidden < sum(len(s) for s in shapes), "page images hid most lengths: this run compared too little"

    # --- while open: tables, pages, dump ---------------------------------------------------------------------
    def stored_ballots() -> list[str]:
        return [r["ballot"] for r in _all_rows(su)["ballot_sealed"] if r["poll_id"] == poll.id]

    def check_ballot(text_: str) -> int:
        ballot = json.loads(text_)
        assert sealed_ballot.verify(ballot, spec["poll"], public_key, shape, 2) == []
        assert set(ballot) == {"protocol", "poll", "answers"}
        return len(text_)

    def check_everything(phase: str) -> dict[str, list[dict]]:
        tables = _all_rows(su)
        # the counters: every row at zero until decrypted; every version in the pages, dead ones too
        assert {r["n"] for r in tables["ballot_counters"] if r["poll_id"] == poll.id} == {0}, phase
        # (other tests' rows, dead or alive, may share these pages: this poll's versions are those with its id)
        columns = [c.name for c in Counter.__table__.columns]
        versions = [attrs for _flags, attrs in _tuples(su, "ballot_counters")
                    if attrs and _int(attrs[columns.index("poll_id")]) == poll.id]
        assert len(versions) == len(option_ids), f"{phase}: a counter row was updated (more than one version)"
        assert {_int(attrs[columns.index("n")]) for attrs in versions} == {0}, phase
        # the stored ballots: well-formed ciphertexts and proofs, all of one length; every version in the pages
        sizes = {check_ballot(b) for b in stored_ballots()}
        assert len(stored_ballots()) == len(ROWS) and len(sizes) == 1, phase
        columns = [c.name for c in SealedBallot.__table__.columns]
        page_ballots = [_varlena_text(attrs[columns.index("ballot")]) for _f, attrs in _tuples(su, "ballot_sealed")
                        if attrs and _int(attrs[columns.index("poll_id")]) == poll.id]
        assert sorted(page_ballots) == sorted(stored_ballots()), phase
        # no row of any table holds an option id or label beside a seat id of this poll
        seat_columns = _foreign_columns(su, "seats")
        option_columns = _foreign_columns(su, "ballot_options")
        for table, rows in tables.items():
            mine = {c for t, c in seat_columns if t == table}
            theirs = {c for t, c in option_columns if t == table}
            for row in rows:
                if not any(row.get(c) in seat_ids for c in mine):
                    continue
                assert not theirs, f"{phase}: {table} has option and seat columns"
                flat = json.dumps(row, default=str, ensure_ascii=False)
                assert not any(label in flat for label in LABELS), f"{phase}: {table} {row}"
        # labels live in ballot_options only (and an option id column only in the options' own tables)
        for table, rows in tables.items():
            if table == "ballot_options":
                continue
            flat = json.dumps(rows, default=str, ensure_ascii=False)
            assert not any(label in flat for label in LABELS), f"{phase}: a label in {table}"
        assert {t for t, _c in option_columns} <= {"ballot_counters"}, option_columns
        assert not [r for r in tables["ballot_receipts"] if r["poll_id"] == poll.id]
        return tables

    check_everything("open")
    dump_open = _dump(db.engine.url)

    # --- after the close, before the trustees decrypt ---------------------------------------------------------
    closing = _lsn(su)
    ballots.close_poll(poll, world.bureau)
    db.session.commit()
    before_decryption = _lsn(su, "flush")
    # the close wrote the poll's state, its key row's encrypted sums, an audit event; nothing else
    close_writes = {rel for r in wal.records(closing, before_decryption) if r["type"] != "LOCK"
                    for rel in r["relations"]}
    assert close_writes <= _table_relations(su, "ballot_polls", "ballot_poll_keys", "audit_events") | {
        "audit_events_id_seq"}, close_writes
    tables = check_everything("closed")
    key_row = next(r for r in tables["ballot_poll_keys"] if r["poll_id"] == poll.id)
    tally = key_row["tally"]
    assert key_row["counted_at"] is None and tally
    assert not [r for r in tables["ballot_decryptions"] if r["poll_id"] == poll.id]
    assert ballots.results(poll).awaiting_trustees and not ballots.results(poll).counts
    sums = sealed_board.tally_from_json(tally)
    assert [len(row) for row in sums] == [4, 3]  # the approval question's blank position too
    # the opening wrote the counters' zero rows (inserts only); nothing touched them since, until decryption
    at_opening = [r for r in wal.records(opening, opened) if set(r["relations"]) & counters]
    assert {(r["rmgr"], r["type"].replace("+INIT", "")) for r in at_opening} <= {
        ("Heap", "INSERT"), *(("Btree", t) for t in STRUCTURAL | {"INSERT_LEAF"})}
    assert len([r for r in at_opening if r["rmgr"] == "Heap"]) == len(option_ids)
    touched = [r for r in wal.records(opened, before_decryption) if set(r["relations"]) & counters]
    assert touched == [], "the counters were touched before decryption"
    dump_closed = _dump(db.engine.url)
    for dump in (dump_open, dump_closed):
        if dump is None:
            continue
        for fingerprint in fingerprints:
            assert fingerprint in dump
        for label in LABELS:
            assert dump.count(label) == 1  # its option row, nowhere else
        counters_copy = re.search(r"COPY public\.ballot_counters \((.*?)\) FROM stdin;\n(.*?)\\\.", dump, re.S)
        n_at = counters_copy.group(1).split(", ").index("n")
        assert {line.split("\t")[n_at] for line in counters_copy.group(2).splitlines()} == {"0"}
        sealed_copy = re.search(r"COPY public\.ballot_sealed \((.*?)\) FROM stdin;\n(.*?)\\\.", dump, re.S)
        at = sealed_copy.group(1).split(", ").index("ballot")
        dumped = [line.split("\t")[at].replace("\\\\", "\\") for line in sealed_copy.group(2).splitlines()]
        assert sorted(dumped) == sorted(stored_ballots())

    # --- what the WAL's pairing (a seat's voter row, a ciphertext) amounts to --------------------------------
    g = base_mul(1)
    for ballot_text in stored_ballots():
        for row in sealed_ballot.ballot_ciphertexts(json.loads(ballot_text), shape):
            for c in row:
                candidates = [c.beta, c.beta - g]  # β − m·G for m = 0, 1: which one is r·X is DDH
                assert candidates[0] != candidates[1]
                assert not any(p.is_identity or p in (g, c.alpha) for p in candidates)
                # a single trustee's share opens nothing: β − xₗ·α is never 0·G or 1·G
                for index, secret in KEY.secrets.items():
                    opened = c.beta - c.alpha.mul(secret)
                    assert not opened.is_identity and opened != g, f"trustee {index} alone opened an answer"

    # --- the trustees decrypt: their factors open the sums, and only the sums -------------------------------
    posted = {t: factors_of(poll, KEY, t) for t in (1, 3)}
    assert ballots.record_decryption(poll, 1, posted[1]) is False
    db.session.commit()
    assert [r for r in wal.records(before_decryption, _lsn(su, "flush")) if set(r["relations"]) & counters] == []
    check_everything("one trustee of two decrypted")
    assert ballots.record_decryption(poll, 3, posted[3]) is True
    db.session.commit()
    result = ballots.results(poll)
    expected = [sum(r[q][o] for r in ROWS) for q in range(2) for o in range(3)]
    assert [result.counts[o.id] for o in options[:3]] == expected[:3]
    assert [result.counts[o.id] for o in options[3:]] == expected[3:5]
    approval_blanks = sum(1 for r in ROWS if not any(r[0]))
    assert result.blanks == {questions[0].id: approval_blanks, questions[1].id: expected[5]}
    combined = [[threshold.combine({t: Point.from_hex(d["factors"][q][o]["factor"], allow_identity=True)
                                    for t, d in posted.items()}, KEY.threshold)
                 for o in range(len(posted[1]["factors"][q]))] for q in range(2)]
    for ballot_text in stored_ballots():
        for q, row in enumerate(sealed_ballot.ballot_ciphertexts(json.loads(ballot_text), shape)):
            for o, c in enumerate(row):
                opened = c.beta - combined[q][o]
                assert not opened.is_identity and opened != g, "a sum's factors opened a single ballot"
    tables = _all_rows(su)
    assert sorted(r["n"] for r in tables["ballot_counters"] if r["poll_id"] == poll.id and r["n"]) == sorted(
        n for n in [*expected, approval_blanks] if n)  # the hidden blank options have their counters too
    assert len([r for r in tables["ballot_decryptions"] if r["poll_id"] == poll.id]) == 2
    check_ballot(stored_ballots()[0])
    if dump_open is None:
        pytest.skip("every part ran but the dump's: no pg_dump under /usr/lib/postgresql/*/bin or on PATH")


def _dump(url) -> str | None:
    binary = next(iter(sorted(glob("/usr/lib/postgresql/*/bin/pg_dump"), reverse=True)), None) or shutil.which("pg_dump")
    if binary is None:
        return None
    target = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run([binary, "--no-owner", "--dbname", target], check=True, capture_output=True,
                          text=True, timeout=120).stdout
