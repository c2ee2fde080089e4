"""Communities joining and leaving the programme: the receivers of the programme room's signals (connected in
salon.schedule.wiring). A leaving community's future duties are freed; either way the future is refilled."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from salon.extensions import db
from salon.schedule.models import Session, SessionStatus

from .reading import _now, has_future_sessions
from .upkeep import regenerate

if TYPE_CHECKING:
    from salon.accounts.models import User
    from salon.programmes.models import Community


def community_left(community: Community, actor: User | None, now: datetime | None = None) -> None:
    """A leaving community loses its future duties: they are freed (even if swapped or locked)
    and the future is refilled by the rotation."""
    now = _now(now)
    for session in db.session.scalars(select(Session).where(
            Session.chair_community_id == community.id, Session.status == SessionStatus.PLANNED,
            Session.starts_at > now)):
        session.locked = session.swapped = False
    db.session.flush()
    regenerate(community.programme, actor, now)


def community_joined(community: Community, actor: User | None, now: datetime | None = None) -> None:
    if has_future_sessions(community.programme_id, now):
        regenerate(community.programme, actor, now)
