"""The database audit of SPEC §5 for election and review polls, as test_ballot_secrecy does for topic polls:
after every seat votes differently and the poll closes, no table (dumped whole, with PostgreSQL's ctid and
xmin, SQLite's rowid) pairs a seat with its choices; on SQLite who voted comes back in key order, not voting order.
Reviews add an attendance table: it holds who was present (not secret), with no time and no order.

Every poll is sealed (SPEC §5.1); the superuser's reading of a sealed poll, with pg_walinspect and a dump, is
tests/services/test_sealed_database.py."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import DateTime

from salon.ballots import services as ballots
from salon.committee import services as committee
from salon.extensions import db
from salon.programmes import services as programmes
from salon.reviews import services as reviews
from salon.reviews.models import ReviewAttendance as Attendance
from tests.services.test_ballot_secrecy import dump, many_seats


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def election_poll(world, users):
    election = committee.open_election(world.programme, world.bureau)
    for user in users[:5]:
        committee.nominate(election, user, programmes.seat_of(user).id)
    poll = committee.open_vote(election, world.programme, world.bureau)
    db.session.commit()
    options = [o.id for o in poll.questions[0].options]
    patterns = [[0], [1], [2], [0, 1], [0, 2], [1, 2, 3], [4], []]
    return poll, [[options[i] for i in p] for p in patterns], lambda: committee.close_vote(
        election, world.programme, world.bureau)


def review_poll(world, users):
    election = committee.open_election(world.programme, world.bureau)
    for user in users[:3]:
        committee.nominate(election, user, programmes.seat_of(user).id)
    committee.open_vote(election, world.programme, world.bureau)
    committee.close_vote(election, world.programme, world.bureau)
    review = reviews.open_review(world.programme, world.bureau, reason="提前评议（测试）", confirm_empty=True)
    seats = [programmes.seat_of(u).id for u in users]
    random.Random(3).shuffle(seats)
    for seat_id in seats:  # checked in in a random order, as at a venue
        reviews.take_roll(review, world.bureau, [seat_id])
    db.session.commit()
    poll = ballots.get(review.poll_id)
    overall = [o.id for q in poll.questions if q.code == "overall" for o in q.options]
    patterns = [[0], [1], [2], [1], [0], [2], [1], []]
    return poll, [[overall[i] for i in p] for p in patterns], lambda: reviews.close_review(
        review, world.programme, world.bureau)


@pytest.mark.parametrize("build", [election_poll, review_poll], ids=["election", "review"])
def test_database_audit_for_election_and_review_polls(world, build):
    users = many_seats(world, 8)
    poll, patterns, close = build(world, users)
    seat_ids = [programmes.seat_of(u).id for u in users]
    order = list(range(len(users)))
    random.Random(11).shuffle(order)
    for i in order:
        ballots.cast(poll.id, seat_ids[i], patterns[i], world.programme.id)
        db.session.commit()
    close()
    db.session.commit()

    for table in db.metadata.sorted_tables:
        targets = {fk.column.table.name for fk in table.foreign_keys}
        assert not (targets & {"seats", "users", "communities"} and "ballot_options" in targets), table.name
    assert not [c for c in Attendance.__table__.columns if isinstance(c.type, DateTime)]
    dumps = {t.name: dump(t.name) for t in db.metadata.sorted_tables}
    for name, (columns, rows) in dumps.items():
        seat_cols = [c for c in columns if c in ("seat_id", "user_id", "community_id", "actor_id")]
        assert not (seat_cols and "option_id" in columns and rows), name
    if db.engine.dialect.name == "sqlite":  # key order, no rowid (PostgreSQL's physical order: docs/secrecy.md)
        columns, rows = dumps["ballot_voters"]
        listed = [r[columns.index("seat_id")] for r in rows if r[columns.index("poll_id")] == poll.id]
        assert listed == sorted(seat_ids) and listed != [seat_ids[i] for i in order]
        for name in ("ballot_voters", "ballot_sealed", "review_attendance"):
            assert "_rowid" not in dumps[name][0]
    columns, rows = dumps["ballot_sealed"]
    assert sorted(r[columns.index("fingerprint")] for r in rows if r[columns.index("poll_id")] == poll.id) \
        == ballots.receipts(poll)
    assert ballots.turnout(poll.id) == len(users) == len(ballots.receipts(poll))
    tally = ballots.tally(poll)
    assert sum(tally.counts.values()) + sum(tally.blanks.values()) >= len(users)
