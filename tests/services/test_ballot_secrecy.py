"""SPEC §5 as a database audit and under real concurrency.

After a poll in which every seat votes differently, every table is dumped — all columns, all rows, in the
order the database returns them (with PostgreSQL's ctid and xmin, SQLite's rowid) — and nothing may pair a
seat with its choices. Concurrent requests for one seat count exactly one ballot; a ballot racing the close
is either counted or refused, and counters, turnout and receipts agree.

Every poll is sealed (SPEC §5.1): the ballots are ciphertexts, the counters are written once by the trustees'
count. The superuser's reading of a sealed poll (raw pages, pg_walinspect, a dump) is
tests/services/test_sealed_database.py; the order in which seats voted is a documented limit there
(docs/secrecy.md), not checked here."""
from __future__ import annotations

import json
import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import DateTime, func, select, text

from salon import clock
from salon.audit.models import AuditEvent
from salon.ballots import services as ballots
from salon.ballots.models import Counter, Receipt, SealedBallot, VoterRecord
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules import ballots as rules
from tests.conftest import PASSWORD, token_for

IDENTITY_TABLES = {"seats", "users", "communities", "seat_holdings"}


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def many_seats(world, n: int) -> list:
    users = list(world.secretaries)
    for i in range(n - len(users)):
        community = programmes.add_community(world.programme, world.bureau, f"测试社区{i}")
        user, _ = programmes.hand_over_seat(community, world.bureau, f"sec_x{i}", f"书记{i}", PASSWORD)
        users.append(user)
    db.session.commit()
    return users


def open_poll(world, users, options=5, k=3, min_published=3):
    now = clock.utcnow()
    poll = ballots.create_poll(world.programme.id, "topic", "保密测试", closes_at=now + timedelta(days=1),
                               opens_at=now, min_published=min_published)
    question = ballots.add_question(poll, "Q", rules.APPROVAL, k)
    opts = [ballots.add_option(question, f"议题{i}", ref_id=1000 + i) for i in range(options)]
    ballots.open_poll(poll, [programmes.seat_of(u).id for u in users], world.bureau)
    db.session.commit()
    return poll, opts


def dump(table: str) -> tuple[list[str], list[tuple]]:
    dialect = db.engine.dialect.name
    extra = "ctid::text AS _ctid, xmin::text AS _xmin, " if dialect == "postgresql" else ""
    if dialect == "sqlite":
        has_rowid = not db.session.execute(text(
            "SELECT 1 FROM sqlite_master WHERE name=:t AND sql LIKE '%WITHOUT ROWID%'"), {"t": table}).first()
        extra = "rowid AS _rowid, " if has_rowid else ""
    result = db.session.execute(text(f'SELECT {extra}* FROM "{table}"'))
    return list(result.keys()), [tuple(r) for r in result]


def test_database_audit_nothing_pairs_a_seat_with_its_choices(world):
    users = many_seats(world, 8)
    poll, opts = open_poll(world, users)
    seat_ids = [programmes.seat_of(u).id for u in users]
    patterns = [[0], [1], [2], [0, 1], [0, 2], [1, 2, 3], [4], []]  # every seat differently
    order = list(range(len(users)))
    random.Random(7).shuffle(order)
    order = sorted(order, reverse=True) if order == sorted(order) else order
    codes = []
    for i in order:
        codes.append(ballots.cast(poll.id, seat_ids[i], [opts[j].id for j in patterns[i]], world.programme.id))
        db.session.commit()  # one transaction per ballot, as in production
    # While open, the counters stay at zero: the ballots are ciphertexts, counted by the trustees after the close.
    assert not db.session.scalar(select(func.sum(Counter.n)).where(Counter.poll_id == poll.id))
    stored = db.session.scalars(select(SealedBallot.fingerprint).where(SealedBallot.poll_id == poll.id)).all()
    assert sorted(stored) == sorted(codes)
    ballots.close_poll(poll, world.bureau)
    db.session.commit()
    assert sorted(shard for (shard,) in db.session.execute(select(Counter.shard).where(Counter.poll_id == poll.id))) \
        == [0] * (len(opts) + 1)  # one row per option, the question's blank option included

    # 1. No table, by its columns, can hold a voter next to a choice.
    for table in db.metadata.sorted_tables:
        targets = {fk.column.table.name for fk in table.foreign_keys}
        assert not (targets & IDENTITY_TABLES and "ballot_options" in targets), table.name
    for model in (VoterRecord, Receipt, Counter, SealedBallot):
        columns = model.__table__.columns
        assert not [c for c in columns if isinstance(c.type, DateTime)], model.__tablename__
        assert "id" not in columns.keys(), model.__tablename__
    assert set(VoterRecord.__table__.columns.keys()) == {"poll_id", "seat_id", "programme_id"}
    assert set(Receipt.__table__.columns.keys()) == {"poll_id", "code", "programme_id"}
    assert set(Counter.__table__.columns.keys()) == {"option_id", "shard", "programme_id", "poll_id", "n"}
    assert set(SealedBallot.__table__.columns.keys()) == {"poll_id", "fingerprint", "ballot", "sealed_by"}

    # 2. Dump everything; no row names both a seat (or person) and an option.
    dumps = {t.name: dump(t.name) for t in db.metadata.sorted_tables}
    for name, (columns, rows) in dumps.items():
        seat_cols = [c for c in columns if c in ("seat_id", "user_id", "community_id", "actor_id")]
        option_cols = [c for c in columns if c in ("option_id",)]
        assert not (seat_cols and option_cols and rows), name

    # 3. No stored ballot holds a readable choice: ciphertexts only, and no option id in them.
    columns, rows = dumps["ballot_sealed"]
    option_ids = {str(o.id) for o in opts}
    for row in rows:
        ballot = json.loads(row[columns.index("ballot")])
        assert set(ballot) <= {"poll", "answers", "protocol"} and not option_ids & set(json.dumps(ballot).split('"'))

    # 4. Totals only: the counters agree with the ballots, and the audit log knows nothing of choices.
    result = ballots.results(poll)
    expected = [sum(1 for p in patterns if j in p) for j in range(len(opts))]
    assert [result.counts[o.id] for o in opts] == expected
    assert result.turnout == len(users) == len(ballots.receipts(poll))
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("poll.%"))
                                .order_by(AuditEvent.id)).all()
    # the loop below has something to check: the suite's trustees decrypt at the close (tests/conftest.py)
    assert [e.action for e in events] == ["poll.open", "poll.close"] + ["poll.decrypt"] * 2 + ["poll.counted"]
    for event in events:
        assert set(event.details) <= {"kind", "eligible", "turnout", "trustee", "trustees"}


def _threads(target, count):
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        barrier.wait()
        results[i] = target(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_two_ballots_for_one_seat_at_once_count_once(app, world):
    users = many_seats(world, 6)
    poll, opts = open_poll(world, users)
    tokens = [token_for(u) for u in users]
    poll_id, option_ids = poll.id, [o.id for o in opts]
    db.session.rollback()  # the main thread holds no transaction (SQLite: no write lock) while requests run

    def send(i):
        with app.app_context():
            response = app.test_client().post(f"/api/v1/polls/{poll_id}/ballot", json={"choices": [option_ids[i % 5]]},
                                              headers={"Authorization": f"Bearer {tokens[i // 2]}"})
            return response.status_code, response.get_json()

    answers = _threads(send, 2 * len(users))
    for seat in range(len(users)):
        pair = sorted(answers[2 * seat][0:1] + answers[2 * seat + 1][0:1])
        assert pair == [201, 409], answers
        refused = answers[2 * seat] if answers[2 * seat][0] == 409 else answers[2 * seat + 1]
        assert refused[1]["error"]["fields"] == {"seat": [refused[1]["error"]["message"]]}
    db.session.expire_all()
    # one sealed ballot per seat; the counters stay at zero until the trustees decrypt
    stored = db.session.scalar(select(func.count()).select_from(SealedBallot).where(SealedBallot.poll_id == poll.id))
    assert ballots.turnout(poll.id) == len(users) == stored


def test_ballots_racing_the_close_are_counted_or_refused(app, world):
    users = many_seats(world, 8)
    # min_published=1: however few ballots beat the close, their counts are decrypted and can be compared
    poll, opts = open_poll(world, users, min_published=1)
    tokens = [token_for(u) for u in users]
    poll_id, option_ids = poll.id, [o.id for o in opts]
    db.session.rollback()  # the main thread holds no transaction (SQLite: no write lock) while requests run

    def close_or_cast(i):
        with app.app_context():
            if i == len(users):
                with app.test_request_context():
                    ballots.close_poll(db.session.get(type(poll), poll_id), None)
                    db.session.commit()
                return "closed", None
            response = app.test_client().post(f"/api/v1/polls/{poll_id}/ballot",
                                              json={"choices": [option_ids[i % 5]]},
                                              headers={"Authorization": f"Bearer {tokens[i]}"})
            return response.status_code, response.get_json()

    answers = _threads(close_or_cast, len(users) + 1)
    statuses = [a[0] for a in answers[:-1]]
    assert answers[-1][0] == "closed"
    assert set(statuses) <= {201, 409}, answers
    counted = statuses.count(201)
    db.session.expire_all()
    total = db.session.scalar(select(func.sum(Counter.n)).where(Counter.poll_id == poll.id))
    assert ballots.turnout(poll.id) == counted == total
    closed = db.session.get(type(poll), poll.id)
    assert len(ballots.receipts(closed)) == counted


def _waiting_for_poll_lock(poll_id: int) -> list[str]:
    """What waits for the poll's advisory lock now: the waiting sessions' statements (PostgreSQL)."""
    from salon.database import POLL_LOCK_CLASS

    with db.engine.connect() as conn:
        return list(conn.scalars(text(
            "SELECT a.query FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND NOT l.granted AND l.classid = CAST(:class AS oid)"
            " AND l.objid = CAST(:poll AS oid) AND l.objsubid = 2"), {"class": POLL_LOCK_CLASS, "poll": poll_id}))


def test_postgresql_the_close_waits_for_a_ballot_in_flight_and_counts_it(app, world):
    """A ballot's transaction holds the poll's lock, shared, until it commits; a close started meanwhile waits
    for it on that lock (not on any row), then finds it: counted, with its receipt published."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: a close cannot start while a ballot is in flight")
    import time

    from salon.ballots.models import Poll

    users = many_seats(world, 3)
    poll, opts = open_poll(world, users, min_published=1)  # one ballot: its counts decrypted and published
    poll_id, option_id, programme_id = poll.id, opts[2].id, world.programme.id
    seat_id = programmes.seat_of(users[0]).id
    db.session.rollback()
    cast, release, events = threading.Event(), threading.Event(), []

    def ballot():
        with app.app_context():
            events.append(("receipt", ballots.cast(poll_id, seat_id, [option_id], programme_id)))
            cast.set()
            release.wait(10)
            events.append(("ballot committed", None))
            db.session.commit()

    def close():
        with app.app_context(), app.test_request_context():
            ballots.close_poll(db.session.get(Poll, poll_id), None)
            events.append(("close ran", None))
            db.session.commit()

    in_flight = threading.Thread(target=ballot)
    in_flight.start()
    assert cast.wait(10)
    closing = threading.Thread(target=close)
    closing.start()
    deadline = time.monotonic() + 10
    while not _waiting_for_poll_lock(poll_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    waiting = _waiting_for_poll_lock(poll_id)
    time.sleep(0.3)
    assert [e[0] for e in events] == ["receipt"]  # the close has not gone on
    assert len(waiting) == 1 and "pg_advisory_xact_lock(" in waiting[0], waiting
    release.set()
    in_flight.join(10)
    closing.join(30)
    assert [e[0] for e in events] == ["receipt", "ballot committed", "close ran"]
    db.session.expire_all()
    closed = db.session.get(Poll, poll_id)
    assert closed.state.name == "CLOSED"
    assert ballots.receipts(closed) == [events[0][1]]
    tally = ballots.tally(closed)
    assert tally.turnout == 1 and tally.counts[option_id] == 1 and sum(tally.counts.values()) == 1
