"""SPEC §5's publication minimum kept by sealed polls (SPEC §5.1), at its boundary for each kind of poll: with one
ballot fewer than the minimum no sum whose count SPEC withholds is decrypted — nobody is asked for it, the stored
decryption factors do not cover it, its counter holds no count and the bulletin board marks it withheld — unless
the kind's outcome needs it (an election names its winners); with exactly the minimum everything is decrypted.
And a sealed poll below the minimum is still counted (poll_counted), so the programme goes on."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from salon import clock
from salon.ballots import services as ballots
from salon.ballots import signals
from salon.ballots.models import Counter, Decryption, Option
from salon.errors import Conflict, ValidationFailed
from salon.extensions import db
from salon.schedule.models import Session, SessionStatus
from salon.sealed import board as sealed_board
from salon.sealed.group import SeededNonces
from salon.topics import services as topics
from salon.topics.models import Nomination
from tests.sealed_keys import decrypt, factors_of, key_provider, make_key

pytestmark = pytest.mark.rolled_back

KEY = make_key("p1-k5")


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


@pytest.fixture
def counted():
    """The polls poll_counted was sent for, in order."""
    seen = []

    def on_counted(sender, **_kw):
        seen.append(sender.id)

    signals.poll_counted.connect(on_counted)
    yield seen
    signals.poll_counted.disconnect(on_counted)


def minimum(world) -> int:
    assert world.programme.min_ballots_published == 3  # the default: min − 1 = 2 ballots, the minimum 3
    return world.programme.min_ballots_published


def factor_positions(poll) -> set[tuple[int, int]]:
    """The (question, position) pairs any stored decryption factor of the poll covers."""
    return {(q, o) for d in db.session.scalars(select(Decryption).where(Decryption.poll_id == poll.id))
            for q, row in enumerate(d.factors) for o, factor in enumerate(row) if factor is not None}


def all_positions(poll) -> set[tuple[int, int]]:
    spec = ballots.seal_spec(poll)
    return {(q, o) for q, question in enumerate(spec["questions"]) for o in range(question["options"])}


def counter_of(poll) -> dict[int, int]:
    return {option_id: int(n) for option_id, n in db.session.execute(
        select(Counter.option_id, func.sum(Counter.n)).where(Counter.poll_id == poll.id).group_by(Counter.option_id))}


def position_of(poll, option_id: int) -> tuple[int, int]:
    for q, question in enumerate(ballots.seal_spec(poll)["questions"]):
        if option_id in question["option_ids"]:
            return q, question["option_ids"].index(option_id)
    raise AssertionError(option_id)


# --- a topic vote: below the minimum nothing is decrypted, and it is counted at its close --------------------------

def topic_vote(world, voters: int, number: int = 2):
    """A session's sealed approval vote over three nominations; `voters` seats approve the first nomination (and
    the first of them the second too); closed."""
    now = clock.utcnow()
    session = Session(programme_id=world.programme.id, number=number, starts_at=now + timedelta(days=20),
                      status=SessionStatus.PLANNED, chair_community_id=world.communities[0].id)
    db.session.add(session)
    db.session.flush()
    noms = []
    for i in range(3):
        nom = Nomination(programme_id=world.programme.id, session_id=session.id,
                         community_id=world.communities[i].id, title=f"议题{i}", problem="问题")
        db.session.add(nom)
        noms.append(nom)
    db.session.flush()
    poll = topics.build_poll(session, world.programme, world.bureau, now)
    assert poll.sealed
    options = {o.ref_id: o.id for o in poll.questions[0].options}
    for i, secretary in enumerate(world.secretaries[:voters]):
        chosen = [options[noms[0].id]] + ([options[noms[1].id]] if i == 0 else [])
        ballots.cast(poll.id, world.communities[i].seat.id, chosen, world.programme.id)
    return session, noms, poll


def test_a_topic_vote_one_ballot_below_the_minimum_decrypts_nothing_and_is_counted_at_its_close(app, world, counted):
    with key_provider(app, KEY, kinds={"topic"}):
        session, noms, poll = topic_vote(world, minimum(world) - 1)
        ballots.close_poll(poll, world.bureau)
    assert counted == [poll.id] and ballots.is_counted(poll)  # counted in the close, with no trustee
    for trustee in (1, 2, 3):
        assert ballots.polls_to_decrypt(world.programme.id, KEY.term, trustee) == []
    with pytest.raises(Conflict):
        ballots.record_decryption(poll, 1, factors_of(poll, KEY, 1))
    assert factor_positions(poll) == set() and ballots.decryption_status(poll)[0] == []
    assert set(counter_of(poll).values()) == {0}  # two approvals of the first nomination, and no count of them
    result = ballots.results(poll)
    assert not result.published and not result.awaiting_trustees and result.counts == {}
    tally = ballots.tally(poll)
    blank_option = db.session.scalar(select(Option.id).where(Option.question_id == poll.questions[0].id,
                                                             Option.is_blank.is_(True)))
    assert tally.counts == {} and tally.blanks == {}
    assert tally.undecrypted == {o.id for o in poll.questions[0].options} | {blank_option}  # the blank too
    board = ballots.published_board(poll)
    assert sealed_board.verify_board(board) == []
    assert board["minimum"] == 3 and board["withheld"] == [[True, True, True, True]]
    assert board["result"] == [[None, None, None, None]] and board["decryptions"] == []
    assert len(board["ballots"]) == 2 and sorted(e["fingerprint"] for e in board["ballots"]) == ballots.receipts(poll)


def test_a_topic_vote_at_the_minimum_is_decrypted_whole(app, world, counted):
    with key_provider(app, KEY, kinds={"topic"}):
        session, noms, poll = topic_vote(world, minimum(world))
        ballots.close_poll(poll, world.bureau)
    assert counted == [] and not ballots.is_counted(poll)
    request = ballots.decryption_request(poll)
    assert request["undecrypted"] == [[False, False, False, False]]  # the blank position last
    assert decrypt(poll, KEY) and counted == [poll.id]
    assert factor_positions(poll) == all_positions(poll)
    result = ballots.results(poll)
    assert result.published and [result.ref_counts[n.id] for n in noms] == [3, 1, 0]
    board = ballots.published_board(poll)
    assert sealed_board.verify_board(board) == [] and board["withheld"] == [[False, False, False, False]]
    assert board["result"] == [[3, 1, 0, 0]]  # no blank ballot
    assert result.blanks == {poll.questions[0].id: 0}


# --- an election: who won needs the counts, so they are decrypted, but never published -----------------------------

def election_vote(app, world, voters: int):
    from salon.committee import services as committee
    from tests.services.test_committee import secretaries, seat

    users = secretaries(world, 4)
    with key_provider(app, KEY, kinds={"election"}):
        election = committee.open_election(world.programme, world.bureau)
        for user in users:
            committee.nominate(election, user, seat(user))
        poll = committee.open_vote(election, world.programme, world.bureau)
        assert poll.sealed
        options = {o.ref_id: o.id for o in poll.questions[0].options}
        for voter in users[:voters]:  # the first three candidates approved by every voter
            ballots.cast(poll.id, seat(voter), [options[seat(u)] for u in users[:3]], world.programme.id)
        committee.close_vote(election, world.programme, world.bureau)
    return election, poll, users


def test_an_election_below_the_minimum_decrypts_its_counts_to_name_the_winners_and_publishes_none(app, world, counted):
    from salon.committee import services as committee
    from salon.committee.models import ElectionState

    election, poll, users = election_vote(app, world, minimum(world) - 1)
    assert election.state == ElectionState.VOTING and not ballots.is_counted(poll)
    # the candidates are decrypted, the blank position (last) is not: the outcome does not need it
    assert ballots.decryption_request(poll)["undecrypted"] == [[False] * 4 + [True]]
    assert decrypt(poll, KEY) and counted == [poll.id]
    assert election.state == ElectionState.CLOSED
    members = committee.sitting_members(committee.sitting_term(world.programme.id))
    assert sorted(m.user_id for m in members) == sorted(u.id for u in users[:3])
    assert factor_positions(poll) == all_positions(poll) - {(0, 4)}  # decrypted: the outcome needs every count
    result = ballots.results(poll)
    assert not result.published and result.counts == {}
    board = ballots.published_board(poll)
    assert sealed_board.verify_board(board) == []
    assert board["withheld"] == [[True] * 5] and board["result"] == [[None] * 5] and board["decryptions"] == []
    assert ballots.tally(poll).blanks == {}


def test_an_election_at_the_minimum_publishes_its_counts(app, world):
    election, poll, users = election_vote(app, world, minimum(world))
    assert decrypt(poll, KEY)
    board = ballots.published_board(poll)
    assert sealed_board.verify_board(board) == [] and board["withheld"] == [[False] * 5]
    assert sorted(board["result"][0][:4]) == [0, 3, 3, 3] and board["result"][0][4] == 0
    assert ballots.results(poll).published


# --- a review: only the oppose count, which the re-election rule needs and SPEC always publishes --------------------

def review_vote(app, world, voters: int):
    from salon.reviews import services as reviews
    from tests.services.test_reviews import committee_topic, nineteen, seat, sit_committee

    users = nineteen(world)
    start = clock.utcnow() - timedelta(days=200)
    sit_committee(world, users, start)
    committee_topic(world, users, start + timedelta(days=60))
    with key_provider(app, KEY, kinds={"review"}):
        review = reviews.open_review(world.programme, world.bureau, confirm_empty=True)
        reviews.take_roll(review, world.bureau, [seat(u) for u in users[:5]])
        poll = ballots.get(review.poll_id)
        assert poll.sealed
        overall = {o.code: o.id for q in poll.questions if q.code == "overall" for o in q.options}
        topic = {o.code: o.id for q in poll.questions if q.code is None for o in q.options}
        votes = [("oppose", "effective"), ("support", "partly"), ("oppose", "not_effective")][:voters]
        for user, (whole, effect) in zip(users, votes):
            ballots.cast(poll.id, seat(user), [overall[whole], topic[effect]], world.programme.id)
        reviews.close_review(review, world.programme, world.bureau)
    return review, poll, overall, topic


def test_a_review_below_the_minimum_decrypts_only_its_oppose_count(app, world, counted):
    from salon.reviews import services as reviews
    from salon.reviews.models import ReviewState

    review, poll, overall, topic = review_vote(app, world, minimum(world) - 1)
    assert review.state == ReviewState.OPEN and not ballots.is_counted(poll) and poll.id not in counted
    oppose = position_of(poll, overall["oppose"])
    request = ballots.decryption_request(poll)
    assert {(q, o) for q, row in enumerate(request["undecrypted"]) for o, out in enumerate(row) if not out} == {oppose}
    # a trustee's device that decrypts everything is refused, and nothing is stored
    whole = {**request, "undecrypted": None}
    with pytest.raises(ValidationFailed) as refused:
        ballots.record_decryption(poll, 1, sealed_board.request_factors(whole, 1, KEY.secrets[1], SeededNonces("x")))
    assert refused.value.field == "factors" and factor_positions(poll) == set()
    assert decrypt(poll, KEY) and counted[-1] == poll.id
    assert review.state == ReviewState.CLOSED and (review.present, review.oppose) == (5, 1)
    assert factor_positions(poll) == {oppose}
    counters = counter_of(poll)
    assert counters.pop(overall["oppose"]) == 1
    assert set(counters.values()) == {0}  # support 1, effective 1, partly 1: none of them counted
    tally = ballots.tally(poll)
    assert tally.counts == {overall["oppose"]: 1}
    view = reviews.review_view(review, world.bureau)
    assert view.overall is None and all(row.counts is None for row in view.topics)
    board = ballots.published_board(poll)
    assert sealed_board.verify_board(board) == []
    shown = {(q, o): n for q, row in enumerate(board["result"]) for o, n in enumerate(row) if n is not None}
    assert shown == {oppose: 1}
    assert {(q, o) for q, row in enumerate(board["withheld"]) for o, out in enumerate(row) if not out} == {oppose}
    blanks = {o.id for o in db.session.scalars(select(Option).where(Option.poll_id == poll.id, Option.is_blank))}
    assert blanks <= tally.undecrypted


def test_a_review_at_the_minimum_decrypts_every_count(app, world):
    from salon.reviews import services as reviews

    review, poll, overall, topic = review_vote(app, world, minimum(world))
    assert ballots.decryption_request(poll)["undecrypted"] == [[False] * 5, [False] * 4]
    assert decrypt(poll, KEY)
    assert review.oppose == 2 and factor_positions(poll) == all_positions(poll)
    view = reviews.review_view(review, world.bureau)
    assert view.overall == {"support": 1, "oppose": 2, "abstain": 0}
    assert view.topics[0].counts == {"effective": 1, "partly": 1, "not_effective": 1, "no_view": 0}
    board = ballots.published_board(poll)
    assert sealed_board.verify_board(board) == [] and not any(any(row) for row in board["withheld"])
