"""One session: the one session lookup of every room (get_session, session_for), its row lock (step 3 of the
lock order, salon/database.py), and the bureau's changes to it: moving it or changing its venue, cancelling it,
locking its chair."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select

from salon.audit import services as audit
from salon.errors import Conflict, ValidationFailed, clean_text
from salon.database import lock_programme
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules import calendar_rules
from salon.schedule import signals
from salon.schedule.models import Session, SessionStatus

from .reading import _now, sessions
from .upkeep import _rebuild

if TYPE_CHECKING:
    from salon.accounts.models import User


def get_session(session_id, programme_id: int, field: str = "session_id") -> Session:
    """The one session lookup of every room: a session of that programme, or 404 (another programme's ids
    look exactly like missing ones)."""
    return programmes.get_scoped(Session, session_id, programme_id, field)


def lock_session(session_id: int) -> None:
    """Step 3 of the lock order (salon/database.py), after lock_programme() where the write records an audit
    event: the session row FOR UPDATE, so writes that count or number the session's rows (its topic poll and
    decision, resolutions, action items, packet links) run one at a time."""
    db.session.execute(select(Session.id).where(Session.id == session_id).with_for_update())


def session_for(user, session_id, field: str = "session_id") -> Session:
    """get_session in the asker's programme (a page's current_user, the API's token holder)."""
    return get_session(session_id, user.programme_id, field)


def _require_future_planned(session: Session, now: datetime, field: str = "session_id") -> None:
    if session.status == SessionStatus.CANCELLED:
        raise Conflict(_("This session is cancelled."), field)
    if session.status == SessionStatus.HELD or session.starts_at <= now:
        raise Conflict(_("This session has already taken place; it cannot change."), field)


def check_venue(venue) -> str:
    return clean_text(venue, "venue", 200, allow_none=False)


def edit_session(session: Session, actor: User, day: date | None = None, at: time | None = None,
                 venue: str | None = None, now: datetime | None = None) -> Session:
    """The bureau moves one session or changes its venue. Its chair stays; calendars update (SEQUENCE)."""
    lock_programme(session.programme_id)  # lock order: salon/database.py
    now = _now(now)
    _require_future_planned(session, now)
    programme = programmes.get_programme(session.programme_id)
    zone = programme.timezone
    local = calendar_rules.to_local(session.starts_at, zone)
    new_day = day if day is not None else local.date()
    new_time = at if at is not None else local.time().replace(tzinfo=None)
    latest = calendar_rules.to_local(now, zone).date() + timedelta(days=366 * 3)
    if new_day > latest:
        raise ValidationFailed(_("Choose a date within the next three years."), "date")
    if new_day < calendar_rules.to_local(now, zone).date():
        raise ValidationFailed(_("Choose a date and time in the future."), "date")
    starts_at = calendar_rules.to_utc(new_day, new_time.hour, new_time.minute, zone)
    if starts_at <= now:
        raise ValidationFailed(_("Choose a date and time in the future."), "date")
    new_venue = check_venue(venue) if venue is not None else session.venue
    month = calendar_rules.local_month(starts_at, zone)
    for other in sessions(programme.id, since=now - timedelta(days=32)):
        if other.id != session.id and other.status != SessionStatus.CANCELLED \
                and calendar_rules.local_month(other.starts_at, zone) == month:
            raise Conflict(_("Another session is already planned in that month."), "date")
    changed = {}
    if starts_at != session.starts_at:
        changed["starts_at"] = starts_at.isoformat()
        session.starts_at = starts_at
    if new_venue != session.venue:
        changed["venue"] = new_venue
        session.venue = new_venue
    if changed:
        session.edited = True
        session.sequence += 1
        db.session.flush()
        audit.record(programme.id, actor, "session.edit", session, number=session.number, **changed)
        _rebuild(programme, now)
    return session


def cancel_session(session: Session, actor: User, now: datetime | None = None) -> Session:
    """STATUS:CANCELLED. The rotation moves on: this session's chair takes the next one."""
    lock_programme(session.programme_id)  # lock order: salon/database.py
    now = _now(now)
    _require_future_planned(session, now)
    number, chair = session.number, session.chair.name if session.chair else None
    session.status, session.cancelled_reason, session.number = SessionStatus.CANCELLED, "bureau", None
    session.locked = session.swapped = False
    session.sequence += 1
    db.session.flush()
    audit.record(session.programme_id, actor, "session.cancel", session, number=number, chair=chair)
    signals.session_cancelled.send(session, actor=actor, now=now)
    _rebuild(programmes.get_programme(session.programme_id), now)
    return session


def set_locked(session: Session, actor: User, locked: bool, now: datetime | None = None) -> Session:
    lock_programme(session.programme_id)  # lock order: salon/database.py
    now = _now(now)
    if not isinstance(locked, bool):
        raise ValidationFailed(_("Must be true or false."), "locked")
    _require_future_planned(session, now)
    if session.locked != locked:
        session.locked = locked
        db.session.flush()
        audit.record(session.programme_id, actor, "session.lock" if locked else "session.unlock", session,
                     number=session.number)
        if not locked:
            _rebuild(programmes.get_programme(session.programme_id), now)
    return session
