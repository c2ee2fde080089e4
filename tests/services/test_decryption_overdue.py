"""When the trustees do not decrypt in time (docs/sealed-ballots.md; salon.rules.trustees.DECRYPT_DAYS): a sealed
topic vote whose count is still awaited at its decryption deadline may be decided without a tally, as below the
minimum — by the bureau (its first sessions) or the sitting committee, whose days then run from the decryption
deadline, after which the bureau decides. A count that comes later is still published, and gates nothing. An
election or a review gets no outcome without its count: the bureau is told which are overdue, and by whom. The
clock is fixed and moved by the test; the test key's trustees decrypt only when told."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale

from salon import clock
from salon.ballots import services as ballots
from salon.errors import Conflict, Forbidden, ValidationFailed
from salon.rules import topics as topic_rules
from salon.rules import trustees as trustee_rules
from salon.topics import services as topics
from tests.sealed_keys import decrypt, factors_of, key_provider, make_key
from tests.services.test_sealed_deciding import sitting_committee
from tests.services.test_sealed_minimum import topic_vote

KEY = make_key("p1-k10")
SECOND = timedelta(seconds=1)
DAYS = timedelta(days=trustee_rules.DECRYPT_DAYS)


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def overdue_vote(app, world, at, number: int, decrypted=(1,)):
    """A sealed topic vote of session `number`, closed now (three ballots: counts to decrypt), decrypted by the
    trustees `decrypted` only (one of the two needed): the others are awaited."""
    closed = at(clock.utcnow().replace(microsecond=0))
    with key_provider(app, KEY, kinds={"topic"}):
        session, noms, poll = topic_vote(world, 3, number=number)
        ballots.close_poll(poll, world.bureau)
    for trustee in decrypted:
        assert ballots.record_decryption(poll, trustee, factors_of(poll, KEY, trustee), now=closed) is False
    assert poll.closed_at == closed
    return closed, session, noms, poll


def test_the_bureau_decides_without_a_tally_from_the_decryption_deadline(app, world, at):
    closed, session, noms, poll = overdue_vote(app, world, at, number=1)
    at(closed + DAYS - SECOND)
    assert topics.awaiting_count(poll) and not topics.decryption_overdue(poll)
    with force_locale("en"), pytest.raises(Conflict) as refused:
        topics.decide(session, world.bureau, noms[1].id, "托管人迟迟未解密")
    assert refused.value.field == "poll" and topics.decision_of(session.id) is None

    at(closed + DAYS)
    assert not topics.awaiting_count(poll) and topics.decryption_overdue(poll)
    # No tally: the pick is always explained (as below the minimum), and nothing is recorded without it.
    with force_locale("en"), pytest.raises(ValidationFailed) as unexplained:
        topics.decide(session, world.bureau, noms[0].id, "")
    assert unexplained.value.field == "rationale"
    assert unexplained.value.message == "No tally was published for this vote: explain the pick."
    assert topics.decision_of(session.id) is None
    decision = topics.decide(session, world.bureau, noms[1].id, "托管人未按时解密，依据问题轻重")
    assert not decision.followed_tally and decision.reason == topic_rules.BUREAU_SESSIONS
    # No count was recorded: the poll still awaits its trustees, its counts unknown.
    assert ballots.counted_at(poll) is None and not ballots.results(poll).published

    # The count, when it comes (a day later), is still published; the decision stands.
    at(closed + DAYS + timedelta(days=1))
    assert decrypt(poll, KEY, trustees=[2])
    result = ballots.results(poll)
    assert result.published and sum(result.ref_counts.values()) > 0
    assert topics.decision_of(session.id).nomination_id == noms[1].id
    # Shown with the published counts, the decision still says there was no tally to follow.
    from salon.committee import services as committee

    shown = committee.shown_decision(topics.decision_of(session.id), result.published)
    assert shown.tally_note == topic_rules.NO_TALLY


def test_the_committees_days_run_from_the_decryption_deadline_then_the_bureau_decides(app, world, at):
    from salon.committee import services as committee

    users = sitting_committee(world)
    closed, session, noms, poll = overdue_vote(app, world, at, number=9)
    days = timedelta(days=world.programme.decision_deadline_days)
    overdue = closed + DAYS
    before = topics.decider_of(session, world.programme, overdue - SECOND)
    assert (before.who, before.deadline) == (topic_rules.COMMITTEE, None)  # awaited in time: no deadline
    at(overdue - SECOND)
    with pytest.raises(Conflict):
        committee.record_pick(session, users[0], noms[0].id, "等不及了")
    assert committee.picks(session.id) == []

    at(overdue)
    who = topics.decider_of(session, world.programme)
    assert (who.who, who.reason, who.deadline) == (topic_rules.COMMITTEE, topic_rules.MAJORITY, overdue + days)
    with pytest.raises(ValidationFailed):  # no tally: explained
        committee.record_pick(session, users[0], noms[2].id, "")
    committee.record_pick(session, users[0], noms[2].id, "托管人未按时解密；此题最紧迫")
    assert topics.decision_of(session.id) is None  # one pick of the two needed

    # The trustees decrypt late: the count is published, and the committee's deadline does not move.
    at(overdue + timedelta(days=1))
    assert decrypt(poll, KEY, trustees=[2])
    assert ballots.results(poll).published
    assert topics.decider_of(session, world.programme).deadline == overdue + days

    assert topics.decider_of(session, world.programme, overdue + days - SECOND).who == topic_rules.COMMITTEE
    after = topics.decider_of(session, world.programme, overdue + days)
    assert (after.who, after.reason) == (topic_rules.BUREAU, topic_rules.DEADLINE)
    at(overdue + days)
    with pytest.raises(Forbidden):  # the committee's time is over
        committee.record_pick(session, users[1], noms[2].id, "同意")
    decision = topics.decide(session, world.bureau, noms[0].id, "")  # now counted: the most approved
    assert decision.reason == topic_rules.DEADLINE


def test_only_the_decider_decides_an_overdue_vote(app, world, at):
    from salon.committee import services as committee

    users = sitting_committee(world)
    closed, session, noms, _poll = overdue_vote(app, world, at, number=9)
    at(closed + DAYS)
    with pytest.raises(Forbidden):  # the sitting committee decides, not the bureau
        topics.decide(session, world.bureau, noms[0].id, "托管人未解密")
    from tests.services.test_committee import secretaries

    outsider = secretaries(world, 4)[3]  # a fourth secretary, who does not sit on the committee
    with pytest.raises(Forbidden):  # a secretary who does not sit
        committee.record_pick(session, outsider, noms[0].id, "托管人未解密")
    with pytest.raises(Forbidden):  # a committee member is not the bureau
        topics.decide(session, users[0], noms[0].id, "托管人未解密")
    assert committee.picks(session.id) == [] and topics.decision_of(session.id) is None


def test_an_overdue_election_gets_no_outcome_and_the_bureau_is_told_who_is_awaited(app, world, at):
    from salon.committee import services as committee
    from salon.committee.models import ElectionState
    from salon.trustees import services as trustees

    trustee_users = [world.bureau, *world.secretaries[:2]]
    key = make_key("p1-k11", user_ids=[u.id for u in trustee_users])
    now = at(clock.utcnow().replace(microsecond=0))
    with key_provider(app, key, kinds={"election"}):
        election = committee.open_election(world.programme, world.bureau, now=now)
        for user, community in zip(world.secretaries, world.communities):
            committee.nominate(election, user, community.seat.id, now=now)
        poll = committee.open_vote(election, world.programme, world.bureau, now=now)
        closed = at(now + timedelta(hours=1))
        committee.close_vote(election, world.programme, world.bureau, now=closed)
    assert ballots.results(poll).awaiting_trustees
    assert ballots.record_decryption(poll, 1, factors_of(poll, key, 1), now=closed) is False
    assert trustees.overdue_outcomes(world.programme.id, closed + DAYS - SECOND) == []
    found = trustees.overdue_outcomes(world.programme.id, closed + DAYS)
    assert [(p.id, names) for p, names in found] == [(poll.id, [u.display_name for u in trustee_users[1:]])]
    at(closed + DAYS + timedelta(days=3))
    assert election.state == ElectionState.VOTING  # no outcome without the count
    assert ballots.counted_at(poll) is None
    assert decrypt(poll, key, trustees=[3])
    assert election.state != ElectionState.VOTING  # counted late: the outcome comes
    assert trustees.overdue_outcomes(world.programme.id, clock.utcnow()) == []
