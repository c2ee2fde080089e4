"""Deciding a session's topic waits for a sealed vote's count (SPEC §3.3, §5.1), for each role that decides: the
bureau (its first sessions) and a member of the sitting committee (a pick). Refused while the trustees have not
decrypted, allowed once they have, and allowed at once when fewer ballots than the minimum leave no count to
wait for."""
from __future__ import annotations

import pytest
from flask_babel import force_locale

from salon.ballots import services as ballots
from salon.errors import Conflict
from salon.rules import topics as topic_rules
from salon.topics import services as topics
from tests.sealed_keys import decrypt, key_provider, make_key
from tests.services.test_sealed_minimum import topic_vote

pytestmark = pytest.mark.rolled_back

KEY = make_key("p1-k6")


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def closed_vote(app, world, voters: int, number: int):
    with key_provider(app, KEY, kinds={"topic"}):
        session, noms, poll = topic_vote(world, voters, number=number)
        ballots.close_poll(poll, world.bureau)
    return session, noms, poll


def refused_before_the_count(call) -> None:
    with force_locale("en"), pytest.raises(Conflict) as refused:
        call()
    assert refused.value.field == "poll"
    assert refused.value.message == ("The trustees have not yet decrypted this vote's count: the topic is decided "
                                     "once the count is known.")


def sitting_committee(world):
    """A committee of the world's three secretaries (elected by plain ballots), deciding session 9."""
    from tests.services.test_committee import elect, secretaries

    users = secretaries(world, 3)
    elect(world, users, 3, [[0, 1, 2]] * 3)
    return users


# --- the bureau --------------------------------------------------------------------------------------------------

def test_the_bureau_cannot_decide_a_sealed_topic_before_its_count(app, world):
    session, noms, poll = closed_vote(app, world, voters=3, number=1)
    assert topics.decider_of(session, world.programme).who == topic_rules.BUREAU
    assert topics.awaiting_count(poll)
    refused_before_the_count(lambda: topics.decide(session, world.bureau, noms[1].id, "县医保局能到会"))
    assert topics.decision_of(session.id) is None
    assert decrypt(poll, KEY)
    assert not topics.awaiting_count(poll)
    decision = topics.decide(session, world.bureau, noms[0].id, "")  # the most approved: no rationale needed
    assert decision.followed_tally


def test_the_bureau_decides_at_once_below_the_minimum(app, world):
    session, noms, poll = closed_vote(app, world, voters=2, number=1)
    assert not topics.awaiting_count(poll)
    decision = topics.decide(session, world.bureau, noms[1].id, "无公布的计票，依据问题轻重")
    assert decision is not None and not decision.followed_tally


# --- a committee member ------------------------------------------------------------------------------------------

def test_a_committee_member_cannot_pick_a_sealed_topic_before_its_count(app, world):
    from salon.committee import services as committee

    users = sitting_committee(world)
    session, noms, poll = closed_vote(app, world, voters=3, number=9)
    assert topics.decider_of(session, world.programme).who == topic_rules.COMMITTEE
    refused_before_the_count(lambda: committee.record_pick(session, users[0], noms[0].id, ""))
    assert committee.picks(session.id) == []
    assert decrypt(poll, KEY)
    committee.record_pick(session, users[0], noms[0].id, "")
    committee.record_pick(session, users[1], noms[0].id, "")
    assert topics.decision_of(session.id).nomination_id == noms[0].id


def test_a_committee_member_picks_at_once_below_the_minimum(app, world):
    from salon.committee import services as committee

    users = sitting_committee(world)
    session, noms, poll = closed_vote(app, world, voters=2, number=9)
    committee.record_pick(session, users[0], noms[2].id, "与民生关系最紧")
    committee.record_pick(session, users[1], noms[2].id, "同意")
    assert topics.decision_of(session.id).nomination_id == noms[2].id
