"""Decided and held sessions with what they produced, for the outcomes and packets tests and the benchmark."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app

from salon.ballots import services as ballots
from salon.extensions import db
from salon.outcomes import services as outcomes
from salon.programmes import services as programmes
from salon.schedule.models import Session, SessionStatus
from salon.topics import services as topics
from salon.topics.models import Nomination


def decided_session(programme, bureau, chair_community, number: int, starts_at: datetime, title: str,
                    nominators: list, voters: list, guests=(), status=SessionStatus.HELD,
                    extra_nominations: int = 0) -> Session:
    """A session whose topic `title` (nominated by nominators[0]) was voted on by `voters` and decided."""
    with current_app.test_request_context():
        session = Session(programme_id=programme.id, number=number, starts_at=starts_at, duration_minutes=120,
                          venue="民政局三楼会议室", chair_community_id=chair_community.id, status=status)
        db.session.add(session)
        db.session.flush()
        made = []
        for index, community in enumerate(list(nominators) + [nominators[-1]] * extra_nominations):
            made.append(Nomination(programme_id=programme.id, session_id=session.id, community_id=community.id,
                                   title=title if index == 0 else f"{title}之外的推荐{index}",
                                   problem=f"{title}的问题和真实案例。", hoped_result="希望的结果",
                                   outside_units="县医保局"))
        db.session.add_all(made)
        db.session.flush()
        opens = topics.windows(session, programme, None).vote_opens
        poll = topics.build_poll(session, programme, bureau, opens)
        options = {o.ref_id: o.id for o in poll.questions[0].options}
        for voter in voters:
            seat = programmes.seat_of(voter)
            ballots.cast(poll.id, seat.id, [options[made[0].id]], programme.id, opens)
        ballots.close_poll(poll, bureau, opens + timedelta(days=1))
        topics.decide(session, bureau, made[0].id, "票数最多", now=opens + timedelta(days=1))
        for name, unit in guests:
            topics.add_guest(session, bureau, {"name": name, "unit": unit})
        db.session.commit()
        return session


def record(session, bureau, resolutions=(), actions=(), now: datetime | None = None):
    """Resolutions and action items (what, owner, due date, status) for a session that has begun."""
    now = now or session.starts_at + timedelta(hours=2)
    with current_app.test_request_context():
        for text in resolutions:
            outcomes.add_resolution(session, bureau, text, now=now)
        items = [outcomes.add_action(session, bureau, {"what": what, "owner_unit": owner, "due_on": due,
                                                       "status": status}, now=now)
                 for what, owner, due, status in actions]
        db.session.commit()
        return items


def day(text: str) -> date:
    return date.fromisoformat(text)
