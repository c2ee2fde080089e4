"""Sealed polls through the ballot engine (SPEC §5.1): cast sealed by the voter or by the server, closed,
decrypted by k of n trustees, counted; every refusal; and nothing plain about a choice in any table."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from salon import clock
from salon.ballots import services as ballots
from salon.ballots import signals
from salon.ballots.models import Counter, Poll, PollState, Receipt, SealedBallot
from salon.errors import Conflict, Forbidden, ValidationFailed
from salon.extensions import db
from salon.rules import ballots as rules
from salon.sealed import ballot as sb
from salon.sealed import board as sealed_board
from salon.sealed.elgamal import encrypt
from salon.sealed.group import Point, SeededNonces
from tests.sealed_keys import decrypt, factors_of, key_provider, make_key, seal_choices

pytestmark = pytest.mark.rolled_back

NOW = datetime(2026, 3, 1, 8, 0)
KEY = make_key("p1-k1")


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


@pytest.fixture
def fixed_now(monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)


@pytest.fixture
def sealed_keys(app):
    with key_provider(app, KEY) as key:
        yield key


def seats(world):
    return [c.seat.id for c in world.communities]


def approval_poll(world, k=2, options=3, min_published=1):
    poll = ballots.create_poll(world.programme.id, "test", "", closes_at=NOW + timedelta(days=1), opens_at=NOW,
                               min_published=min_published)
    question = ballots.add_question(poll, "Q", rules.APPROVAL, k)
    opts = [ballots.add_option(question, f"o{i}", ref_id=100 + i) for i in range(options)]
    ballots.open_poll(poll, seats(world), None, NOW)
    return poll, question, opts


def review_like_poll(world, min_published=1):
    """Two single-choice questions (as a review's): each sealed with its blank answer as the last position."""
    poll = ballots.create_poll(world.programme.id, "test", "", closes_at=NOW + timedelta(days=1), opens_at=NOW,
                               min_published=min_published)
    questions, options = [], []
    for name in ("A", "B"):
        question = ballots.add_question(poll, name, rules.SINGLE)
        questions.append(question)
        options.append([ballots.add_option(question, code=c) for c in ("keep", "oppose")])
    ballots.open_poll(poll, seats(world), None, NOW)
    return poll, questions, options


def test_a_poll_opens_sealed_only_with_a_ready_key(app, world, fixed_now):
    """No poll opens on plain counters (docs/secrecy.md, "No plain polls"): without a ready key it stays a draft."""
    with key_provider(app, None), pytest.raises(Conflict) as refused:
        approval_poll(world)
    assert refused.value.field == "trustees"
    assert [p.state for p in db.session.scalars(select(Poll))] == [PollState.DRAFT]
    assert db.session.scalar(select(func.count()).select_from(Counter)) == 0
    with key_provider(app, KEY):
        poll, question, opts = approval_poll(world)
    assert poll.sealed
    spec = ballots.seal_spec(poll)
    # protocol salon-sealed-2: the approval question ends with its blank position (option id null)
    assert spec == {"format": "salon-seal-spec-2", "protocol": "salon-sealed-2", "poll": f"{poll.id}:{poll.seal}",
                    "public_key": KEY.record["public_key"], "threshold": 2,
                    "questions": [{"id": str(question.id), "options": 4, "min": 0, "max": 2,
                                   "option_ids": [o.id for o in opts] + [None], "blank": 3}]}


def test_approval_poll_sealed_by_voter_and_server_counted_by_k_of_n(world, fixed_now, sealed_keys):
    poll, _question, opts = approval_poll(world)
    s1, s2, s3 = seats(world)
    voter_ballot = seal_choices(poll, [[1, 0, 1]])
    receipt1 = ballots.cast(poll.id, s1, None, world.programme.id, sealed=voter_ballot)
    receipt2 = ballots.cast(poll.id, s2, [opts[0].id], world.programme.id)  # plain: sealed by the server
    receipt3 = ballots.cast(poll.id, s3, [], world.programme.id)  # blank
    assert len(receipt1) == 64 and receipt1 == sealed_board.ballots.fingerprint(voter_ballot)
    assert len({receipt1, receipt2, receipt3}) == 3
    assert ballots.receipts(poll) == []
    ballots.close_poll(poll, None, NOW)
    assert ballots.receipts(poll) == sorted([receipt1, receipt2, receipt3])
    result = ballots.results(poll)
    assert result.awaiting_trustees and not result.published and result.counts == {}
    with pytest.raises(Conflict):
        ballots.tally(poll)
    assert ballots.board(poll) is None
    assert ballots.polls_to_decrypt(world.programme.id, KEY.term, 3) == [poll]

    counted = []

    def on_counted(sender, **_kw):
        counted.append(sender.id)

    signals.poll_counted.connect(on_counted)
    try:
        assert ballots.record_decryption(poll, 3, factors_of(poll, KEY, 3)) is False  # trustee 1 is missing
        assert ballots.decryption_status(poll)[0] == [3] and counted == []
        assert ballots.polls_to_decrypt(world.programme.id, KEY.term, 3) == []
        assert ballots.record_decryption(poll, 2, factors_of(poll, KEY, 2)) is True
    finally:
        signals.poll_counted.disconnect(on_counted)
    assert counted == [poll.id]
    result = ballots.results(poll)
    assert result.published and not result.awaiting_trustees
    assert [result.counts[o.id] for o in opts] == [2, 0, 1]
    assert result.blanks == {_question_id(poll): 1}  # the blank position of salon-sealed-2
    assert ballots.tally(poll).by_ref[_question_id(poll)] == {100: 2, 101: 0, 102: 1}
    assert ballots.tally(poll).blanks == {_question_id(poll): 1}
    board = ballots.board(poll)
    assert sealed_board.verify_board(board) == []
    assert sorted(e["fingerprint"] for e in board["ballots"]) == ballots.receipts(poll)
    assert sorted(e["sealed_by"] for e in board["ballots"]) == ["server", "server", "voter"]
    assert board["format"] == "salon-sealed-board-3" and board["protocol"] == "salon-sealed-2"
    assert board["questions"][0]["blank"] is True
    assert board["result"] == [[2, 0, 1, 1]]  # the last: the blank ballot
    with pytest.raises(Conflict):
        ballots.record_decryption(poll, 1, factors_of(poll, KEY, 1))


def test_a_stale_remembered_shape_neither_refuses_nor_accepts_wrongly(world, fixed_now, sealed_keys):
    """cast checks a sealed ballot against the shape it remembers without reading the poll first; a shape of
    another opening (another database's poll of this id) is found out and the poll read, whichever way."""
    from dataclasses import replace

    from salon.ballots.services import sealing

    poll, _question, _opts = approval_poll(world)
    s1, s2, s3 = seats(world)
    shape = sealing.sealed_shape(poll.id, poll.seal)
    # stale context: the ballot's proofs fail against it, then the poll is read and they pass
    sealing._shapes[poll.id] = replace(shape, seal="another-opening", context=f"{poll.id}:another-opening")
    first = seal_choices(poll, [[1, 0, 0]], "stale-1")
    assert ballots.cast(poll.id, s1, None, world.programme.id, sealed=first) == sb.fingerprint(first)
    assert sealing.cached_shape(poll.id).seal == poll.seal
    # stale seal but the same context: the proofs pass, the seal under the lock differs, the poll is read
    sealing._shapes[poll.id] = replace(shape, seal="another-opening")
    second = seal_choices(poll, [[0, 1, 0]], "stale-2")
    assert ballots.cast(poll.id, s2, None, world.programme.id, sealed=second) == sb.fingerprint(second)
    # a ballot made for another poll is refused all the same, and a second ballot of a seat too
    wrong = copy.deepcopy(seal_choices(poll, [[0, 0, 1]], "stale-3"))
    wrong["poll"] = "elsewhere"
    _refused(lambda: ballots.cast(poll.id, s3, None, world.programme.id, sealed=wrong), "sealed")
    with pytest.raises(Conflict):
        ballots.cast(poll.id, s1, None, world.programme.id, sealed=seal_choices(poll, [[0, 0, 1]], "stale-4"))
    assert db.session.scalar(select(func.count()).select_from(SealedBallot)
                             .where(SealedBallot.poll_id == poll.id)) == 2


def _question_id(poll):
    return poll.questions[0].id


def test_single_choice_questions_count_blanks_sealed(world, fixed_now, sealed_keys):
    poll, questions, options = review_like_poll(world)
    spec = ballots.seal_spec(poll)
    assert [q["blank"] for q in spec["questions"]] == [2, 2]
    assert [(q["min"], q["max"], q["options"]) for q in spec["questions"]] == [(1, 1, 3), (1, 1, 3)]
    s1, s2, s3 = seats(world)
    ballots.cast(poll.id, s1, None, world.programme.id, sealed=seal_choices(poll, [[0, 1, 0], [0, 0, 1]]))
    ballots.cast(poll.id, s2, [options[0][1].id, options[1][0].id], world.programme.id)
    ballots.cast(poll.id, s3, [options[1][1].id], world.programme.id)  # A answered blank
    ballots.close_poll(poll, None, NOW)
    assert decrypt(poll, KEY, trustees=[1, 3])
    result = ballots.results(poll)
    assert [result.counts[o.id] for o in options[0]] == [0, 2]
    assert [result.counts[o.id] for o in options[1]] == [1, 1]
    assert result.blanks == {questions[0].id: 1, questions[1].id: 1}
    assert ballots.tally(poll).by_code[questions[0].id] == {"keep": 0, "oppose": 2}
    assert sealed_board.verify_board(ballots.board(poll)) == []


def _refused(call, field):
    with pytest.raises(ValidationFailed) as error:
        call()
    assert error.value.field == field


def test_bad_sealed_ballots_are_refused_and_leave_nothing(world, fixed_now, sealed_keys, monkeypatch):
    poll, question, opts = approval_poll(world, k=2)
    review, _qs, _os = review_like_poll(world)
    seat, other_seat = seats(world)[:2]
    programme = world.programme.id
    spec, rspec = ballots.seal_spec(poll), ballots.seal_spec(review)
    key = Point.from_hex(spec["public_key"])
    questions = [sb.Question.from_json(q) for q in spec["questions"]]
    rquestions = [sb.Question.from_json(q) for q in rspec["questions"]]

    def cast(target, ballot, seat_id=seat):
        return lambda: ballots.cast(target.id, seat_id, None, programme, sealed=ballot)

    good = seal_choices(poll, [[1, 0, 0]])
    # an answer of 2: its ciphertext replaced by an encryption of 2 (the bit proof cannot hold)
    two = copy.deepcopy(good)
    two["answers"][0]["choices"][0].update(encrypt(key, 2, 12345).to_json())
    _refused(cast(poll, two), "sealed")
    # more approvals than K = 2 (sealed under a looser rule: the weighted sum proof is for 1 … 3)
    loose = [sb.Question(q.id, q.options, 0, q.options - 1, True) for q in questions]
    _refused(cast(poll, sb.seal(spec["poll"], key, loose, [[1, 1, 1, 0]], SeededNonces("x"), 2)), "sealed")
    # two answers to a single-choice question
    wide = [sb.Question(q.id, q.options, 1, q.options) for q in rquestions]
    _refused(cast(review, sb.seal(rspec["poll"], key, wide, [[1, 1, 0], [1, 0, 0]], SeededNonces("y"), 2)), "sealed")
    # a proof replayed from another poll, or from another opening of this one
    from_review = seal_choices(review, [[1, 0, 0], [1, 0, 0]])
    _refused(cast(poll, from_review), "sealed")
    replayed = copy.deepcopy(good)
    replayed["poll"] = f"{poll.id}:{'0' * 32}"
    _refused(cast(poll, replayed), "sealed")
    other_question = sb.seal(spec["poll"], key, [sb.Question(str(question.id + 1), 4, 0, 2, True)], [[1, 0, 0, 0]],
                             SeededNonces("z"), 2)
    other_question["answers"][0]["question"] = str(question.id)
    _refused(cast(poll, other_question), "sealed")
    # a tampered ciphertext
    tampered = copy.deepcopy(good)
    tampered["answers"][0]["choices"][1]["beta"] = good["answers"][0]["choices"][0]["beta"]
    _refused(cast(poll, tampered), "sealed")
    # more approvals than K, plain
    _refused(lambda: ballots.cast(poll.id, seat, [o.id for o in opts], programme), "choices")
    assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 0
    assert ballots.turnout(poll.id) == 0

    assert ballots.cast(poll.id, seat, None, programme, sealed=good) == sb.fingerprint(good)
    # a second ballot from the same seat
    with pytest.raises(Conflict):
        ballots.cast(poll.id, seat, None, programme, sealed=seal_choices(poll, [[0, 1, 0]], seed="again"))
    # the same ballot (or one answer of it) copied by another seat
    savepoint = db.session.begin_nested()
    _refused(cast(poll, good, other_seat), "sealed")
    savepoint.rollback()
    assert ballots.turnout(poll.id) == 1
    with pytest.raises(Forbidden):
        ballots.cast(poll.id, world.other_community.seat.id, None, programme, sealed=seal_choices(poll, [[0, 0, 1]]))


def test_wrong_decryption_shares_are_refused(world, fixed_now, sealed_keys):
    poll, _q, _opts = approval_poll(world)
    ballots.cast(poll.id, seats(world)[0], [_opts[0].id], world.programme.id)
    ballots.cast(poll.id, seats(world)[1], [_opts[1].id], world.programme.id)
    with pytest.raises(Conflict):  # still open
        ballots.record_decryption(poll, 1, factors_of_open(poll))
    ballots.close_poll(poll, None, NOW)
    good = factors_of(poll, KEY, 1)
    # trustee 2's factors sent as trustee 1's: not made with trustee 1's share
    _refused(lambda: ballots.record_decryption(poll, 1, {**factors_of(poll, KEY, 2), "trustee": 1}), "factors")
    # one factor changed
    bad = copy.deepcopy(good)
    bad["factors"][0][0] = good["factors"][0][1]
    _refused(lambda: ballots.record_decryption(poll, 1, bad), "factors")
    _refused(lambda: ballots.record_decryption(poll, 1, {"trustee": 1, "factors": good["factors"][:0]}), "factors")
    _refused(lambda: ballots.record_decryption(poll, 1, {**good, "trustee": 2}), "trustee")
    _refused(lambda: ballots.record_decryption(poll, 4, good), "trustee")
    assert ballots.decryption_status(poll)[0] == []
    assert ballots.record_decryption(poll, 1, good) is False
    with pytest.raises(Conflict):
        ballots.record_decryption(poll, 1, good)
    assert ballots.results(poll).awaiting_trustees


def factors_of_open(poll):
    return {"trustee": 1, "factors": []}


def test_nothing_plain_about_a_sealed_choice_is_in_any_table(world, fixed_now, sealed_keys):
    """After the cast and after the close, until counted: no counter moved, no receipt code, and every stored
    value of the poll's ballot tables is the same whichever choice the voters made (ciphertexts only)."""
    poll, _q, opts = approval_poll(world)
    ballots.cast(poll.id, seats(world)[0], [opts[2].id], world.programme.id)
    ballots.cast(poll.id, seats(world)[1], None, world.programme.id, sealed=seal_choices(poll, [[0, 1, 1]]))

    def assert_nothing_plain():
        assert set(db.session.scalars(select(Counter.n).where(Counter.poll_id == poll.id))) == {0}
        assert db.session.scalar(select(func.count()).select_from(Receipt).where(Receipt.poll_id == poll.id)) == 0
        for stored in db.session.scalars(select(SealedBallot.ballot).where(SealedBallot.poll_id == poll.id)):
            ballot = json.loads(stored)
            assert set(ballot) == {"protocol", "poll", "answers"}
            for answer in ballot["answers"]:
                assert set(answer) == {"question", "choices", "proof"}
                for choice in answer["choices"]:
                    assert set(choice) == {"alpha", "beta", "proof"}

    assert_nothing_plain()
    ballots.close_poll(poll, None, NOW)
    assert_nothing_plain()
    assert decrypt(poll, KEY)
    assert [ballots.results(poll).counts[o.id] for o in opts] == [0, 1, 2]


# --- the rooms' polls, sealed --------------------------------------------------------------------------------

def test_a_sealed_election_is_counted_when_the_trustees_decrypt(app, world):
    from salon.committee import services as committee
    from salon.committee.models import ElectionState

    now = clock.utcnow()
    with key_provider(app, KEY, kinds={"election"}):
        election = committee.open_election(world.programme, world.bureau, now=now)
        for user, community in zip(world.secretaries, world.communities):
            committee.nominate(election, user, community.seat.id, now=now)
        poll = committee.open_vote(election, world.programme, world.bureau, now=now)
        assert poll.sealed
        spec = ballots.seal_spec(poll)
        positions = spec["questions"][0]["option_ids"]
        k = spec["questions"][0]["max"]
        assert k >= 2
        first = seal_choices(poll, [[1] * k + [0] * (len(positions) - k)])
        ballots.cast(poll.id, seats(world)[0], None, world.programme.id, now, sealed=first)
        ballots.cast(poll.id, seats(world)[1], positions[:k], world.programme.id, now)
        ballots.cast(poll.id, seats(world)[2], positions[:1], world.programme.id, now)
        committee.close_vote(election, world.programme, world.bureau, now=now + timedelta(hours=1))
        assert election.state == ElectionState.VOTING  # closed, not counted: nobody is seated yet
        assert ballots.results(poll).awaiting_trustees
        assert decrypt(poll, KEY, trustees=[1, 3])
    assert election.state != ElectionState.VOTING  # counted by poll_counted: seated (or a runoff)
    result = ballots.results(poll)
    assert result.published and result.counts[positions[0]] == 3
    assert sealed_board.verify_board(ballots.board(poll)) == []


def test_a_sealed_review_applies_its_rule_once_counted(app, world):
    from salon.reviews import services as reviews
    from salon.reviews.models import ReviewState
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
        for user in users[:3]:  # 4 of 5 oppose (3 sealed by the server, 1 by the voter); the fifth is silent
            ballots.cast(poll.id, seat(user), [overall["oppose"], topic["effective"]], world.programme.id)
        spec = ballots.seal_spec(poll)
        rows = [[1 if oid == overall["oppose"] or oid == topic["effective"] else 0 for oid in q["option_ids"]]
                for q in spec["questions"]]
        assert all(sum(row) == 1 for row in rows)
        ballots.cast(poll.id, seat(users[3]), None, world.programme.id, sealed=seal_choices(poll, rows))
        reviews.close_review(review, world.programme, world.bureau)
        assert review.state == ReviewState.OPEN and ballots.results(poll).awaiting_trustees
        assert decrypt(poll, KEY, trustees=[2, 3])
    assert review.state == ReviewState.CLOSED
    assert (review.present, review.oppose) == (5, 4)
    assert ballots.results(poll).blanks  # a single-choice question's blank answers are counted
