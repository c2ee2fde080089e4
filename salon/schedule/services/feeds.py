"""Calendar feeds: a user's subscriptions (the whole programme or one community's duties), their signed
tokens, revoking one, and opening a feed by its token (what it shows: history.feed_sessions)."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from salon.accounts import services as accounts
from salon.audit import services as audit
from salon.errors import NotFound
from salon.database import as_id, lock_programme
from salon.extensions import db
from salon.programmes import services as programmes
from salon.schedule.models import CalendarFeed

from .reading import _now

if TYPE_CHECKING:
    from salon.accounts.models import User


FEED_SALT = "salon.schedule.calendar-feed"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=FEED_SALT)


def feeds_of(user: User) -> list[CalendarFeed]:
    return list(db.session.scalars(
        select(CalendarFeed).options(joinedload(CalendarFeed.community))
        .where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None)).order_by(CalendarFeed.id)))


def create_feed(user: User, community_id=None) -> CalendarFeed:
    """A calendar subscription for `user`: the whole programme, or one community's chair duties.
    An existing active feed of the same kind is returned, not duplicated."""
    lock_programme(user.programme_id)  # lock order: salon/database.py
    community = None
    if community_id not in (None, ""):
        community = programmes.get_community(community_id, user.programme_id)
    for feed in feeds_of(user):
        if feed.community_id == (community.id if community else None):
            return feed
    feed = CalendarFeed(programme_id=user.programme_id, user_id=user.id,
                        community_id=community.id if community else None, nonce=secrets.token_hex(8))
    db.session.add(feed)
    db.session.flush()
    audit.record(user.programme_id, user, "feed.create", feed, community=community.name if community else None)
    return feed


def feed_token(feed: CalendarFeed) -> str:
    return _serializer().dumps([feed.id, feed.nonce])


def get_feed(feed_id, user: User) -> CalendarFeed:
    feed = programmes.get_scoped(CalendarFeed, feed_id, user.programme_id, "feed_id")
    if feed.user_id != user.id or feed.revoked_at is not None:
        raise NotFound(_("Not found."), "feed_id")
    return feed


def revoke_feed(feed: CalendarFeed, user: User, now: datetime | None = None) -> CalendarFeed:
    lock_programme(feed.programme_id)  # lock order: salon/database.py
    feed.revoked_at = _now(now)
    db.session.flush()
    audit.record(feed.programme_id, user, "feed.revoke", feed)
    return feed


def open_feed(token: str) -> CalendarFeed:
    """The feed a token names, or 404: a bad, forged or revoked token looks like a missing page."""
    try:
        feed_id, nonce = _serializer().loads(token)
    except (BadSignature, TypeError, ValueError):
        raise NotFound(_("Not found."), "token")
    feed = db.session.get(CalendarFeed, as_id(feed_id)) if as_id(feed_id) else None
    if feed is None or feed.nonce != nonce or feed.revoked_at is not None:
        raise NotFound(_("Not found."), "token")
    user = accounts.get_user(feed.user_id)
    if user is None or not user.active:
        raise NotFound(_("Not found."), "token")
    return feed
