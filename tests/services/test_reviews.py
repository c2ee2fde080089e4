"""The half-year review against a real database (SPEC §4): attendance by roll and QR, the secret ballot,
the rule with its arithmetic in words, quorum, what a trigger does, and check-ins racing the close."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from salon import clock
from salon.audit.models import AuditEvent
from salon.ballots import services as ballots
from salon.ballots.models import EligibleSeat, Poll
from salon.committee import services as committee
from salon.errors import Conflict, Forbidden, NotFound
from salon.extensions import db
from salon.programmes import services as programmes
from salon.reviews import services
from salon.reviews.models import ReviewAttendance, Review
from salon.rules import committee as rules
from salon.rules import topics as topic_rules
from salon.schedule.models import Session, SessionStatus
from salon.topics import services as topics
from salon.topics.models import Nomination, TopicDecision
from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def nineteen(world) -> list:
    users = list(world.secretaries)
    for i in range(19 - len(users)):
        community = programmes.add_community(world.programme, world.bureau, f"评议社区{i}")
        user, _ = programmes.hand_over_seat(community, world.bureau, f"sec_r{i}", f"书记{i}", PASSWORD)
        users.append(user)
    db.session.flush()
    return users


def seat(user) -> int:
    return programmes.seat_of(user).id


def sit_committee(world, users, when):
    election = committee.open_election(world.programme, world.bureau, now=when)
    for user in users[:3]:
        committee.nominate(election, user, seat(user), now=when)
    poll = committee.open_vote(election, world.programme, world.bureau, now=when)
    options = [o.id for o in poll.questions[0].options]
    ballots.cast(poll.id, seat(users[0]), options, world.programme.id, when)
    committee.close_vote(election, world.programme, world.bureau, now=when + timedelta(days=1))
    return committee.sitting_term(world.programme.id)


def committee_topic(world, users, when):
    session = Session(programme_id=world.programme.id, number=5, starts_at=when, status=SessionStatus.HELD)
    db.session.add(session)
    db.session.flush()
    nomination = Nomination(programme_id=world.programme.id, session_id=session.id,
                            community_id=programmes.seat_of(users[4]).community_id, title="网格员减负", problem="问题")
    db.session.add(nomination)
    db.session.flush()
    db.session.add(TopicDecision(programme_id=world.programme.id, session_id=session.id, nomination_id=nomination.id,
                                 decider=topic_rules.COMMITTEE, rationale="", decided_at=when,
                                 term_id=committee.sitting_term(world.programme.id).id))
    db.session.flush()
    return session


def held_review(world, users, present: int, oppose: int, support: int = 0, abstain: int = 0,
                early_election: bool = False, close: bool = True):
    start = clock.utcnow() - timedelta(days=200)
    sit_committee(world, users, start)
    committee_topic(world, users, start + timedelta(days=60))
    assert services.due(world.programme, clock.utcnow()) is not None
    review = services.open_review(world.programme, world.bureau, confirm_empty=True)
    services.take_roll(review, world.bureau, [seat(u) for u in users[:present]])
    poll = ballots.get(review.poll_id)
    overall = {o.code: o.id for q in poll.questions if q.code == "overall" for o in q.options}
    topic = {o.code: o.id for q in poll.questions if q.code is None for o in q.options}
    votes = ["oppose"] * oppose + ["support"] * support + ["abstain"] * abstain
    for user, choice in zip(users, votes):
        ballots.cast(poll.id, seat(user), [overall[choice], topic["effective"]], world.programme.id)
    if early_election:
        committee.open_election(world.programme, world.bureau, reason="early", note="换届提前")
    if not close:
        return review
    return services.close_review(review, world.programme, world.bureau)


def test_19_present_12_oppose_triggers_re_election_with_the_arithmetic_in_words(world):
    users = nineteen(world)
    review = held_review(world, users, present=19, oppose=12, support=3, abstain=2)  # 2 present, silent
    assert (review.present, review.oppose, review.outcome) == (19, 12, rules.TRIGGERED)
    with force_locale("zh_Hans"):
        assert services.arithmetic(review) == "反对 12 人 / 参会 19 人 = 63.2%，高于 60%：委员会改选"
    with force_locale("en"):
        assert "63.2%" in services.arithmetic(review) and "higher than 60%" in services.arithmetic(review)
    term = db.session.get(committee.Term, review.term_id)
    assert term.end_reason == "recalled" and committee.sitting_term(world.programme.id) is None
    election = committee.running_election(world.programme.id)
    assert election.id == review.election_id and election.reason == "recall"
    view = services.review_view(review, world.bureau)
    assert view.topics[0].title == "网格员减负" and view.topics[0].counts["effective"] == 17
    assert len(view.receipts) == 17 == view.results.turnout


CLOSING_PATHS = {
    # Any page of the programme closes its due polls (the topic pages, another room's home-page catch-up).
    "close_due": lambda programme, at: ballots.close_due(at, programme.id),
    "topic pages": lambda programme, at: topics.advance(programme, at),
    "committee pages": lambda programme, at: committee.advance(programme, at),
}


@pytest.mark.parametrize("path", list(CLOSING_PATHS))
def test_a_review_closed_by_any_path_applies_the_rule_in_that_close(world, path):
    """SPEC §4.1: whichever path closes the review's poll once check-in is over, the rule is applied in that
    close: before any review page, home page or the reviews room's own tick has run, the committee's term has
    ended as recalled and the election is open, at the moment of the close."""
    users = nineteen(world)
    review = held_review(world, users, present=19, oppose=12, support=7, close=False)
    term_id, review_id = review.term_id, review.id
    later = review.checkin_until + timedelta(minutes=5)
    CLOSING_PATHS[path](world.programme, later)
    db.session.flush()
    db.session.expire_all()
    review = db.session.get(Review, review_id)
    assert (review.state.value, review.outcome, review.closed_at) == ("closed", rules.TRIGGERED, later)
    term = db.session.get(committee.Term, term_id)
    assert (term.end_reason, term.ended_at) == ("recalled", later)
    election = committee.running_election(world.programme.id)
    assert election is not None and (election.reason, election.created_at) == ("recall", later)
    assert review.election_id == election.id
    # One close did it all, in this order: the poll closed, the rule applied, the term ended, the election opened.
    actions = [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.programme_id == world.programme.id).order_by(AuditEvent.seq))]
    tail = [a for a in actions[actions.index("poll.close", actions.index("review.open")):] if a != "poll.decrypt"]
    # (sealed, SPEC §5.1: the suite's trustees decrypt in the closing transaction, at the close's moment)
    assert tail[:5] == ["poll.close", "poll.counted", "review.close", "committee.end", "election.open"]
    # The lazy path the pages run afterwards finds nothing left to do.
    assert services.advance(world.programme, later + timedelta(minutes=1)) == []


def test_a_recall_while_an_election_is_under_way_hands_the_choice_to_that_election(world):
    """The rule still applies when the bureau has already called an election: the term ends as recalled and the
    running election chooses the successor (opening a second one would be refused and the review never close)."""
    users = nineteen(world)
    review = held_review(world, users, present=19, oppose=12, support=7, early_election=True)
    assert review.state.value == "closed" and review.outcome == rules.TRIGGERED
    term = db.session.get(committee.Term, review.term_id)
    assert term.end_reason == "recalled" and committee.sitting_term(world.programme.id) is None
    running = committee.running_election(world.programme.id)
    assert running.reason == "early" and review.election_id == running.id
    assert db.session.scalars(select(committee.Election.id).where(
        committee.Election.programme_id == world.programme.id,
        committee.Election.state != committee.ElectionState.CLOSED)).all() == [running.id]


def test_19_present_11_oppose_stands(world):
    users = nineteen(world)
    review = held_review(world, users, present=19, oppose=11, support=8)
    assert review.outcome == rules.STANDS and committee.sitting_term(world.programme.id) is not None
    with force_locale("zh_Hans"):
        assert services.arithmetic(review) == "反对 11 人 / 参会 19 人 = 57.9%，不高于 60%：委员会继续任职"


def test_without_quorum_the_review_is_void_and_triggers_nothing(world):
    users = nineteen(world)
    review = held_review(world, users, present=9, oppose=9)
    assert review.outcome == rules.VOID and committee.sitting_term(world.programme.id) is not None
    assert committee.running_election(world.programme.id) is None
    assert services.due(world.programme, clock.utcnow()) is not None  # the bureau holds it again


def test_qr_check_in_once_per_seat_and_only_those_present_vote(app, world):
    users = nineteen(world)
    sit_committee(world, users, clock.utcnow() - timedelta(days=200))
    review = services.open_review(world.programme, world.bureau, confirm_empty=True)
    db.session.commit()
    poll = ballots.get(review.poll_id)
    with pytest.raises(Forbidden):
        ballots.cast(poll.id, seat(users[5]), [], world.programme.id)
    db.session.rollback()
    review = db.session.get(Review, review.id)
    poll = ballots.get(review.poll_id)
    token = services.checkin_token(review)
    found = services.review_of_token(token, world.programme.id)
    assert services.check_in(found, users[5]) is True
    assert services.check_in(found, users[5]) is False
    with pytest.raises(Forbidden):
        services.check_in(found, world.bureau)
    with pytest.raises(Forbidden):
        services.take_roll(found, users[6], [seat(users[7])])  # not the bureau, not the chair
    ballots.cast(poll.id, seat(users[5]), [], world.programme.id)
    with pytest.raises(NotFound):
        services.review_of_token(token + "x", world.programme.id)
    with pytest.raises(Conflict):
        services.check_in(found, users[6], now=review.checkin_until)
    # The check-in page offers the button up to the last moment, not at the deadline itself.
    assert services.checkin_open(review, now=review.checkin_until - timedelta(seconds=1))
    assert not services.checkin_open(review, now=review.checkin_until)
    # The code works for the review's own window, fixed at its opening: changing the setting later moves nothing.
    world.programme.checkin_hours = 1
    assert services.checkin_hours(review) == 4
    assert services.review_of_token(token, world.programme.id, now=review.checkin_until - timedelta(minutes=1))
    with pytest.raises(NotFound):
        services.review_of_token(token, world.programme.id, now=review.checkin_until)


def _run_threads(app, count, target):
    barrier = threading.Barrier(count)
    out = [None] * count

    def run(i):
        with app.app_context(), app.test_request_context():
            barrier.wait()
            try:
                out[i] = target(i)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - the answer is what we check
                db.session.rollback()
                out[i] = type(exc).__name__
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def test_qr_check_ins_racing_the_close_agree_with_present(app, world):
    from salon.accounts.models import User

    users = nineteen(world)
    sit_committee(world, users, clock.utcnow() - timedelta(days=200))
    review = services.open_review(world.programme, world.bureau, confirm_empty=True)
    db.session.commit()
    review_id, programme_id = review.id, world.programme.id
    user_ids = [u.id for u in users[3:15]]
    bureau_id = world.bureau.id
    db.session.rollback()  # the main thread holds no transaction (SQLite: no write lock) while threads run

    def act(i):
        if i == len(user_ids):
            r = db.session.get(Review, review_id)
            services.close_review(r, db.session.get(type(world.programme), programme_id),
                                  db.session.get(User, bureau_id))
            return "closed"
        return services.check_in(db.session.get(Review, review_id), db.session.get(User, user_ids[i]))

    out = _run_threads(app, len(user_ids) + 1, act)
    assert out[-1] == "closed", out
    assert set(out[:-1]) <= {True, "Conflict"}, out
    db.session.expire_all()
    review = db.session.get(Review, review_id)
    attendance = db.session.scalar(select(func.count()).select_from(ReviewAttendance).where(ReviewAttendance.review_id == review_id))
    eligible = db.session.scalar(select(func.count()).select_from(EligibleSeat).where(
        EligibleSeat.poll_id == review.poll_id))
    assert review.present == attendance == eligible == db.session.get(Poll, review.poll_id).eligible_count
    assert out[:-1].count(True) == review.present


def test_same_seat_voting_twice_at_once_counts_once(app, world):
    users = nineteen(world)
    sit_committee(world, users, clock.utcnow() - timedelta(days=200))
    review = services.open_review(world.programme, world.bureau, confirm_empty=True)
    services.take_roll(review, world.bureau, [seat(u) for u in users[:10]])
    poll = ballots.get(review.poll_id)
    oppose = next(o.id for q in poll.questions if q.code == "overall" for o in q.options if o.code == "oppose")
    db.session.commit()
    poll_id, programme_id, seat_id = poll.id, world.programme.id, seat(users[0])
    db.session.rollback()
    out = _run_threads(app, 2, lambda i: ballots.cast(poll_id, seat_id, [oppose], programme_id))
    assert sorted(isinstance(x, str) and len(x) == 64 for x in out) == [False, True], out  # a sealed ballot's fingerprint
    assert "Conflict" in out
    review = db.session.get(Review, review.id)
    services.close_review(review, world.programme, world.bureau)
    assert (review.present, review.oppose) == (10, 1) and ballots.turnout(poll_id) == 1


def test_check_ins_and_ballots_racing_the_close_leave_one_ballot_per_voter_and_agree(app, world):
    """Secretaries scan the QR code and vote at once while the bureau closes the review: whatever the order,
    everyone counted as present was eligible, every ballot counted came from a present seat, the receipts
    number the turnout, and the oppose count applied to the rule is the ballots that got in."""
    import time

    from salon.accounts.models import User

    users = nineteen(world)
    sit_committee(world, users, clock.utcnow() - timedelta(days=200))
    review = services.open_review(world.programme, world.bureau, confirm_empty=True)
    poll = ballots.get(review.poll_id)
    oppose = next(o.id for q in poll.questions if q.code == "overall" for o in q.options if o.code == "oppose")
    db.session.commit()
    review_id, poll_id, programme_id, bureau_id = review.id, poll.id, world.programme.id, world.bureau.id
    voters = [(u.id, seat(u)) for u in users[2:16]]
    db.session.rollback()

    def act(i):
        if i == len(voters):
            time.sleep(0.03)  # let some get in first
            services.close_review(db.session.get(Review, review_id), db.session.get(type(world.programme), programme_id),
                                  db.session.get(User, bureau_id))
            return "closed"
        user_id, seat_id = voters[i]
        try:
            checked = services.check_in(db.session.get(Review, review_id), db.session.get(User, user_id))
            db.session.commit()
        except Conflict:
            db.session.rollback()
            return ("late", None)
        try:
            ballots.cast(poll_id, seat_id, [oppose], programme_id)
            db.session.commit()
            return (checked, "voted")
        except Conflict:
            db.session.rollback()
            return (checked, "closed")

    out = _run_threads(app, len(voters) + 1, act)
    assert out[-1] == "closed", out
    assert all(isinstance(x, tuple) for x in out[:-1]), out
    db.session.expire_all()
    review = db.session.get(Review, review_id)
    checked_in = sum(1 for x in out[:-1] if x[0] is True)
    voted = sum(1 for x in out[:-1] if x[1] == "voted")
    assert review.present == checked_in == len(services.present_seats(review_id))
    assert review.present == db.session.get(Poll, poll_id).eligible_count
    assert ballots.turnout(poll_id) == voted == len(ballots.receipts(ballots.get(poll_id))) == review.oppose
    assert voted <= review.present
    # The rule written out, not asked of the code under test: 19 communities need 10 present; more than 60% of
    # those present opposing triggers.
    expected = rules.VOID if checked_in < 10 else rules.TRIGGERED if voted * 100 > 60 * checked_in else rules.STANDS
    assert review.outcome == expected, (voted, checked_in)


def test_exactly_sixty_percent_of_those_present_does_not_trigger(world):
    users = nineteen(world)
    review = held_review(world, users, present=10, oppose=6, support=2)  # 10 of 19: quorum just met; 2 silent
    assert (review.present, review.oppose, review.outcome) == (10, 6, rules.STANDS)
    assert committee.sitting_term(world.programme.id) is not None and review.election_id is None
    with force_locale("zh_Hans"):
        assert services.arithmetic(review) == "反对 6 人 / 参会 10 人 = 60.0%，不高于 60%：委员会继续任职"


def test_the_threshold_setting_is_the_one_applied_and_shown(world):
    users = nineteen(world)
    world.programme.review_threshold_pct = 66
    review = held_review(world, users, present=19, oppose=12, support=7)  # 63.2%: would trigger at 60%
    assert (review.threshold_pct, review.outcome) == (66, rules.STANDS)
    with force_locale("zh_Hans"):
        assert services.arithmetic(review) == "反对 12 人 / 参会 19 人 = 63.2%，不高于 66%：委员会继续任职"


def test_quorum_off_lets_a_small_review_decide(world):
    users = nineteen(world)
    world.programme.review_quorum = False
    review = held_review(world, users, present=5, oppose=4)  # 5 of 19 present: void were quorum on
    assert (review.outcome, review.quorum_required) == (rules.TRIGGERED, False)
    assert committee.running_election(world.programme.id).id == review.election_id
