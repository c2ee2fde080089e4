"""The ballot engine against a real database: states, windows, limits, publication, receipts."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from salon import clock
from salon.audit.models import AuditEvent
from salon.ballots import services as ballots
from salon.ballots.models import PollState
from salon.errors import Conflict, Forbidden, NotFound, ValidationFailed
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules import ballots as rules

pytestmark = pytest.mark.rolled_back  # one transaction per test, rolled back; world built once

NOW = datetime(2026, 3, 1, 8, 0)


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


@pytest.fixture
def fixed_now(monkeypatch):
    state = {"now": NOW}
    monkeypatch.setattr(clock, "utcnow", lambda: state["now"])
    return state


def seats(world):
    return [c.seat.id for c in world.communities]


def make_poll(world, k=3, options=4, min_published=3, closes=NOW + timedelta(days=7), single=False):
    poll = ballots.create_poll(world.programme.id, "test", "测试", closes_at=closes, opens_at=NOW,
                               min_published=min_published)
    question = ballots.add_question(poll, "Q", rules.SINGLE if single else rules.APPROVAL, k)
    opts = [ballots.add_option(question, f"选项{i}", ref_id=100 + i) for i in range(options)]
    return poll, question, opts


def test_states_are_guarded(world, fixed_now):
    poll, question, opts = make_poll(world)
    with pytest.raises(Conflict):
        ballots.close_poll(poll)
    with pytest.raises(Conflict):
        ballots.cast(poll.id, seats(world)[0], [opts[0].id], world.programme.id)
    ballots.open_poll(poll, seats(world), world.bureau, NOW)
    with pytest.raises(Conflict):
        ballots.open_poll(poll, seats(world), world.bureau, NOW)
    with pytest.raises(Conflict):
        ballots.add_option(question, "late")
    ballots.close_poll(poll, world.bureau, NOW)
    assert poll.state == PollState.CLOSED
    with pytest.raises(Conflict):
        ballots.close_poll(poll)


def test_k_approvals_accepted_k_plus_one_rejected(world, fixed_now):
    poll, _q, opts = make_poll(world, k=3)
    ballots.open_poll(poll, seats(world), None, NOW)
    with pytest.raises(ValidationFailed) as exc:
        ballots.cast(poll.id, seats(world)[0], [o.id for o in opts[:4]], world.programme.id)
    assert exc.value.field == "choices"
    db.session.rollback()
    poll, _q, opts = make_poll(world, k=3)
    ballots.open_poll(poll, seats(world), None, NOW)
    assert ballots.cast(poll.id, seats(world)[0], [o.id for o in opts[:3]], world.programme.id)
    assert ballots.cast(poll.id, seats(world)[1], [opts[0].id], world.programme.id)
    assert ballots.cast(poll.id, seats(world)[2], [], world.programme.id)  # blank
    ballots.close_poll(poll, None, NOW)
    result = ballots.results(poll)
    assert result.turnout == 3 and result.published
    assert [result.counts[o.id] for o in opts] == [2, 1, 1, 0]
    # A sealed approval ballot carries no blank position, so the blank one is in the turnout only (issue 17).
    assert result.ref_counts[100] == 2


def test_bad_choices(world, fixed_now):
    poll, _q, opts = make_poll(world)
    other, _q2, other_opts = make_poll(world)
    ballots.open_poll(poll, seats(world), None, NOW)
    for choices in ([opts[0].id, opts[0].id], [other_opts[0].id], [999999]):
        with pytest.raises(ValidationFailed):
            ballots.cast(poll.id, seats(world)[0], choices, world.programme.id)
    assert ballots.turnout(poll.id) == 0


def test_single_choice_question(world, fixed_now):
    poll, _q, opts = make_poll(world, single=True)
    ballots.open_poll(poll, seats(world), None, NOW)
    with pytest.raises(ValidationFailed):
        ballots.cast(poll.id, seats(world)[0], [opts[0].id, opts[1].id], world.programme.id)
    assert ballots.cast(poll.id, seats(world)[0], [opts[1].id], world.programme.id)


def test_one_ballot_per_seat_and_eligibility(world, fixed_now):
    poll, _q, opts = make_poll(world)
    ballots.open_poll(poll, seats(world)[:2], None, NOW)
    ballots.cast(poll.id, seats(world)[0], [opts[0].id], world.programme.id)
    with pytest.raises(Conflict) as exc:
        ballots.cast(poll.id, seats(world)[0], [opts[1].id], world.programme.id)
    assert exc.value.field == "seat"
    with pytest.raises(Forbidden):
        ballots.cast(poll.id, seats(world)[2], [opts[1].id], world.programme.id)
    with pytest.raises(Forbidden):
        ballots.cast(poll.id, None, [opts[1].id], world.programme.id)
    with pytest.raises(NotFound):
        ballots.cast(poll.id, world.other_community.seat.id, [], world.other_programme.id)
    assert ballots.turnout(poll.id) == 1


def test_window_last_moment_and_close_moment(world, fixed_now):
    closes = NOW + timedelta(hours=1)
    poll, _q, opts = make_poll(world, closes=closes)
    ballots.open_poll(poll, seats(world), None, NOW)
    fixed_now["now"] = closes - timedelta(minutes=1)
    ballots.cast(poll.id, seats(world)[0], [opts[0].id], world.programme.id)
    fixed_now["now"] = closes
    with pytest.raises(Conflict) as exc:
        ballots.cast(poll.id, seats(world)[1], [opts[0].id], world.programme.id)
    assert exc.value.field == "poll"
    assert [p.id for p in ballots.close_due(closes, world.programme.id)] == [poll.id]
    assert poll.state == PollState.CLOSED


def test_a_seat_is_made_eligible_until_the_window_ends_and_not_at_its_end(world, fixed_now):
    """A review's check-in adds seats to its open poll: up to the last moment of the window, not at its end."""
    closes = NOW + timedelta(hours=1)
    poll, _q, _opts = make_poll(world, closes=closes)
    ballots.open_poll(poll, seats(world)[:1], None, NOW)
    assert ballots.add_eligible(poll.id, seats(world)[1], world.programme.id, closes - timedelta(minutes=1)) is True
    with pytest.raises(Conflict) as exc:
        ballots.add_eligible(poll.id, seats(world)[2], world.programme.id, closes)
    assert exc.value.field == "poll"


def test_counts_hidden_until_close_and_withheld_below_minimum(world, fixed_now):
    poll, _q, opts = make_poll(world, min_published=3)
    ballots.open_poll(poll, seats(world), None, NOW)
    ballots.cast(poll.id, seats(world)[0], [opts[0].id], world.programme.id)
    ballots.cast(poll.id, seats(world)[1], [opts[0].id], world.programme.id)
    open_result = ballots.results(poll)
    assert open_result.turnout == 2 and not open_result.published and open_result.counts == {}
    assert ballots.receipts(poll) == []
    ballots.close_poll(poll, None, NOW)
    closed = ballots.results(poll)
    assert closed.turnout == 2 and not closed.published and closed.counts == {}
    assert len(ballots.receipts(poll)) == 2


def test_receipts_sorted_and_match_turnout(world, fixed_now):
    poll, _q, opts = make_poll(world)
    ballots.open_poll(poll, seats(world), None, NOW)
    codes = [ballots.cast(poll.id, s, [opts[i].id], world.programme.id) for i, s in enumerate(seats(world))]
    ballots.close_poll(poll, None, NOW)
    published = ballots.receipts(poll)
    assert published == sorted(codes) and len(published) == ballots.turnout(poll.id)


def test_audit_never_holds_choices(world, fixed_now, caplog):
    poll, _q, opts = make_poll(world)
    ballots.open_poll(poll, seats(world), world.bureau, NOW)
    code = ballots.cast(poll.id, seats(world)[0], [opts[2].id], world.programme.id)
    ballots.close_poll(poll, world.bureau, NOW)
    db.session.commit()
    poll_events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action.startswith("poll"))).all()
    assert [e.action for e in poll_events] == ["poll.open", "poll.close", "poll.counted"]
    for event in poll_events:
        # Only the poll's kind and sizes: nothing that names an option or a seat.
        assert set(event.details) <= {"kind", "eligible", "turnout", "trustees", "undecrypted"}, event.details
    for event in db.session.scalars(db.select(AuditEvent)):
        text = repr(event.details)
        assert code not in text and "选项" not in text
    assert code not in caplog.text and "选项2" not in caplog.text
