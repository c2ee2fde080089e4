"""Reading that must not grow with the years of history (SPEC §9: a page makes the same number of queries
with ten years of sessions as with one): a calendar feed's sessions (the past year and all the future) and the
pages of past sessions, by keyset."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from salon import paging
from salon.extensions import db
from salon.schedule.models import Session

from .reading import _now, sessions


# What a calendar app needs (SPEC §9: a feed's size must not grow with the years of history).
FEED_PAST = timedelta(days=366)
PAST_PAGE = 12


def feed_sessions(programme_id: int, community_id: int | None = None, now: datetime | None = None) -> list[Session]:
    """A calendar feed's sessions: the past year and all the future."""
    return sessions(programme_id, community_id, since=_now(now) - FEED_PAST)


def _after(query, anchor: Session | None, newest_first: bool):
    if anchor is None:
        return query
    if newest_first:
        return query.where(or_(Session.starts_at < anchor.starts_at,
                               (Session.starts_at == anchor.starts_at) & (Session.id < anchor.id)))
    return query.where(or_(Session.starts_at > anchor.starts_at,
                           (Session.starts_at == anchor.starts_at) & (Session.id > anchor.id)))


def session_page(programme_id: int, cursor=None, limit: int = 50, *, community_id: int | None = None,
                 until: datetime | None = None, newest_first: bool = False) -> tuple[list[Session], Session | None]:
    """One page of sessions by keyset (cursor: the id of the last session of the previous page), so a page
    costs the same after ten years. Returns the page and the cursor for the next one (None on the last)."""
    anchor = paging.cursor_row(Session, programme_id, cursor,
                               _("This cursor does not belong to any page of sessions."))
    query = select(Session).options(joinedload(Session.chair)).where(Session.programme_id == programme_id)
    if community_id is not None:
        query = query.where(Session.chair_community_id == community_id)
    if until is not None:
        query = query.where(Session.starts_at <= until)
    order = (Session.starts_at.desc(), Session.id.desc()) if newest_first else (Session.starts_at, Session.id)
    return paging.split_page(list(db.session.scalars(_after(query, anchor, newest_first).order_by(*order)
                                                     .limit(limit + 1))), limit)
