"""What a review covers and when it may open (SPEC §4.1), against a real database: this term's decisions only,
the bureau's and an earlier committee's listed apart, a session held the same day before the review opens, the
list fixed at the opening; 14 days' grace before the due day, earlier with a reason, one review per period, a
void one held again, an early one not moving the next due date; opening with no topic to judge; the roll's
corrections until the seat has voted."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from salon import clock
from salon.audit.models import AuditEvent
from salon.ballots import services as ballots
from salon.committee import services as committee
from salon.committee.models import Pick
from salon.errors import Conflict, Forbidden, ValidationFailed
from salon.extensions import db
from salon.programmes import services as programmes
from salon.reviews import services
from salon.reviews.models import ReviewTopic
from salon.rules import committee as rules
from salon.rules import topics as topic_rules
from salon.schedule.models import Session, SessionStatus
from salon.topics.models import Nomination, TopicDecision

NOW = clock.utcnow().replace(microsecond=0)


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def seat(user) -> int:
    return programmes.seat_of(user).id


def elect(world, when):
    """All three communities stand; the election closes a day later: a new term starts then."""
    election = committee.running_election(world.programme.id) or committee.open_election(
        world.programme, world.bureau, now=when)
    for user in world.secretaries:
        committee.nominate(election, user, seat(user), now=when)
    committee.open_vote(election, world.programme, world.bureau, now=when)
    committee.close_vote(election, world.programme, world.bureau, now=when + timedelta(days=1))
    return committee.sitting_term(world.programme.id)


_numbers = iter(range(1, 1000))


def topic(world, held_at, decided_at, term=None, status=SessionStatus.HELD, title=None) -> Session:
    """A session held at `held_at` whose topic was decided at `decided_at`: by `term`'s committee (its members'
    picks) or, without a term, by the bureau."""
    number = next(_numbers)
    session = Session(programme_id=world.programme.id, number=number, starts_at=held_at, status=status)
    db.session.add(session)
    db.session.flush()
    nomination = Nomination(programme_id=world.programme.id, session_id=session.id,
                            community_id=world.communities[0].id, title=title or f"议题{number}", problem="问题")
    db.session.add(nomination)
    db.session.flush()
    db.session.add(TopicDecision(programme_id=world.programme.id, session_id=session.id, nomination_id=nomination.id,
                                 decider=topic_rules.COMMITTEE if term else topic_rules.BUREAU, rationale="",
                                 decided_at=decided_at, term_id=term.id if term else None))
    if term is not None:
        for member in term.members[:2]:
            db.session.add(Pick(programme_id=world.programme.id, session_id=session.id, term_id=term.id,
                                seat_id=member.seat_id, user_id=member.user_id, nomination_id=nomination.id,
                                picked_at=decided_at))
    db.session.flush()
    return session


def listed(review) -> dict[int, tuple[bool, str]]:
    return {t.session_id: (t.judged, t.decided_by) for t in db.session.scalars(
        select(ReviewTopic).where(ReviewTopic.review_id == review.id))}


def recall(world, review, when):
    """Everyone present, two of three oppose: re-election (66.7% > 60%)."""
    services.take_roll(review, world.bureau, [seat(u) for u in world.secretaries], now=when)
    poll = ballots.get(review.poll_id)
    overall = {o.code: o.id for q in poll.questions if q.code == "overall" for o in q.options}
    for user, choice in zip(world.secretaries, ["oppose", "oppose", "support"]):
        ballots.cast(poll.id, seat(user), [overall[choice]], world.programme.id, when)
    return services.close_review(review, world.programme, world.bureau, now=when)


def test_a_new_committee_judges_only_its_own_topics_the_rest_listed_apart(world):
    """Committee A is recalled; the bureau decides between the recall and committee B's start; one of A's picks
    is held after B starts. B's first review judges B's topic only; the bureau's topic and A's are listed apart."""
    start = NOW - timedelta(days=500)
    term_a = elect(world, start)
    a_topic = topic(world, start + timedelta(days=60), start + timedelta(days=50), term_a)
    recalled_at = start + timedelta(days=200)
    late_a = topic(world, recalled_at + timedelta(days=25), recalled_at - timedelta(days=5), term_a)
    first = services.open_review(world.programme, world.bureau, now=recalled_at)
    assert listed(first) == {a_topic.id: (True, topic_rules.COMMITTEE)}  # late_a is not held yet
    assert recall(world, first, recalled_at).outcome == rules.TRIGGERED
    with force_locale("en"):
        assert "an election is open" in services.next_step(first)
    bureau_topic = topic(world, recalled_at + timedelta(days=3), recalled_at + timedelta(days=1))
    term_b = elect(world, recalled_at + timedelta(days=5))  # seated at recall + 6 days
    assert term_b.id != term_a.id and term_b.started_at == recalled_at + timedelta(days=6)
    with force_locale("en"):  # the result page's next step stays current once the election has closed
        assert "election is open" not in services.next_step(first)
        assert "a new committee has sat" in services.next_step(first)
    b_topic = topic(world, recalled_at + timedelta(days=60), recalled_at + timedelta(days=50), term_b)

    when = services.window(world.programme, term_b).due_at
    review = services.open_review(world.programme, world.bureau, now=when)
    assert review.period_start == recalled_at and review.term_id == term_b.id
    assert listed(review) == {bureau_topic.id: (False, topic_rules.BUREAU), late_a.id: (False, services.OTHER_TERM),
                              b_topic.id: (True, topic_rules.COMMITTEE)}
    view = services.review_view(review, world.bureau, when)
    assert [t.session_id for t in view.topics] == [b_topic.id]  # only B's topic is on the ballot
    assert [(a.session_id, a.decided_by) for a in view.apart] == [(bureau_topic.id, topic_rules.BUREAU),
                                                                  (late_a.id, services.OTHER_TERM)]


def test_the_review_page_follows_the_list_fixed_at_opening(world):
    """One source for what a review judges: its list fixed at opening (review_topics), not its ballot's
    questions. A topic the list marks as listed apart is shown apart only, never also as judged; the judged ones
    keep their ballot question's title and counts."""
    term = elect(world, NOW - timedelta(days=200))
    first = topic(world, NOW - timedelta(days=100), NOW - timedelta(days=110), term, title="老旧小区加装电梯")
    second = topic(world, NOW - timedelta(days=90), NOW - timedelta(days=95), term, title="社区食堂")
    review = services.open_review(world.programme, world.bureau, now=NOW)
    view = services.review_view(review, world.bureau, NOW)
    assert [(t.session_id, t.title) for t in view.topics] == [(first.id, "老旧小区加装电梯"), (second.id, "社区食堂")]
    assert view.apart == []
    # Mark the second as another committee's in the fixed list: the page follows the list, not the ballot.
    db.session.get(ReviewTopic, (review.id, second.id)).judged = False
    db.session.get(ReviewTopic, (review.id, second.id)).decided_by = services.OTHER_TERM
    db.session.flush()
    view = services.review_view(review, world.bureau, NOW)
    assert [t.session_id for t in view.topics] == [first.id]
    assert [(a.session_id, a.decided_by) for a in view.apart] == [(second.id, services.OTHER_TERM)]


def test_a_session_held_earlier_the_same_day_is_judged_even_if_not_yet_marked_held(world):
    start = NOW - timedelta(days=200)
    term = elect(world, start)
    opens = services.window(world.programme, term).due_at + timedelta(hours=6)
    morning = topic(world, opens - timedelta(hours=5), opens - timedelta(days=10), term, status=SessionStatus.PLANNED)
    morning.duration_minutes = 120  # ended three hours before the review opens; nobody has marked it held
    running = topic(world, opens - timedelta(minutes=30), opens - timedelta(days=10), term,
                    status=SessionStatus.PLANNED)  # still under way: not held yet, it belongs to the next review
    db.session.flush()
    review = services.open_review(world.programme, world.bureau, now=opens)
    assert morning.status == SessionStatus.HELD
    assert listed(review) == {morning.id: (True, topic_rules.COMMITTEE)}
    # The list is fixed when the review opens: a session held afterwards does not join it.
    topic(world, opens + timedelta(hours=1), opens - timedelta(days=9), term)
    assert listed(review) == {morning.id: (True, topic_rules.COMMITTEE)}
    assert running.id not in listed(review)


def test_a_review_opens_from_14_days_before_it_is_due_earlier_only_with_a_reason(world):
    start = NOW - timedelta(days=150)
    term = elect(world, start)
    topic(world, start + timedelta(days=30), start + timedelta(days=20), term)
    window = services.window(world.programme, term)
    assert window.opens_from == window.due_at - timedelta(days=14)
    with pytest.raises(ValidationFailed) as refused:
        services.open_review(world.programme, world.bureau, now=window.opens_from - timedelta(seconds=1))
    assert refused.value.field == "reason"
    assert services.due(world.programme, window.opens_from - timedelta(seconds=1)) is None
    assert services.due(world.programme, window.opens_from) is not None
    early = window.opens_from - timedelta(days=30)
    review = services.open_review(world.programme, world.bureau, now=early, reason="  换届前先评议  ")
    assert review.early_reason == "换届前先评议"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "review.open")
                               .order_by(AuditEvent.seq.desc())).first()
    assert "换届前先评议" in str(event.details)


def test_opening_exactly_14_days_before_needs_no_reason(world):
    term = elect(world, NOW - timedelta(days=150))
    topic(world, NOW - timedelta(days=100), NOW - timedelta(days=110), term)
    window = services.window(world.programme, term)
    review = services.open_review(world.programme, world.bureau, now=window.opens_from)
    assert review.early_reason == ""


def test_one_review_per_period_and_an_early_one_does_not_move_the_next_due_date(world):
    start = NOW - timedelta(days=300)
    term = elect(world, start)
    term_start = term.started_at
    topic(world, start + timedelta(days=30), start + timedelta(days=20), term)
    first_due = rules.add_months(term_start, 6)
    early = first_due - timedelta(days=60)
    review = services.open_review(world.programme, world.bureau, now=early, reason="县里统一安排")
    services.take_roll(review, world.bureau, [seat(u) for u in world.secretaries], now=early)
    assert services.close_review(review, world.programme, world.bureau, now=early).outcome == rules.STANDS
    window = services.window(world.programme, term)
    assert window.number == 2 and window.due_at == rules.add_months(term_start, 12)  # not early + 6 months
    with pytest.raises(Conflict):  # the first period's review has been held: not again, not even with a reason
        services.open_review(world.programme, world.bureau, now=first_due - timedelta(days=1), reason="再评一次",
                             confirm_empty=True)
    assert window.period_starts == first_due
    # From the second period's start, early again needs a reason.
    with pytest.raises(ValidationFailed):
        services.open_review(world.programme, world.bureau, now=first_due, confirm_empty=True)


def test_a_void_review_is_held_again_for_the_same_period(world):
    term = elect(world, NOW - timedelta(days=200))
    shown = topic(world, NOW - timedelta(days=100), NOW - timedelta(days=110), term)
    when = services.window(world.programme, term).due_at
    void = services.open_review(world.programme, world.bureau, now=when)
    services.take_roll(void, world.bureau, [seat(world.secretaries[0])], now=when)  # 1 of 3: no quorum
    assert services.close_review(void, world.programme, world.bureau, now=when).outcome == rules.VOID
    assert services.window(world.programme, term).number == 1
    again = services.open_review(world.programme, world.bureau, now=when + timedelta(days=7))
    assert again.period_start == void.period_start and shown.id in listed(again)


def test_a_review_with_no_topic_to_judge_needs_confirmation(world):
    term = elect(world, NOW - timedelta(days=200))
    topic(world, NOW - timedelta(days=100), NOW - timedelta(days=110))  # the bureau's: listed, not judged
    when = services.window(world.programme, term).due_at
    with pytest.raises(Conflict) as asked:
        services.open_review(world.programme, world.bureau, now=when)
    assert asked.value.field == "confirm_empty"
    review = services.open_review(world.programme, world.bureau, now=when, confirm_empty=True)
    assert [q.code for q in ballots.get(review.poll_id).questions] == ["overall"]


def test_a_qr_check_in_is_audited_per_seat(world):
    """SPEC §4.1: every roll change is in the audit log, self check-in by the QR code included: who, which seat,
    how; checking in again changes nothing and records nothing."""
    term = elect(world, NOW - timedelta(days=200))
    topic(world, NOW - timedelta(days=100), NOW - timedelta(days=110), term)
    review = services.open_review(world.programme, world.bureau)
    first, second, _third = world.secretaries
    services.take_roll(review, world.bureau, [seat(first)])
    assert services.check_in(review, second) is True
    assert services.check_in(review, second) is False
    assert services.check_in(review, first) is False  # already on the chair's roll
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(["review.roll", "review.checkin"]))
                                .order_by(AuditEvent.seq)).all()
    assert [(e.action, e.actor_id, e.details.get("how")) for e in events] == [
        ("review.roll", world.bureau.id, "roll"), ("review.checkin", second.id, "qr")]
    assert events[1].details["seat_id"] == seat(second) and events[1].object_id == str(review.id)
    assert services.present_seats(review.id) == sorted([seat(first), seat(second)])


def test_the_roll_can_be_corrected_with_a_reason_until_the_seat_has_voted(world):
    term = elect(world, NOW - timedelta(days=200))
    topic(world, NOW - timedelta(days=100), NOW - timedelta(days=110), term)
    review = services.open_review(world.programme, world.bureau)
    review.chair_community_id = world.communities[0].id
    chair, other, third = world.secretaries
    services.take_roll(review, world.bureau, [seat(u) for u in world.secretaries])
    poll = ballots.get(review.poll_id)
    assert poll.eligible_count == 3

    with pytest.raises(ValidationFailed) as no_reason:
        services.take_off_roll(review, world.bureau, seat(other), "  ")
    assert no_reason.value.field == "reason"
    with pytest.raises(Forbidden):  # neither the bureau nor the chair
        services.take_off_roll(review, other, seat(third), "弄错了")
    services.take_off_roll(review, chair, seat(other), "渭运社区书记未到场，误点")
    assert services.present_seats(review.id) == sorted([seat(chair), seat(third)])
    assert ballots.get(review.poll_id).eligible_count == 2
    with pytest.raises(Forbidden):  # off the roll: no ballot
        ballots.cast(poll.id, seat(other), [], world.programme.id)
    with pytest.raises(ValidationFailed):  # not on the roll (any more)
        services.take_off_roll(review, world.bureau, seat(other), "再次")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "review.roll_off")).one()
    assert "误点" in str(event.details) and str(seat(other)) in str(event.details)

    ballots.cast(poll.id, seat(third), [], world.programme.id)
    with pytest.raises(Conflict) as voted:
        services.take_off_roll(review, chair, seat(third), "误点")
    # SPEC §5: the words do not say that the seat voted; the attempt is audited (docs/secrecy.md).
    assert voted.value.field == "seat_id" and voted.value.message == "该社区的点名已不能再更正。"
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "review.roll_off_refused")).one()
    assert (refused.actor_id, refused.details) == (chair.id, {"seat_id": seat(third), "reason": "误点"})
    assert services.present_seats(review.id) == sorted([seat(chair), seat(third)])
    closed = services.close_review(review, world.programme, world.bureau)
    assert closed.present == 2 and services.review_view(closed, world.bureau).present == 2
