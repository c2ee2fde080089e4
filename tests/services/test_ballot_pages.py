"""SPEC §5 against a copy of the data files: after a poll closes, the raw pages of the ballot tables hold no
per-ballot trace.

PostgreSQL (pageinspect): every page of ballot_voters, ballot_receipts and ballot_counters, their indexes
and TOAST, byte by byte — no dead, redirected or unused line pointer, no byte outside a live tuple, the
line pointers and the page header that is not zero, no tuple written or deleted by a ballot's transaction,
no index entry for anything but a live row, no free-space or visibility map carried over; and in the
whole database no ballot's transaction id left, not even as the xmax of a row lock.
SQLite: the database file and its write-ahead log hold no counter state but the final totals."""
from __future__ import annotations

import os
import struct
import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text

from salon import clock
from salon.ballots import services as ballots
from salon.ballots.services import closing
from salon.ballots.models import Counter, PendingScrub
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules import ballots as rules
from tests.conftest import PASSWORD, login
from tests.legacy_polls import COUNTER_SHARDS, legacy_opening

BALLOT_TABLES = ballots.SCRUBBED_TABLES
PATTERNS = [[0], [1], [2], [0, 1], [0, 2], [1, 2, 3], [4], [], [3, 4], [0, 3], [2, 4], [1], [0, 1, 2]]
LP_NORMAL = 1
HEAP_XMAX_LOCK_ONLY = 0x0080
HEAP_XMAX_IS_MULTI = 0x1000


@pytest.fixture(autouse=True)
def _opened_before_0013(monkeypatch):
    """This file tests the plain path (counters, receipt codes, the scrub), which only polls opened before
    migration 0013 take: no poll opens plain any more (tests/legacy_polls.py, docs/secrecy.md)."""
    with legacy_opening(monkeypatch):
        yield


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def _seats(world, n: int) -> list[int]:
    for i in range(n - len(world.communities)):
        community = programmes.add_community(world.programme, world.bureau, f"页面社区{i}")
        programmes.hand_over_seat(community, world.bureau, f"sec_p{i}", f"书记{i}", PASSWORD)
    db.session.commit()
    return sorted(programmes.seat_of(u).id for u in _secretaries(world))


def _secretaries(world):
    from salon.accounts.models import User

    return [u for u in db.session.scalars(select(User).where(User.programme_id == world.programme.id)) if u.is_secretary]


def _voted_poll(world, xids: list[int] | None = None):
    """13 seats vote 13 different ways, one transaction per ballot; each ballot's transaction id is noted."""
    seats = _seats(world, len(PATTERNS))
    now = clock.utcnow()
    poll = ballots.create_poll(world.programme.id, "topic", "页面测试", closes_at=now + timedelta(days=1),
                               opens_at=now, min_published=1)
    question = ballots.add_question(poll, "Q", rules.APPROVAL, 3)
    options = [ballots.add_option(question, f"议题{i}") for i in range(5)]
    ballots.open_poll(poll, seats, world.bureau)
    db.session.commit()
    order = [7, 2, 11, 0, 5, 12, 9, 1, 4, 10, 3, 8, 6]
    for i in order:
        ballots.cast(poll.id, seats[i], [options[j].id for j in PATTERNS[i]], world.programme.id)
        if xids is not None:
            xids.append(int(db.session.scalar(text("SELECT CAST(pg_current_xact_id() AS text)"))))
        db.session.commit()
    return poll, options


def _scrubbed() -> None:
    """The close's after-commit step has rewritten the files, or — when a transaction older than the close
    was still running somewhere in the cluster (this server is shared by other test runs), which correctly
    defers the rewrite — the retry that `salon tick` would make finishes it."""
    if db.session.scalar(select(PendingScrub.poll_id)) is not None:
        db.session.commit()
        assert ballots.scrub_pending(db.engine, wait=120)
    assert db.session.scalar(select(PendingScrub.poll_id)) is None


# --- PostgreSQL -------------------------------------------------------------------------------------

@pytest.fixture
def pages(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pageinspect is PostgreSQL's")
    engine = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        yield conn
    engine.dispose()


def _raw_pages(conn, relation: str, fork: str = "main"):
    blocks = conn.scalar(text("SELECT pg_relation_size(CAST(:r AS regclass), :f) / current_setting('block_size')::int"),
                         {"r": relation, "f": fork})
    for block in range(blocks):
        yield block, bytes(conn.scalar(text("SELECT get_raw_page(:r, :f, :b)"), {"r": relation, "f": fork, "b": block}))


def _line_pointers(raw: bytes) -> list[tuple[int, int, int, int]]:
    """(item, flags, offset, length) read from the page itself (ItemIdData: off 15 bits, flags 2, len 15)."""
    lower = struct.unpack_from("<H", raw, 12)[0]
    found = []
    for i in range((lower - 24) // 4):
        word = struct.unpack_from("<I", raw, 24 + 4 * i)[0]
        found.append((i + 1, (word >> 15) & 3, word & 0x7FFF, word >> 17))
    return found


def _stray_bytes(raw: bytes) -> list[int]:
    """Offsets of non-zero bytes that belong to no live item: free space, removed tuples' leftovers."""
    lower, upper, special = struct.unpack_from("<HHH", raw, 12)
    used = bytearray(len(raw))
    used[:lower] = b"\1" * lower
    if raw[lower:lower + 4] == raw[lower - 4:lower]:
        # A B-tree build drops a page's high-key slot by sliding the line pointers left (_bt_slideleft),
        # leaving a copy of the last one just past pd_lower: a duplicate, no data.
        used[lower:lower + 4] = b"\1" * 4
    used[special:] = b"\1" * (len(raw) - special)
    for _item, flags, offset, length in _line_pointers(raw):
        if flags == LP_NORMAL:
            used[offset:offset + length] = b"\1" * length
    return [i for i in range(len(raw)) if raw[i] and not used[i]]


def _relations(conn, table: str) -> tuple[list[str], list[str]]:
    """The table and its TOAST table (heaps), and every index of both."""
    heaps = [table] + list(conn.scalars(text(
        "SELECT CAST(reltoastrelid AS regclass)::text FROM pg_class WHERE oid = CAST(:t AS regclass) "
        "AND reltoastrelid <> 0"), {"t": table}))
    indexes = list(conn.scalars(text(
        "SELECT CAST(indexrelid AS regclass)::text FROM pg_index WHERE indrelid = ANY(CAST(:h AS regclass[]))"),
        {"h": heaps}))
    return heaps, indexes


def _traces(conn, ballot_xids: set[int]) -> list[str]:
    """Everything in the ballot tables' files that a copy after the close could use to pair seat and choice."""
    found = []
    for table in BALLOT_TABLES:
        heaps, indexes = _relations(conn, table)
        live: dict[str, set] = {}
        for heap in heaps:
            live[heap] = set()
            for block, raw in _raw_pages(conn, heap):
                prune_xid = struct.unpack_from("<I", raw, 20)[0]
                if prune_xid in ballot_xids:
                    found.append(f"{heap} block {block}: pd_prune_xid of a ballot")
                if stray := _stray_bytes(raw):
                    found.append(f"{heap} block {block}: {len(stray)} bytes outside live tuples")
                    leftovers = bytes(raw[i] if i in set(stray) else 0 for i in range(len(raw)))
                    if any(struct.pack("<I", x) in leftovers for x in ballot_xids):
                        found.append(f"{heap} block {block}: removed tuples' bytes hold ballots' transaction ids")
                for item, flags, offset, _length in _line_pointers(raw):
                    if flags != LP_NORMAL:
                        found.append(f"{heap} ({block},{item}): line pointer flags {flags} (not a live tuple)")
                        continue
                    xmin, xmax = struct.unpack_from("<II", raw, offset)
                    if xmin in ballot_xids or xmax in ballot_xids:
                        found.append(f"{heap} ({block},{item}): written or deleted by a ballot's transaction")
                    live[heap].add(f"({block},{item})")
                # pageinspect's own reading of the tuples agrees: nothing dead, no ballot's transaction.
                for lp, lp_flags, t_xmin, t_xmax in conn.execute(text(
                        "SELECT lp, lp_flags, CAST(t_xmin AS text), CAST(t_xmax AS text) "
                        "FROM heap_page_items(get_raw_page(:r, :b))"), {"r": heap, "b": block}):
                    if lp_flags != LP_NORMAL or {int(t_xmin or 0), int(t_xmax or 0)} & ballot_xids:
                        found.append(f"{heap} ({block},{lp}): heap_page_items shows a dead or ballot tuple")
            for fork in ("fsm", "vm"):
                if conn.scalar(text("SELECT pg_relation_size(CAST(:r AS regclass), :f)"), {"r": heap, "f": fork}):
                    found.append(f"{heap}: {fork} fork from before the rewrite")
        for index in indexes:
            heap = conn.scalar(text("SELECT CAST(indrelid AS regclass)::text FROM pg_index "
                                    "WHERE indexrelid = CAST(:i AS regclass)"), {"i": index})
            pointed = set()
            for block, raw in _raw_pages(conn, index):
                if block == 0:
                    continue  # the metapage
                if stray := _stray_bytes(raw):
                    found.append(f"{index} block {block}: {len(stray)} bytes outside live index tuples")
                for htid, tids, dead in conn.execute(text(
                        "SELECT CAST(htid AS text), CAST(tids AS text[]), dead FROM bt_page_items(:i, :b) "
                        "WHERE htid IS NOT NULL"), {"i": index, "b": block}):
                    if dead:
                        found.append(f"{index} block {block}: an entry marked dead")
                    pointed |= set(tids or [htid])
            if pointed != live[heap]:
                found.append(f"{index}: entries for {len(pointed - live[heap])} row versions that are not live")
            for fork in ("fsm", "vm"):
                if conn.scalar(text("SELECT pg_relation_size(CAST(:r AS regclass), :f)"), {"r": index, "f": fork}):
                    found.append(f"{index}: {fork} fork from before the rewrite")
    return found


def _ballot_ids_anywhere(conn, ballot_xids: set[int]) -> list[str]:
    """Every tuple of every table in the database that carries a ballot's transaction id as xmin or xmax.

    A ballot's row locks (FOR KEY SHARE on the poll; the foreign-key checks' locks on the seat, poll and
    programme rows) write its id into those rows' xmax; the close updates the poll row and its re-inserted
    voter rows lock the seat and programme rows again, so none is left (a lock-only xmax would in any
    case pair the seat with nothing once the ballot tables are rewritten)."""
    found = []
    for table in conn.scalars(text("SELECT CAST(oid AS regclass)::text FROM pg_class WHERE relkind = 'r' "
                                   "AND relnamespace = CAST(current_schema() AS regnamespace)")):
        for block, raw in _raw_pages(conn, table):
            for item, flags, offset, _length in _line_pointers(raw):
                if flags != LP_NORMAL:
                    continue
                xmin, xmax = struct.unpack_from("<II", raw, offset)
                infomask = struct.unpack_from("<H", raw, offset + 20)[0]
                if xmin in ballot_xids:
                    found.append(f"{table} ({block},{item}) written by a ballot")
                if xmax in ballot_xids and not infomask & HEAP_XMAX_IS_MULTI:
                    kind = "locked" if infomask & HEAP_XMAX_LOCK_ONLY else "deleted or updated"
                    found.append(f"{table} ({block},{item}) {kind} by a ballot")
    return found


def test_postgresql_pages_after_the_close_hold_no_ballot(app, world, pages):
    xids: list[int] = []
    poll, options = _voted_poll(world, xids)
    ballot_xids = {x % 2**32 for x in xids}
    assert len(ballot_xids) == len(PATTERNS)
    before = _traces(pages, ballot_xids)
    assert before, "while the poll is open, the pages do hold each ballot (else this test proves nothing)"

    ballots.close_poll(poll, world.bureau)
    db.session.commit()  # the after-commit step rewrites the ballot tables' files
    _scrubbed()

    assert _traces(pages, ballot_xids) == []
    assert _ballot_ids_anywhere(pages, ballot_xids) == []
    rows = db.session.execute(select(Counter.option_id, Counter.shard, Counter.n)
                              .where(Counter.poll_id == poll.id).order_by(Counter.option_id)).all()
    assert all(shard == 0 for _, shard, _ in rows)  # folded: totals only
    totals = {o.id: sum(1 for p in PATTERNS if j in p) for j, o in enumerate(options)}
    assert {oid: n for oid, _, n in rows if oid in totals} == totals


def test_postgresql_an_older_snapshot_defers_the_rewrite_until_tick(app, world, pages, monkeypatch):
    """VACUUM FULL would copy the old row versions that an older snapshot may still see: the close waits
    for such snapshots, leaves its PendingScrub when they outlast the wait, and `salon tick` finishes."""
    xids: list[int] = []
    poll, _options = _voted_poll(world, xids)
    ballot_xids = {x % 2**32 for x in xids}
    engine = create_engine(db.engine.url)
    reader = engine.connect()
    reader.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ")
    reader.exec_driver_sql("SELECT count(*) FROM programmes").all()  # holds a snapshot from before the close
    try:
        monkeypatch.setattr(closing, "SCRUB_HORIZON_WAIT", 0.2)
        ballots.close_poll(poll, world.bureau)
        db.session.commit()
        assert db.session.scalar(select(PendingScrub.poll_id)) == poll.id
        assert _traces(pages, ballot_xids)  # the old versions are still in the files
        client = app.test_client()
        login(client, "bureau_a")
        home = client.get("/").get_data(as_text=True)  # the bureau is told, on the home page
        assert "salon tick" in home
    finally:
        reader.rollback()
        reader.close()
        engine.dispose()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    _scrubbed()
    assert _traces(pages, ballot_xids) == []
    assert "salon tick" not in client.get("/").get_data(as_text=True)


def test_postgresql_a_failed_rewrite_is_retried_by_tick(app, world, pages, monkeypatch):
    xids: list[int] = []
    poll, _options = _voted_poll(world, xids)
    ballot_xids = {x % 2**32 for x in xids}

    def interrupted(engine, wait):
        raise RuntimeError("the server went away")

    monkeypatch.setattr(closing, "_scrub_postgresql", interrupted)
    ballots.close_poll(poll, world.bureau)
    db.session.commit()  # the close commits; the rewrite fails after it
    assert db.session.scalar(select(PendingScrub.poll_id)) == poll.id
    monkeypatch.undo()
    result = app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    _scrubbed()
    assert _traces(pages, ballot_xids) == []


def test_postgresql_rewrite_waits_briefly_for_a_ballot_of_another_poll(app, world, pages):
    """Other programmes keep voting: a ballot in flight holds its locks; the rewrite waits for it (and
    ballots arriving meanwhile wait for the rewrite), then both go through."""
    poll, _options = _voted_poll(world)
    now = clock.utcnow()
    other = ballots.create_poll(world.other_programme.id, "topic", "别的", closes_at=now + timedelta(days=1),
                                opens_at=now, min_published=1)
    question = ballots.add_question(other, "Q", rules.APPROVAL, 1)
    option = ballots.add_option(question, "甲")
    other_seat = programmes.seat_of(world.other_secretary).id
    ballots.open_poll(other, [other_seat], world.other_bureau)
    db.session.commit()
    other_id, option_id, programme_id = other.id, option.id, world.other_programme.id

    started, done = threading.Event(), []

    def ballot_in_flight():
        with app.app_context():
            ballots.cast(other_id, other_seat, [option_id], programme_id)
            started.set()
            threading.Event().wait(0.5)  # the transaction stays open a moment, holding its row locks
            db.session.commit()
            done.append(True)

    thread = threading.Thread(target=ballot_in_flight)
    thread.start()
    started.wait(10)
    ballots.close_poll(poll, world.bureau)
    db.session.commit()
    thread.join(10)
    assert done == [True]
    _scrubbed()
    assert ballots.turnout(other_id) == 1


# --- SQLite -----------------------------------------------------------------------------------------

def _varint_free_int(value: int) -> tuple[int, bytes]:
    """SQLite's serial type and body bytes for an integer (record format 4)."""
    if value == 0:
        return 8, b""
    if value == 1:
        return 9, b""
    for serial, size in ((1, 1), (2, 2), (3, 3), (4, 4), (5, 6), (6, 8)):
        if -(1 << (8 * size - 1)) <= value < (1 << (8 * size - 1)):
            return serial, value.to_bytes(size, "big", signed=True)
    raise ValueError(value)


def _record(*values: int) -> bytes:
    types, body = zip(*(_varint_free_int(v) for v in values))
    header = bytes([len(values) + 1, *types])  # every value here is small: one-byte varints
    return header + b"".join(body)


def test_sqlite_file_and_log_hold_only_the_totals_after_the_close(app, world):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's file format")
    path = db.engine.url.database
    poll, options = _voted_poll(world)
    programme_id = world.programme.id
    counter_ids = sorted(db.session.scalars(select(Counter.option_id).where(Counter.poll_id == poll.id).distinct()))
    # (option_id, shard, programme_id, poll_id, n): the column order of ballot_counters
    columns = [c.name for c in Counter.__table__.columns]
    assert columns == ["option_id", "shard", "programme_id", "poll_id", "n"]

    def states(final: dict | None):
        for oid in counter_ids:
            for shard in range(COUNTER_SHARDS):
                for n in range(0, len(PATTERNS) + 1):
                    if final is not None and shard == 0 and final.get(oid) == n:
                        continue
                    yield (oid, shard, n), _record(oid, shard, programme_id, poll.id, n)

    def files() -> bytes:
        data = open(path, "rb").read()
        if os.path.exists(path + "-wal"):
            data += open(path + "-wal", "rb").read()
        return data

    while_open = files()
    assert [key for key, rec in states(None) if rec in while_open and key[2] > 0], "the open poll's counters"

    ballots.close_poll(poll, world.bureau)
    db.session.commit()
    final = {oid: n for oid, n in db.session.execute(
        select(Counter.option_id, Counter.n).where(Counter.poll_id == poll.id))}
    after = files()
    for oid, n in final.items():  # the encoding is right: the totals themselves are found
        assert _record(oid, 0, programme_id, poll.id, n) in after
    assert [key for key, rec in states(final) if rec in after] == []
    assert os.path.getsize(path + "-wal") == 0
    assert db.session.scalar(select(PendingScrub.poll_id)) is None


def test_postgresql_a_table_in_use_defers_the_rewrite_until_tick(app, world, pages, monkeypatch, caplog):
    """The rewrite gives up a table lock it cannot get in time (rather than queue every ballot behind it)."""
    xids: list[int] = []
    poll, _options = _voted_poll(world, xids)
    ballot_xids = {x % 2**32 for x in xids}
    engine = create_engine(db.engine.url)
    holder = engine.connect()
    holder.exec_driver_sql("BEGIN")
    holder.exec_driver_sql("LOCK TABLE ballot_receipts IN ACCESS SHARE MODE")  # a lock, no snapshot
    try:
        monkeypatch.setattr(closing, "SCRUB_LOCK_TIMEOUT_MS", 200)
        ballots.close_poll(poll, world.bureau)
        db.session.commit()
        assert db.session.scalar(select(PendingScrub.poll_id)) == poll.id
        db.session.commit()
        caplog.clear()
        assert not ballots.scrub_pending(db.engine, wait=120)  # past any older transaction: the lock
        assert "ballot_receipts was in use" in caplog.text
        assert _traces(pages, ballot_xids)
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    _scrubbed()
    assert _traces(pages, ballot_xids) == []
