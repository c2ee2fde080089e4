"""Reading the schedule: a programme's sessions (or one community's duties), a session by its number or id, the
planned sessions ahead, the session before or after one, selects of sessions for other rooms to join their rows
to, whether a session is still to
come or fixed, the secretary's community and its next duty, and the pending swap requests."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from salon import clock
from salon.extensions import db
from salon.programmes import services as programmes
from salon.schedule.models import Session, SessionStatus, SwapRequest, SwapStatus

if TYPE_CHECKING:
    from salon.accounts.models import User
    from salon.programmes.models import Community


def _now(now: datetime | None) -> datetime:
    return now or clock.utcnow()


def sessions(programme_id: int, community_id: int | None = None, since: datetime | None = None) -> list[Session]:
    """Every session of the programme (or one community's duties) in date order, chairs loaded;
    with `since`, only those starting from then on."""
    query = (select(Session).options(joinedload(Session.chair))
             .where(Session.programme_id == programme_id).order_by(Session.starts_at, Session.id))
    if community_id is not None:
        query = query.where(Session.chair_community_id == community_id)
    if since is not None:
        query = query.where(Session.starts_at >= since)
    return list(db.session.scalars(query))


def numbered_session(programme_id: int, number: int) -> Session | None:
    return db.session.scalar(select(Session).where(Session.programme_id == programme_id, Session.number == number))


def planned_after(programme_id: int, number: int) -> list[Session]:
    """The planned sessions numbered after `number`, in order."""
    return list(db.session.scalars(select(Session).where(
        Session.programme_id == programme_id, Session.number > number,
        Session.status == SessionStatus.PLANNED).order_by(Session.number)))


def first_held_since(programme_id: int, since: datetime) -> Session | None:
    return db.session.scalar(select(Session).where(
        Session.programme_id == programme_id, Session.status == SessionStatus.HELD, Session.starts_at >= since)
        .order_by(Session.starts_at).limit(1))


def session_by_id(session_id: int | None) -> Session | None:
    """A session by its id, unscoped (the caller holds a row that names it); None when there is none."""
    return db.session.get(Session, session_id) if session_id is not None else None


def sessions_by_id(session_ids: list[int]) -> dict[int, Session]:
    """Session id → session, in one query."""
    return {s.id: s for s in db.session.scalars(select(Session).where(Session.id.in_(session_ids)))}


def in_order():
    """Every session in date order, a select for a room to join its own rows to (by its
    `.selected_columns.id`) and filter, in one statement."""
    return select(Session).order_by(Session.starts_at, Session.id)


def starting_between(start: datetime | None = None, end: datetime | None = None):
    """The sessions starting in [start, end) (either end open), as in_order()."""
    query = in_order()
    if start is not None:
        query = query.where(Session.starts_at >= start)
    if end is not None:
        query = query.where(Session.starts_at < end)
    return query


def held_between(programme_id: int, start: datetime, end: datetime):
    """The programme's held sessions starting in [start, end), as in_order()."""
    return starting_between(start, end).where(Session.programme_id == programme_id,
                                              Session.status == SessionStatus.HELD)


def not_cancelled():
    """The sessions not cancelled, as (id, number): a subquery for a room to join its rows to in one statement."""
    return select(Session.id, Session.number).where(Session.status != SessionStatus.CANCELLED).subquery()


def numbers():
    """Every session as (id, number): a subquery for a room to join its rows to in one statement."""
    return select(Session.id, Session.number).subquery()


def numbered(programme_id: int):
    """The programme's numbered sessions, newest number first, as in_order()."""
    return (select(Session).where(Session.programme_id == programme_id, Session.number.is_not(None))
            .order_by(Session.number.desc()))


def planned_numbered(programme_id: int, after: datetime | None = None, until: datetime | None = None):
    """The programme's planned numbered sessions starting after `after` and up to `until` (either end open),
    soonest first, as in_order()."""
    query = (select(Session).where(Session.programme_id == programme_id, Session.number.is_not(None),
                                   Session.status == SessionStatus.PLANNED).order_by(Session.starts_at))
    if after is not None:
        query = query.where(Session.starts_at > after)
    if until is not None:
        query = query.where(Session.starts_at <= until)
    return query


def past_numbered(programme_id: int, now: datetime):
    """The programme's numbered sessions held or begun by `now`, newest first, as in_order()."""
    return (select(Session).where(Session.programme_id == programme_id, Session.number.is_not(None),
                                  or_(Session.status == SessionStatus.HELD, Session.starts_at <= now))
            .order_by(Session.starts_at.desc(), Session.id.desc()))


def coming_with_previous(programme_id: int, now: datetime, limit: int):
    """The next `limit` planned numbered sessions after `now` and the session before the first of them (the
    highest number below it that is not cancelled; it comes first), by number, as in_order(): whatever the
    history, one statement and at most limit + 1 rows."""
    mine = Session.programme_id == programme_id
    coming = and_(Session.status == SessionStatus.PLANNED, Session.number.is_not(None), Session.starts_at > now)
    first = select(func.min(Session.number)).where(mine, coming).scalar_subquery()
    before = select(func.max(Session.number)).where(mine, Session.status != SessionStatus.CANCELLED,
                                                    Session.number < first).scalar_subquery()
    return (select(Session).where(mine, or_(coming, and_(Session.number == before,
                                                         Session.status != SessionStatus.CANCELLED)))
            .order_by(Session.number).limit(limit + 1))


def previous_session(session: Session) -> Session | None:
    """The session with the next lower number that is not cancelled (SPEC §3.1)."""
    if session.number is None:
        return None
    return db.session.scalar(
        select(Session).where(Session.programme_id == session.programme_id, Session.number < session.number,
                              Session.status != SessionStatus.CANCELLED)
        .order_by(Session.number.desc()).limit(1))


def next_numbered(session: Session) -> Session | None:
    """The next planned numbered session: by number, or by date for a cancelled session (it has no number)."""
    query = select(Session).where(Session.programme_id == session.programme_id, Session.id != session.id,
                                  Session.status == SessionStatus.PLANNED, Session.number.is_not(None))
    if session.number is not None:
        query = query.where(Session.number > session.number).order_by(Session.number)
    else:
        query = query.where(Session.starts_at > session.starts_at).order_by(Session.starts_at)
    return db.session.scalar(query.limit(1))


def chair_of_next(programme_id: int, since: datetime) -> int | None:
    """The chair community of the first session not cancelled starting from `since` on."""
    return db.session.scalar(select(Session.chair_community_id).where(
        Session.programme_id == programme_id, Session.status != SessionStatus.CANCELLED,
        Session.starts_at >= since).order_by(Session.starts_at).limit(1))


def held_numbered_upto(programme_id: int, number: int) -> int:
    """How many numbered sessions up to `number` were held."""
    return db.session.scalar(select(func.count(Session.id)).where(
        Session.programme_id == programme_id, Session.status == SessionStatus.HELD, Session.number.is_not(None),
        Session.number <= number))


def is_future(session: Session, now: datetime | None = None) -> bool:
    return session.starts_at > _now(now)


def is_fixed(session: Session, now: datetime) -> bool:
    """Regenerating never changes these (SPEC §2): held or begun, swapped, locked."""
    return (session.status == SessionStatus.HELD or session.starts_at <= now
            or session.swapped or session.locked)


def community_of(user: User) -> Community | None:
    if user is None or not user.is_secretary:
        return None
    seat = programmes.seat_of(user)
    return seat.community if seat is not None else None


def next_duty(community_id: int, now: datetime | None = None) -> Session | None:
    return db.session.scalar(
        select(Session).where(Session.chair_community_id == community_id,
                              Session.status == SessionStatus.PLANNED, Session.starts_at > _now(now))
        .order_by(Session.starts_at).limit(1))


def next_planned(programme_id: int, now: datetime | None = None, chairless_first: bool = False) -> Session | None:
    """The next planned session (None: nothing is planned ahead); chairless_first: the next one without a
    chair if there is one, so that one query answers both "is anything planned?" and "does any lack a chair?"."""
    order = [Session.starts_at]
    if chairless_first:
        order.insert(0, Session.chair_community_id.is_(None).desc())
    return db.session.scalar(
        select(Session).where(Session.programme_id == programme_id, Session.status == SessionStatus.PLANNED,
                              Session.starts_at > _now(now)).order_by(*order).limit(1))


def has_future_sessions(programme_id: int, now: datetime | None = None) -> bool:
    return bool(db.session.scalar(select(func.count(Session.id)).where(
        Session.programme_id == programme_id, Session.status == SessionStatus.PLANNED,
        Session.starts_at > _now(now))))


def _requests_query(programme_id: int):
    return (select(SwapRequest).where(SwapRequest.programme_id == programme_id)
            .options(joinedload(SwapRequest.session), joinedload(SwapRequest.other_session),
                     joinedload(SwapRequest.from_community), joinedload(SwapRequest.to_community))
            .order_by(SwapRequest.created_at.desc(), SwapRequest.id.desc()))


def pending_requests(programme_id: int) -> list[SwapRequest]:
    return list(db.session.scalars(_requests_query(programme_id).where(SwapRequest.status == SwapStatus.PENDING)))
