"""The committee's decision deadline runs from the count, not from the vote's close (SPEC §4.1 with §5.1;
docs/committee.md, "The deadline"): a sealed topic vote cannot be decided before its trustees decrypt it, so the
committee's days start when the count is published; while it is awaited there is no deadline and the bureau does
not take over. A vote counted at its close (below the publication minimum: nothing to decrypt) starts at its
close. The clock is fixed and moved by the test."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from salon import clock
from salon.ballots import services as ballots
from salon.errors import Forbidden
from salon.extensions import db
from salon.rules import topics as topic_rules
from salon.rules import trustees as trustee_rules
from salon.topics import services as topics
from tests.sealed_keys import factors_of, key_provider, make_key
from tests.services.test_sealed_deciding import sitting_committee
from tests.services.test_sealed_minimum import topic_vote

KEY = make_key("p1-k8")
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def closed_vote(app, world, voters: int, number: int = 9):
    with key_provider(app, KEY, kinds={"topic"}):
        session, noms, poll = topic_vote(world, voters, number=number)
        ballots.close_poll(poll, world.bureau)
    return session, noms, poll


def count(poll, moment):
    """The first k trustees decrypt at `moment`; the k-th publishes the count."""
    for trustee in range(1, KEY.threshold + 1):
        ballots.record_decryption(poll, trustee, factors_of(poll, KEY, trustee), now=moment)


def test_while_the_count_is_awaited_there_is_no_deadline_then_it_runs_from_the_count(app, world, at):
    sitting_committee(world)
    closed = at(clock.utcnow().replace(microsecond=0))
    world.programme.decision_deadline_days = 1  # shorter than the trustees' DECRYPT_DAYS, so it can pass meanwhile
    session, noms, poll = closed_vote(app, world, voters=3)
    days = timedelta(days=world.programme.decision_deadline_days)
    assert poll.closed_at == closed and ballots.counted_at(poll) is None
    # Past what was the deadline (days after the close), the trustees not yet overdue (their last second): the
    # committee still decides, with no deadline (from the decryption deadline on: test_decryption_overdue.py).
    later = at(closed + timedelta(days=trustee_rules.DECRYPT_DAYS) - SECOND)
    assert later > closed + days
    who = topics.decider_of(session, world.programme, later)
    assert (who.who, who.reason, who.deadline) == (topic_rules.COMMITTEE, topic_rules.MAJORITY, None)
    with pytest.raises(Forbidden):  # the bureau may not take over because the trustees are slow
        topics.decide(session, world.bureau, noms[0].id, "托管人太慢")
    assert topics.decision_of(session.id) is None

    count(poll, later)
    assert ballots.counted_at(poll) == later
    assert ballots.summaries([poll.id])[poll.id].counted_at == later
    before = topics.decider_of(session, world.programme, later + days - SECOND)
    assert (before.who, before.deadline) == (topic_rules.COMMITTEE, later + days)
    after = topics.decider_of(session, world.programme, later + days)
    assert (after.who, after.reason) == (topic_rules.BUREAU, topic_rules.DEADLINE)
    at(later + days)
    decision = topics.decide(session, world.bureau, noms[0].id, "")
    assert decision.reason == topic_rules.DEADLINE


def test_a_vote_counted_at_its_close_starts_the_deadline_at_its_close(app, world, at):
    sitting_committee(world)
    closed = at(clock.utcnow().replace(microsecond=0))
    session, _noms, poll = closed_vote(app, world, voters=2)  # below the minimum: nothing to decrypt
    days = timedelta(days=world.programme.decision_deadline_days)
    assert ballots.counted_at(poll) == closed
    assert topics.decider_of(session, world.programme, closed + days - SECOND).who == topic_rules.COMMITTEE
    who = topics.decider_of(session, world.programme, closed + days)
    assert (who.who, who.reason, who.deadline) == (topic_rules.BUREAU, topic_rules.DEADLINE, closed + days)


def test_summaries_give_the_counted_moment_in_one_statement(app, world, at):
    closed = at(clock.utcnow().replace(microsecond=0))
    _s1, _n1, awaited = closed_vote(app, world, voters=3, number=8)
    _s2, _n2, below = closed_vote(app, world, voters=2, number=9)
    seen = []
    listen = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        found = ballots.summaries([awaited.id, below.id])
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert len(seen) == 1
    assert found[awaited.id].counted_at is None and found[awaited.id].awaiting_trustees
    assert found[below.id].counted_at == closed and not found[below.id].awaiting_trustees
