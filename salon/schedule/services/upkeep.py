"""Keeping the schedule right: past sessions marked held, the sessions of the coming months generated, and
every free future session refilled (the day rule, blackouts, the rotation of chairs, the numbering 第N期) after
any change; the swap requests the schedule has overtaken are void."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select

from salon.audit import services as audit
from salon.errors import Conflict, ValidationFailed
from salon.database import lock_programme
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules import calendar_rules, rotation
from salon.rules import topics as rules_topics
from salon.schedule import signals
from salon.schedule.models import Session, SessionStatus, SwapRequest, SwapStatus

from .reading import _now, is_fixed, pending_requests, sessions

if TYPE_CHECKING:
    from salon.accounts.models import User
    from salon.programmes.models import Programme


MAX_MONTHS = 36


def day_rule(programme: Programme) -> calendar_rules.DayRule:
    return calendar_rules.DayRule(programme.session_weekday, programme.session_week, programme.session_hour,
                                  programme.session_minute, programme.timezone)


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
