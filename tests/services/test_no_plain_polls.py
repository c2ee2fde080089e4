"""No plain polls (SPEC §5.1; docs/secrecy.md, "No plain polls"): without a ready trustees' key no vote, review or
election opens; a topic vote waits for the key and the bureau's home page says so; a window that passes without a
key ends in a poll closed unopened, with zero ballots; an election's runoff keeps its first round's key."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from salon import clock
from salon.ballots import services as ballots
from salon.ballots.models import Counter, EligibleSeat, PollState, SealedBallot, SealedKey
from salon.committee import services as committee
from salon.committee.models import ElectionState
from salon.errors import Conflict
from salon.extensions import db
from salon.programmes import services as programmes
from salon.reviews import services as reviews
from salon.schedule import services as schedule
from salon.topics import services as topics
from salon.topics.models import Nomination
from tests.conftest import PASSWORD, login
from tests.sealed_keys import key_provider, make_key

pytestmark = pytest.mark.rolled_back

NOW = datetime(2026, 3, 1, 8, 0)
OTHER_KEY = make_key("p1-runoff")


@pytest.fixture(autouse=True)
def context(app, monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    with app.test_request_context():
        yield


def _session_with_nominations(world, n=2):
    schedule.generate(world.programme, world.bureau, 4, now=NOW)
    session = schedule.sessions(world.programme.id)[1]
    for i in range(n):
        db.session.add(Nomination(programme_id=world.programme.id, session_id=session.id,
                                  community_id=world.communities[i].id, title=f"议题{i}", problem="问题"))
    db.session.flush()
    return session


def test_a_vote_window_without_a_key_waits_and_opens_sealed_once_the_key_is_ready(world):
    session = _session_with_nominations(world)
    frame = topics.windows(session, world.programme, None)
    during = frame.vote_opens + timedelta(minutes=1)
    with key_provider(current_app, None):
        assert not ballots.key_ready(world.programme.id, topics.POLL_KIND, during)
        said = topics.advance(world.programme, during)
        assert topics.topic_poll(session.id) is None and not said  # waits: nothing opened, nothing closed
        with pytest.raises(Conflict) as refused:  # nor can the bureau open it by hand
            topics.open_voting(session, world.programme, world.bureau, during)
        assert refused.value.field == "trustees"
    assert topics.topic_poll(session.id) is None  # the refusal wrote nothing
    said = topics.advance(world.programme, during)  # the key is ready now (the suite's trustees)
    poll = topics.topic_poll(session.id)
    assert poll.state == PollState.OPEN and poll.sealed and said
    assert db.session.get(SealedKey, poll.id) is not None


def test_a_window_that_passes_without_a_key_ends_in_a_poll_closed_unopened(world):
    session = _session_with_nominations(world)
    frame = topics.windows(session, world.programme, None)
    after = frame.vote_closes + timedelta(minutes=1)
    with key_provider(current_app, None):
        said = topics.advance(world.programme, after)
    poll = topics.topic_poll(session.id)
    assert said and poll.state == PollState.CLOSED and not poll.sealed
    assert poll.eligible_count == 0 and poll.closed_at == after
    assert db.session.scalar(select(func.count()).select_from(EligibleSeat).where(EligibleSeat.poll_id == poll.id)) == 0
    counters = db.session.execute(select(Counter.shard, Counter.n).where(Counter.poll_id == poll.id)).all()
    assert len(counters) == 3 and set(counters) == {(0, 0)}  # two nominations and the question's blank
    result = ballots.results(poll)
    assert result.turnout == 0 and not result.published and not result.awaiting_trustees
    # The programme goes on: the bureau decides the topic with no count, as for a window nobody attended.
    decision = topics.decide(session, world.bureau, topics.active_nominations(session.id)[0].id,
                             "托管人未就绪，投票未能开启，由民政局确定。", now=after + timedelta(hours=1))
    assert decision is not None
    assert topics.advance(world.programme, after + timedelta(minutes=5)) == []  # closed once


def test_close_unopened_refuses_an_open_poll(world):
    session = _session_with_nominations(world)
    frame = topics.windows(session, world.programme, None)
    poll = topics.open_voting(session, world.programme, world.bureau, frame.vote_opens)
    with pytest.raises(Conflict) as refused:
        ballots.close_unopened(poll, frame.vote_opens + timedelta(minutes=1))
    assert refused.value.field == "state" and poll.state == PollState.OPEN


def test_the_bureau_home_page_says_voting_waits_for_the_trustees_key(app, world, client, monkeypatch):
    session = _session_with_nominations(world)
    frame = topics.windows(session, world.programme, None)
    during = frame.vote_opens + timedelta(minutes=1)  # nominations closed, voting should be open
    monkeypatch.setattr(clock, "utcnow", lambda: during)
    login(client, "bureau_a")
    with key_provider(app, None):  # but the key is missing
        home = client.get("/").get_data(as_text=True)
    assert "但托管密钥尚未就绪" in home and 'href="/trustees/"' in home
    assert "也可以现在开始" not in home and topics.topic_poll(session.id) is None
    home = client.get("/").get_data(as_text=True)  # with the key: the page's catch-up opens voting
    assert "但托管密钥尚未就绪" not in home
    assert topics.topic_poll(session.id).state == PollState.OPEN


def test_an_elections_runoff_keeps_its_first_rounds_key(app, world):
    users = list(world.secretaries)
    for i in range(6 - len(users)):
        community = programmes.add_community(world.programme, world.bureau, f"决选社区{i}")
        user, _ = programmes.hand_over_seat(community, world.bureau, f"sec_r{i}", f"书记{i}", PASSWORD)
        users.append(user)
    db.session.flush()
    seat = {u.id: programmes.seat_of(u).id for u in users}
    programme = world.programme
    programme.committee_size = 3
    election = committee.open_election(programme, world.bureau)
    for user in users[:4]:
        committee.nominate(election, user, seat[user.id])
    poll = committee.open_vote(election, programme, world.bureau, fewer_ok=True)
    first_term = db.session.get(SealedKey, poll.id).term
    options = {o.ref_id: o.id for o in poll.questions[0].options}
    for voter, picks in zip(users, [[0, 1], [0, 2], [0, 3], [1, 2, 3]]):  # a tie for the last two seats
        ballots.cast(poll.id, seat[voter.id], [options[seat[users[i].id]] for i in picks], programme.id)
    # The trustees' term ended meanwhile, and the next term's key is another: the runoff keeps the first round's.
    with key_provider(app, None):
        with pytest.raises(Conflict) as refused:  # a new election would not open now
            committee.open_vote(committee.open_election(programme, world.bureau), programme, world.bureau)
        assert refused.value.field in ("trustees", "election")
        committee.close_vote(election, programme, world.bureau)
    assert election.state == ElectionState.RUNOFF
    runoff = ballots.get(election.runoff_poll_id)
    assert runoff.state == PollState.OPEN and runoff.sealed
    assert db.session.get(SealedKey, runoff.id).term == first_term
    with key_provider(app, OTHER_KEY):
        assert ballots.poll_key(runoff).term == first_term
    assert db.session.scalar(select(func.count()).select_from(SealedBallot).where(SealedBallot.poll_id == runoff.id)) == 0


def test_a_review_does_not_open_without_a_key(app, world):
    programme = world.programme
    election = committee.open_election(programme, world.bureau, now=NOW - timedelta(days=200))
    for user in world.secretaries[:3]:
        committee.nominate(election, user, programmes.seat_of(user).id, now=NOW - timedelta(days=200))
    committee.open_vote(election, programme, world.bureau, now=NOW - timedelta(days=200))
    committee.close_vote(election, programme, world.bureau, now=NOW - timedelta(days=199))
    assert committee.sitting_term(programme.id) is not None
    with key_provider(app, None), pytest.raises(Conflict) as refused:
        reviews.open_review(world.programme, world.bureau, confirm_empty=True)
    assert refused.value.field == "trustees" and reviews.open_review_of(programme.id) is None


def test_an_election_awaiting_its_trustees_shows_its_page(app, world, client):
    """Closed, sealed, not yet decrypted: the election's page says the trustees are awaited (it does not fail)."""
    programme = world.programme
    programme.committee_size = 3
    users = list(world.secretaries)
    with key_provider(app, OTHER_KEY):  # trustees who decrypt later, on their own devices
        election = committee.open_election(programme, world.bureau)
        for user in users[:3]:
            committee.nominate(election, user, programmes.seat_of(user).id)
        poll = committee.open_vote(election, programme, world.bureau, fewer_ok=True)
    options = [o.id for o in poll.questions[0].options]
    for voter in users[:3]:
        ballots.cast(poll.id, programmes.seat_of(voter).id, options[:2], programme.id)
    committee.close_vote(election, programme, world.bureau)
    assert election.state == ElectionState.VOTING and not ballots.is_counted(poll)
    committee.election_view(election, world.bureau)
    login(client, "bureau_a")
    page = client.get(f"/committee/elections/{election.id}")
    assert page.status_code == 200 and "awaiting-trustees" in page.get_data(as_text=True)
