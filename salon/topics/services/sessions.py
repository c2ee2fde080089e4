"""A session as the topics room sees it: the session before it, its windows (SPEC §3.1; the rule is
salon.rules.topics), its topic poll and that poll's title, and the next sessions with the one before each."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from salon.ballots import services as ballots
from salon.extensions import db
from salon.rules import topics as rules
from salon.schedule.models import Session, SessionStatus
from salon.topics.models import TopicVote

if TYPE_CHECKING:
    from salon.ballots.models import Poll
    from salon.programmes.models import Programme

def previous_session(session: Session) -> Session | None:
    """The session with the next lower number that is not cancelled (SPEC §3.1)."""
    if session.number is None:
        return None
    return db.session.scalar(
        select(Session).where(Session.programme_id == session.programme_id, Session.number < session.number,
                              Session.status != SessionStatus.CANCELLED)
        .order_by(Session.number.desc()).limit(1))


def windows(session: Session, programme: Programme, previous: Session | None) -> rules.TopicWindows:
    previous_ends = (previous.starts_at + timedelta(minutes=previous.duration_minutes)) if previous else None
    return rules.topic_windows(session.starts_at, previous_ends, programme.timezone,
                               programme.nomination_close_days, programme.vote_open_days,
                               programme.vote_close_days)


def topic_poll(session_id: int) -> Poll | None:
    return ballots.get(db.session.scalar(select(TopicVote.poll_id).where(TopicVote.session_id == session_id)))


def poll_title(poll: Poll) -> str:
    """Composed when shown, in the reader's language (titles are not stored)."""
    number = db.session.scalar(select(Session.number).join(TopicVote, TopicVote.session_id == Session.id)
                               .where(TopicVote.poll_id == poll.id))
    return _("Topic of session %(n)d", n=number or 0)


def upcoming(programme_id: int, now: datetime, limit: int = 3) -> list[tuple[Session, Session | None]]:
    """The next sessions with the session before each, in one query whatever the history: the next `limit`
    planned numbered sessions, and the session before the first of them (the highest number below it that is
    not cancelled), whose end opens the first one's nominations (SPEC §3.1)."""
    return [(session, previous) for session, previous, _row in _upcoming(programme_id, now, limit)]


def _upcoming(programme_id: int, now: datetime, limit: int, *columns) -> list[tuple[Session, Session | None, object]]:
    """upcoming(), each session with its row of `columns` (subqueries correlated to the session)."""
    mine = Session.programme_id == programme_id
    coming = and_(Session.status == SessionStatus.PLANNED, Session.number.is_not(None), Session.starts_at > now)
    first = select(func.min(Session.number)).where(mine, coming).scalar_subquery()
    before = select(func.max(Session.number)).where(mine, Session.status != SessionStatus.CANCELLED,
                                                    Session.number < first).scalar_subquery()
    rows = db.session.execute(
        select(Session, *columns).where(mine, or_(coming, and_(Session.number == before,
                                                               Session.status != SessionStatus.CANCELLED)))
        .order_by(Session.number).limit(limit + 1)).all()
    # The session before, if any, is the first row: its number is below every coming one's.
    future = [row for row in rows if row[0].status == SessionStatus.PLANNED and row[0].starts_at > now][:limit]
    if not future:
        return []
    previous = rows[0][0] if rows[0] is not future[0] else None
    return [(row[0], before_it, row) for row, before_it in zip(future, [previous] + [r[0] for r in future[:-1]])]
