"""A session as the topics room sees it: the session before it, its windows (SPEC §3.1; the rule is
salon.rules.topics), its topic poll and that poll's title, and the next sessions with the one before each."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select

from salon.ballots import services as ballots
from salon.extensions import db
from salon.rules import topics as rules
from salon.schedule import services as schedule
from salon.topics.models import TopicVote

if TYPE_CHECKING:
    from salon.ballots.models import Poll
    from salon.programmes.models import Programme
    from salon.schedule.models import Session


def windows(session: Session, programme: Programme, previous: Session | None) -> rules.TopicWindows:
    previous_ends = (previous.starts_at + timedelta(minutes=previous.duration_minutes)) if previous else None
    return rules.topic_windows(session.starts_at, previous_ends, programme.timezone,
                               programme.nomination_close_days, programme.vote_open_days,
                               programme.vote_close_days)


def topic_poll(session_id: int) -> Poll | None:
    return ballots.get(db.session.scalar(select(TopicVote.poll_id).where(TopicVote.session_id == session_id)))


def poll_title(poll: Poll) -> str:
    """Composed when shown, in the reader's language (titles are not stored)."""
    sessions = schedule.numbers()
    number = db.session.scalar(select(sessions.c.number).join(TopicVote, TopicVote.session_id == sessions.c.id)
                               .where(TopicVote.poll_id == poll.id))
    return _("Topic of session %(n)d", n=number or 0)


def upcoming(programme_id: int, now: datetime, limit: int = 3) -> list[tuple[Session, Session | None]]:
    """The next sessions with the session before each, in one query whatever the history: the next `limit`
    planned numbered sessions, and the session before the first of them (the highest number below it that is
    not cancelled), whose end opens the first one's nominations (SPEC §3.1)."""
    return [(session, previous) for session, previous, _row in _upcoming(programme_id, now, limit)]


def _upcoming(programme_id: int, now: datetime, limit: int, columns_of=None
              ) -> list[tuple[Session, Session | None, object]]:
    """upcoming(), each session with its row of the columns `columns_of(session_id)` gives (subqueries
    correlated to the session's id)."""
    query = schedule.coming_with_previous(programme_id, now, limit)
    if columns_of is not None:
        query = query.add_columns(*columns_of(query.selected_columns.id))
    rows = db.session.execute(query).all()
    # The session before, if any, is the first row: its number is below every coming one's.
    future = [row for row in rows
              if row[0].status == schedule.SessionStatus.PLANNED and row[0].starts_at > now][:limit]
    if not future:
        return []
    previous = rows[0][0] if rows[0] is not future[0] else None
    return [(row[0], before_it, row) for row, before_it in zip(future, [previous] + [r[0] for r in future[:-1]])]
