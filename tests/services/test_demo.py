"""The demo (SPEC §10, issue 9): laid on a timeline relative to the day it is loaded. Its history runs without a gap
from the source's three sessions through the first election, the committee's sessions and its first review to
the session in progress, which stands at the stage its own dates give that day."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from salon import clock, demo
from salon.accounts.models import User
from salon.ballots import services as ballots
from salon.ballots.models import PollState
from salon.committee import services as committee
from salon.extensions import db
from salon.programmes import services as programmes
from salon.reviews import services as reviews
from salon.reviews.models import Review
from salon.rules import committee as committee_rules
from salon.schedule.models import Session, SessionStatus
from salon.topics import services as topics
from salon.topics.demo import SOURCE

# Days chosen to land in each stage of the month's session (last Thursday, 14:30 Shanghai): nominations open
# (the 1st, the 10th of February), voting open (the 14th, the 20th of December), waiting for the committee's
# picks (the 21st and the 28th, a few days before the session).
DAYS = {
    "nominating": [datetime(2026, 11, 1, 2), datetime(2027, 2, 10, 2), datetime(2026, 12, 4, 9)],
    "voting": [datetime(2026, 11, 14, 2), datetime(2026, 12, 20, 2)],
    "picking": [datetime(2026, 11, 21, 2), datetime(2026, 12, 28, 2)],
}
CASES = [(stage, day) for stage, days in DAYS.items() for day in days]


def _load(app, monkeypatch, today):
    monkeypatch.setattr(clock, "utcnow", lambda: today)
    with app.test_request_context():
        programme = demo.load()
        db.session.commit()
    sessions = db.session.scalars(select(Session).where(Session.programme_id == programme.id)
                                  .order_by(Session.number)).all()
    return programme, sessions


@pytest.mark.parametrize("stage, today", CASES, ids=[f"{s}-{d:%Y-%m-%d}" for s, d in CASES])
def test_history_is_continuous_and_the_session_in_progress_is_at_todays_stage(app, monkeypatch, stage, today):
    programme, sessions = _load(app, monkeypatch, today)
    held = [s for s in sessions if s.status == SessionStatus.HELD]
    planned = [s for s in sessions if s.status == SessionStatus.PLANNED]
    assert sessions == held + planned and len(held) >= 10  # ten months of history, then the months ahead
    assert all(s.starts_at < today for s in held) and all(s.starts_at > today for s in planned)
    gaps = [later.starts_at - earlier.starts_at for earlier, later in zip(sessions, sessions[1:])]
    assert max(gaps) <= timedelta(days=35)  # one session a month, no jump
    assert today - held[-1].starts_at <= timedelta(days=36)
    # Every held session has its topic: the bureau decided the source's three, the committee every one after.
    decisions = [topics.decision_of(s.id) for s in held]
    assert [d.nomination.title for d in decisions[:3]] == [noms[chosen][1] for _n, noms, chosen, _r in SOURCE]
    assert [d.decider for d in decisions] == ["bureau"] * 3 + ["committee"] * (len(held) - 3)
    assert decisions[3].nomination.carried_from_id is not None  # session 3's carried-over nomination

    with app.test_request_context():
        term = committee.sitting_term(programme.id)
        assert term is not None and len(term.members) == 3
        review = db.session.scalar(select(Review).where(Review.programme_id == programme.id))
        assert review.outcome == committee_rules.STANDS and review.closed_at < today
        covered = reviews.topics_in_period(term, review.period_start, review.period_end)
        assert len(covered) >= 5 and all(s.number > 3 for s, _n in covered)

    current = planned[0]
    frame = topics.windows(current, programme, held[-1])
    poll = topics.topic_poll(current.id)
    nominations = topics.active_nominations(current.id)
    assert len(nominations) == 3 and any(n.carried_from_id for n in nominations)
    sec01 = programmes.seat_of(db.session.scalar(select(User).where(User.username == "sec01")))
    if stage == "nominating":
        assert frame.nominating(today) and poll is None
    elif stage == "voting":
        assert frame.vote_opens <= today < frame.vote_closes and poll.state == PollState.OPEN
        assert not ballots.has_voted(poll.id, sec01.id)  # the visitor logged in as sec01 can still vote
    else:
        assert today >= frame.vote_closes and poll.state == PollState.CLOSED
        assert topics.decision_of(current.id) is None and committee.picks(current.id) == []
    assert all(topics.topic_poll(s.id) is None for s in planned[1:])
