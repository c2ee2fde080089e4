"""The schedule room's services: rotation order, generating the sessions, editing, cancelling,
locking, swaps between chairs, and calendar feeds. Services only flush; the request commits."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from salon import clock, paging
from salon.accounts import services as accounts
from salon.audit import services as audit
from salon.errors import Conflict, Forbidden, NotFound, ValidationFailed, clean_text
from salon.database import as_id, lock_programme
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules import calendar_rules, rotation
from salon.rules import topics as rules_topics
from salon.schedule import signals
from salon.schedule.models import CalendarFeed, Session, SessionStatus, SwapRequest, SwapStatus

if TYPE_CHECKING:
    from salon.accounts.models import User
    from salon.programmes.models import Community, Programme

FEED_SALT = "salon.schedule.calendar-feed"
MAX_MONTHS = 36
MAX_BLACKOUTS = 120


def _now(now: datetime | None) -> datetime:
    return now or clock.utcnow()


def day_rule(programme: Programme) -> calendar_rules.DayRule:
    return calendar_rules.DayRule(programme.session_weekday, programme.session_week, programme.session_hour,
                                  programme.session_minute, programme.timezone)


# --- reading -------------------------------------------------------------------------------

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


def get_session(session_id, programme_id: int, field: str = "session_id") -> Session:
    """The one session lookup of every room: a session of that programme, or 404 (another programme's ids
    look exactly like missing ones)."""
    return programmes.get_scoped(Session, session_id, programme_id, field)


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


def lock_session(session_id: int) -> None:
    """Step 3 of the lock order (salon/database.py), after lock_programme() where the write records an audit
    event: the session row FOR UPDATE, so writes that count or number the session's rows (its topic poll and
    decision, resolutions, action items, packet links) run one at a time."""
    db.session.execute(select(Session.id).where(Session.id == session_id).with_for_update())


def session_for(user, session_id, field: str = "session_id") -> Session:
    """get_session in the asker's programme (a page's current_user, the API's token holder)."""
    return get_session(session_id, user.programme_id, field)


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


# --- keeping the schedule right --------------------------------------------------------------

def mark_past_held(programme_id: int | None, now: datetime | None = None) -> list[Session]:
    """A planned session whose end has passed was held (SPEC §8: on the first request after, or tick)."""
    now = _now(now)
    query = select(Session).where(Session.status == SessionStatus.PLANNED, Session.starts_at <= now)
    if programme_id is not None:
        query = query.where(Session.programme_id == programme_id)
    done = [s for s in db.session.scalars(query)
            if s.starts_at + timedelta(minutes=s.duration_minutes) <= now]
    for session in done:
        session.status = SessionStatus.HELD
    if done:
        db.session.flush()
    return done


def _snapshot(session: Session) -> tuple:
    return (session.starts_at, session.duration_minutes, session.venue, session.chair_community_id,
            session.status, session.number)


def _rebuild(programme: Programme, now: datetime, months: int | None = None) -> dict:
    """Apply the day rule, blackouts, rotation and numbering to every future session that is free.

    With `months`, first create the sessions of the next `months` months that have none."""
    mark_past_held(programme.id, now)
    rule = day_rule(programme)
    blackout = set(programme.blackout_months or [])
    everything = sessions(programme.id)
    before = {s.id: _snapshot(s) for s in everything}
    created = 0
    new: set[int] = set()
    if months:
        taken = {calendar_rules.local_month(s.starts_at, rule.timezone) for s in everything}
        for year, month, start in calendar_rules.planned_months(now, months, rule, blackout):
            if (year, month) in taken:
                continue
            session = Session(programme_id=programme.id, starts_at=start, venue=programme.default_venue or "",
                              duration_minutes=programme.session_duration_minutes,
                              status=SessionStatus.PLANNED, sequence=0)
            db.session.add(session)
            everything.append(session)
            new.add(id(session))
            created += 1
    for session in everything:
        if session.starts_at <= now or session.status == SessionStatus.HELD:
            continue
        year, month = calendar_rules.local_month(session.starts_at, rule.timezone)
        key = calendar_rules.month_key(year, month)
        if session.status == SessionStatus.CANCELLED:
            if session.cancelled_reason == "blackout" and key not in blackout:
                session.status, session.cancelled_reason = SessionStatus.PLANNED, None
            else:
                continue
        if is_fixed(session, now) or session.edited:
            continue
        if key in blackout:
            session.status, session.cancelled_reason, session.number = SessionStatus.CANCELLED, "blackout", None
            signals.session_cancelled.send(session, actor=None, now=now)
            continue
        start = calendar_rules.session_start(year, month, rule)
        if start > now:
            session.starts_at = start
        session.venue = programme.default_venue or ""
        session.duration_minutes = programme.session_duration_minutes
    everything.sort(key=lambda s: (s.starts_at, s.id or 0))
    _assign_chairs(programme.id, everything, now)
    _renumber(everything)
    for session in everything:
        if id(session) not in new and before.get(session.id) != _snapshot(session):
            session.sequence = (session.sequence or 0) + 1
    db.session.flush()
    _void_stale_requests(programme.id, now)
    too_soon = [s for s in everything if id(s) in new and s.status == SessionStatus.PLANNED
                and _nominations_would_close(programme, s, now)]
    return {"created": created, "too_soon": too_soon}


def _nominations_would_close(programme: Programme, session: Session, now: datetime) -> bool:
    """A new session too close to take nominations: its window (SPEC §3.1) would close before anyone could use
    it — within a day of now."""
    closes = rules_topics.days_before(session.starts_at, programme.nomination_close_days, programme.timezone)
    return closes - now < timedelta(days=1)


def _assign_chairs(programme_id: int, everything: list[Session], now: datetime) -> None:
    order = [c.id for c in programmes.communities(programme_id, active_only=True)]
    live = [s for s in everything if s.status != SessionStatus.CANCELLED]
    slots = [rotation.Slot(key=index, chair=s.chair_community_id, fixed=is_fixed(s, now), swapped=s.swapped)
             for index, s in enumerate(live)]
    for index, chair in rotation.assign(order, slots).items():
        live[index].chair_community_id = chair


def _renumber(everything: list[Session]) -> None:
    """第N期: the sessions not cancelled, in date order, are 1..N (see salon.schedule.models)."""
    given = rotation.numbers([s.status == SessionStatus.CANCELLED for s in everything])
    wanted = {id(s): number for s, number in zip(everything, given)}
    moving = [s for s in everything if s.number != wanted[id(s)]]
    if not moving:
        return
    for session in moving:
        session.number = None
    db.session.flush()  # numbers are unique per programme: clear before handing them out again
    for session in moving:
        session.number = wanted[id(session)]


def _void_stale_requests(programme_id: int, now: datetime) -> None:
    for request in pending_requests(programme_id):
        if not _request_still_valid(request, now):
            request.status, request.answered_at = SwapStatus.VOID, now


def _request_still_valid(request: SwapRequest, now: datetime) -> bool:
    a, b = request.session, request.other_session
    return (a.chair_community_id == request.from_community_id and b.chair_community_id == request.to_community_id
            and _swappable(a, now) and _swappable(b, now))


def _swappable(session: Session, now: datetime) -> bool:
    return session.status == SessionStatus.PLANNED and session.starts_at > now


def check_months(months) -> int:
    if isinstance(months, bool) or not isinstance(months, int):
        raise ValidationFailed(_("Must be a whole number."), "months")
    if not 1 <= months <= MAX_MONTHS:
        raise ValidationFailed(_("Must be between %(low)d and %(high)d.", low=1, high=MAX_MONTHS), "months")
    return months


def generate(programme: Programme, actor: User | None, months: int | None = None,
             now: datetime | None = None) -> dict:
    """Create the sessions of the next N months (default: the horizon) and refill every free one."""
    lock_programme(programme.id)  # lock order: salon/database.py
    months = check_months(programme.horizon_months if months is None else months)
    if not programmes.communities(programme.id, active_only=True):
        raise Conflict(_("Add communities before generating the schedule."), "months")
    result = _rebuild(programme, _now(now), months)
    audit.record(programme.id, actor, "schedule.generate", programme, months=months, created=result["created"])
    return result


def regenerate(programme: Programme, actor: User | None = None, now: datetime | None = None) -> dict:
    """Refill the future after a change (a community joined or left, the order or a rule changed).
    Held, swapped and locked sessions stay as they are."""
    return _rebuild(programme, _now(now))


# --- the rotation order -----------------------------------------------------------------------

def rotation_order(programme_id: int) -> list[Community]:
    return programmes.communities(programme_id, active_only=True)


def _set_order(programme: Programme, ordered_ids: list[int]) -> list[Community]:
    by_id = {c.id: c for c in rotation_order(programme.id)}
    for community in by_id.values():
        community.rotation_position = None
    db.session.flush()
    for position, community_id in enumerate(ordered_ids, start=1):
        by_id[community_id].rotation_position = position
    db.session.flush()
    return [by_id[i] for i in ordered_ids]


def reorder(programme: Programme, actor: User, ordered_ids, now: datetime | None = None) -> list[Community]:
    """The bureau sets the rotation order: every active community exactly once."""
    lock_programme(programme.id)  # lock order: salon/database.py
    if not isinstance(ordered_ids, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in ordered_ids):
        raise ValidationFailed(_("Give the ids of the active communities, in the new order."), "order")
    active = {c.id for c in rotation_order(programme.id)}
    if len(ordered_ids) != len(set(ordered_ids)):
        raise ValidationFailed(_("Each community may appear only once."), "order")
    if set(ordered_ids) != active:
        raise ValidationFailed(_("The order must name every active community of this programme, once."), "order")
    order = _set_order(programme, ordered_ids)
    programme.rotation_seed = None
    audit.record(programme.id, actor, "rotation.reorder", programme, order=[c.name for c in order])
    regenerate(programme, actor, now)
    return order


def draw_lots(programme: Programme, actor: User, now: datetime | None = None,
              seed: str | None = None) -> tuple[str, list[Community]]:
    """A new order by lot. The seed is recorded so anyone can redo it (see salon.rules.rotation.draw_lots)."""
    lock_programme(programme.id)  # lock order: salon/database.py
    active = [c.id for c in rotation_order(programme.id)]
    if not active:
        raise Conflict(_("There are no active communities to draw."), "order")
    seed = seed or secrets.token_hex(8)
    order = _set_order(programme, rotation.draw_lots(active, seed))
    programme.rotation_seed = seed
    audit.record(programme.id, actor, "rotation.draw", programme, seed=seed, ids=sorted(active),
                 order=[c.name for c in order])
    regenerate(programme, actor, now)
    return seed, order


def set_blackouts(programme: Programme, actor: User, months, now: datetime | None = None) -> list[str]:
    lock_programme(programme.id)  # lock order: salon/database.py
    if not isinstance(months, list) or any(not isinstance(m, str) for m in months):
        raise ValidationFailed(_("Give months as YYYY-MM, e.g. 2027-02."), "blackout_months")
    if len(months) > MAX_BLACKOUTS:
        raise ValidationFailed(_("At most %(n)d months.", n=MAX_BLACKOUTS), "blackout_months")
    clean = set()
    for text in months:
        try:
            clean.add(calendar_rules.month_key(*calendar_rules.parse_month(text)))
        except ValueError:
            raise ValidationFailed(_("“%(value)s” is not a month of the form YYYY-MM.", value=text[:20]),
                                   "blackout_months")
    clean = sorted(clean)
    if clean != sorted(programme.blackout_months or []):
        programme.blackout_months = clean
        audit.record(programme.id, actor, "schedule.blackouts", programme, months=clean)
        regenerate(programme, actor, now)
    return clean


# --- single sessions -------------------------------------------------------------------------------

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


# --- swaps ---------------------------------------------------------------------------------------

def _exchange(a: Session, b: Session) -> None:
    a.chair_community_id, b.chair_community_id = b.chair_community_id, a.chair_community_id
    for session in (a, b):
        session.swapped = True
        session.sequence += 1
    db.session.flush()
    db.session.expire(a, ["chair"])
    db.session.expire(b, ["chair"])


def _check_pair(a: Session, b: Session, now: datetime) -> None:
    _require_future_planned(a, now, "session_id")
    _require_future_planned(b, now, "other_session_id")
    if a.id == b.id:
        raise ValidationFailed(_("Choose a different session."), "other_session_id")
    if a.chair_community_id is None or b.chair_community_id is None:
        raise Conflict(_("Both sessions need a chair."), "other_session_id")
    if a.chair_community_id == b.chair_community_id:
        raise Conflict(_("The same community chairs both sessions."), "other_session_id")


def bureau_swap(a: Session, b: Session, actor: User, now: datetime | None = None) -> tuple[Session, Session]:
    """The bureau exchanges two chairs directly (SPEC §2)."""
    lock_programme(a.programme_id)  # lock order: salon/database.py
    now = _now(now)
    _check_pair(a, b, now)
    _exchange(a, b)
    audit.record(a.programme_id, actor, "swap.bureau", a, sessions=[a.number, b.number],
                 chairs=[a.chair.name, b.chair.name])
    _void_stale_requests(a.programme_id, now)
    return a, b


def check_message(message) -> str:
    return clean_text(message, "message", 300)


def request_swap(user: User, session: Session, other: Session, message: str = "",
                 now: datetime | None = None) -> SwapRequest:
    """The chair of `session` asks the chair of `other` to exchange duties."""
    lock_programme(session.programme_id)  # lock order: salon/database.py
    now = _now(now)
    mine = community_of(user)
    if mine is None or session.chair_community_id != mine.id:
        raise Forbidden(_("Only the chair of this session can ask for a swap."), "session_id")
    message = check_message(message)
    _check_pair(session, other, now)
    if session.locked or other.locked:
        raise Conflict(_("The bureau has locked this session; ask the bureau."), "other_session_id")
    duplicate = db.session.scalar(select(SwapRequest.id).where(
        SwapRequest.session_id == session.id, SwapRequest.other_session_id == other.id,
        SwapRequest.status == SwapStatus.PENDING))
    if duplicate:
        raise Conflict(_("You have already asked for this swap."), "other_session_id")
    request = SwapRequest(programme_id=session.programme_id, session_id=session.id, other_session_id=other.id,
                          from_community_id=session.chair_community_id, to_community_id=other.chair_community_id,
                          message=message, requested_by_id=user.id, status=SwapStatus.PENDING, created_at=now)
    db.session.add(request)
    db.session.flush()
    audit.record(session.programme_id, user, "swap.request", request, sessions=[session.number, other.number],
                 to=other.chair.name)
    return request


def get_request(request_id, programme_id: int) -> SwapRequest:
    return programmes.get_scoped(SwapRequest, request_id, programme_id, "request_id")


def _answer(request: SwapRequest, user: User, status: SwapStatus, now: datetime) -> None:
    request.status, request.answered_by_id, request.answered_at = status, user.id, now


def _require_pending(request: SwapRequest) -> None:
    if request.status != SwapStatus.PENDING:
        raise Conflict(_("This request has already been answered."), "request_id")


def _may_answer(request: SwapRequest, user: User) -> bool:
    if user.is_bureau:
        return True
    mine = community_of(user)
    return mine is not None and mine.id == request.to_community_id


def accept_request(request: SwapRequest, user: User, now: datetime | None = None) -> SwapRequest:
    lock_programme(request.programme_id)  # lock order: salon/database.py
    now = _now(now)
    if not _may_answer(request, user):
        raise Forbidden(_("Only the chair asked, or the bureau, can answer this request."), "request_id")
    _require_pending(request)
    if not _request_still_valid(request, now):
        request.status, request.answered_at = SwapStatus.VOID, now
        db.session.flush()
        raise Conflict(_("The schedule changed since this request; it no longer applies."), "request_id")
    _exchange(request.session, request.other_session)
    _answer(request, user, SwapStatus.ACCEPTED, now)
    audit.record(request.programme_id, user, "swap.accept", request,
                 sessions=[request.session.number, request.other_session.number])
    _void_stale_requests(request.programme_id, now)
    return request


def decline_request(request: SwapRequest, user: User, now: datetime | None = None) -> SwapRequest:
    lock_programme(request.programme_id)  # lock order: salon/database.py
    now = _now(now)
    if not _may_answer(request, user):
        raise Forbidden(_("Only the chair asked, or the bureau, can answer this request."), "request_id")
    _require_pending(request)
    _answer(request, user, SwapStatus.DECLINED, now)
    audit.record(request.programme_id, user, "swap.decline", request,
                 sessions=[request.session.number, request.other_session.number])
    return request


def withdraw_request(request: SwapRequest, user: User, now: datetime | None = None) -> SwapRequest:
    lock_programme(request.programme_id)  # lock order: salon/database.py
    now = _now(now)
    mine = community_of(user)
    if mine is None or mine.id != request.from_community_id:
        raise Forbidden(_("Only the chair who asked can withdraw this request."), "request_id")
    _require_pending(request)
    _answer(request, user, SwapStatus.WITHDRAWN, now)
    audit.record(request.programme_id, user, "swap.withdraw", request)
    return request


def _requests_query(programme_id: int):
    return (select(SwapRequest).where(SwapRequest.programme_id == programme_id)
            .options(joinedload(SwapRequest.session), joinedload(SwapRequest.other_session),
                     joinedload(SwapRequest.from_community), joinedload(SwapRequest.to_community))
            .order_by(SwapRequest.created_at.desc(), SwapRequest.id.desc()))


def pending_requests(programme_id: int) -> list[SwapRequest]:
    return list(db.session.scalars(_requests_query(programme_id).where(SwapRequest.status == SwapStatus.PENDING)))


@dataclass
class Inbox:
    incoming: list[SwapRequest]  # waiting for my answer (the bureau: every pending request)
    outgoing: list[SwapRequest]  # mine, pending
    recent: list[SwapRequest]  # answered, newest first


def inbox(user: User, recent: int = 20) -> Inbox:
    query = _requests_query(user.programme_id)
    if user.is_bureau:
        incoming = list(db.session.scalars(query.where(SwapRequest.status == SwapStatus.PENDING)))
        done = list(db.session.scalars(query.where(SwapRequest.status != SwapStatus.PENDING).limit(recent)))
        return Inbox(incoming, [], done)
    mine = community_of(user)
    if mine is None:
        return Inbox([], [], [])
    pending = query.where(SwapRequest.status == SwapStatus.PENDING)
    incoming = list(db.session.scalars(pending.where(SwapRequest.to_community_id == mine.id)))
    outgoing = list(db.session.scalars(pending.where(SwapRequest.from_community_id == mine.id)))
    done = list(db.session.scalars(query.where(
        SwapRequest.status != SwapStatus.PENDING,
        or_(SwapRequest.to_community_id == mine.id, SwapRequest.from_community_id == mine.id)).limit(recent)))
    return Inbox(incoming, outgoing, done)


# --- communities joining and leaving (called from salon.programmes.services) ---------------------------

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


# --- calendar feeds -------------------------------------------------------------------------------

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
