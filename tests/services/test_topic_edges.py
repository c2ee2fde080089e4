"""Where the schedule and the topics meet, and windows nobody attended."""
from datetime import datetime, timedelta

import pytest

from salon import clock
from salon.ballots.models import PollState
from salon.errors import ValidationFailed
from salon.extensions import db
from salon.schedule import services as schedule
from salon.schedule.models import Session, SessionStatus
from salon.topics import services as topics
from salon.topics.models import Nomination

pytestmark = pytest.mark.rolled_back  # one transaction per test, rolled back; world built once

NOW = datetime(2026, 3, 1, 8, 0)


@pytest.fixture(autouse=True)
def context(app, monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    with app.test_request_context():
        yield


def _sessions(world):
    schedule.generate(world.programme, world.bureau, 4, now=NOW)
    return schedule.sessions(world.programme.id)


def _nominate(world, session, index=0, title="议题"):
    nomination = Nomination(programme_id=world.programme.id, session_id=session.id,
                            community_id=world.communities[index].id, title=title, problem="问题")
    db.session.add(nomination)
    db.session.flush()
    return nomination


def test_cancelling_a_session_closes_its_vote_and_frees_its_nominations(world):
    first, second = _sessions(world)[:2]
    nomination = _nominate(world, first, 0)
    _nominate(world, first, 1, "另一个")
    poll = topics.open_voting(first, world.programme, world.bureau, NOW)
    schedule.cancel_session(first, world.bureau, NOW)
    assert poll.state == PollState.CLOSED
    copy = topics.carry_over(nomination, world.secretaries[0], NOW)
    assert copy.session_id == second.id
    assert db.session.get(Session, copy.session_id).status == SessionStatus.PLANNED


def test_a_window_nobody_attended_still_ends_in_a_closed_poll(world):
    session = _sessions(world)[1]
    _nominate(world, session)
    frame = topics.windows(session, world.programme, None)
    said = topics.advance(world.programme, frame.vote_closes + timedelta(minutes=1))
    poll = topics.topic_poll(session.id)
    assert poll is not None and poll.state == PollState.CLOSED and said
    decision = topics.decide(session, world.bureau, session_nomination_id(session), "无人投票，由民政局确定。",
                             now=frame.vote_closes + timedelta(hours=1))
    assert decision is not None


def session_nomination_id(session):
    return topics.active_nominations(session.id)[0].id


@pytest.mark.parametrize("day", [datetime(1, 1, 1).date(), datetime(9999, 12, 31).date(),
                                 (NOW + timedelta(days=366 * 3 + 40)).date()])
def test_session_dates_stay_within_reach(world, day):
    session = _sessions(world)[1]
    before = session.starts_at
    with pytest.raises(ValidationFailed) as exc:
        schedule.edit_session(session, world.bureau, day=day, now=NOW)
    assert exc.value.field == "date"
    assert session.starts_at == before
