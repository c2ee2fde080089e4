"""Nominations (SPEC §3.1): a community's secretary nominates, edits and withdraws while the window is open,
within the community's limit, and carries an unchosen nomination over to the next session."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import func, select

from salon import clock
from salon.errors import Conflict, Forbidden, NotFound, clean_text
from salon.extensions import db
from salon.programmes import services as programmes
from salon.schedule import services as schedule
from salon.schedule.services import SessionStatus
from salon.topics.models import HOPED_MAX, PROBLEM_MAX, TITLE_MAX, UNITS_MAX, Nomination

from .deciding import decision_of
from .sessions import topic_poll, windows

if TYPE_CHECKING:
    from salon.programmes.models import Community, Programme
    from salon.schedule.models import Session

def clean_nomination(data: dict, partial: bool = False) -> dict:
    spec = (("title", TITLE_MAX, True), ("problem", PROBLEM_MAX, True), ("hoped_result", HOPED_MAX, False),
            ("outside_units", UNITS_MAX, False))
    return {name: clean_text(data.get(name, ""), name, limit, required) for name, limit, required in spec
            if not partial or name in data}


def _my_community(user) -> Community:
    seat = programmes.seat_of(user) if user.is_secretary else None
    if seat is None:
        raise Forbidden(_("Only a community's secretary can nominate topics."), "community")
    if not seat.community.active:
        raise Forbidden(_("Your community is inactive."), "community")
    return seat.community


def _check_nominating(session: Session, programme: Programme, now: datetime) -> None:
    if session.status != SessionStatus.PLANNED or session.number is None:
        raise Conflict(_("This session takes no nominations."), "session_id")
    frame = windows(session, programme, schedule.previous_session(session))
    if topic_poll(session.id) is not None or not frame.nominating(now):
        if frame.nominate_opens is not None and now < frame.nominate_opens:
            raise Conflict(_("Nominations for this session open when the previous session has been held."),
                           "session_id")
        raise Conflict(_("Nominations for this session have closed."), "session_id")


def _check_limit(session: Session, programme: Programme, community: Community) -> None:
    programmes.lock_community(community.id)
    used = db.session.scalar(select(func.count(Nomination.id)).where(
        Nomination.session_id == session.id, Nomination.community_id == community.id,
        Nomination.withdrawn_at.is_(None)))
    if used >= programme.nominations_per_community:
        raise Conflict(_("Your community has already nominated %(n)d topics for this session, the most allowed.",
                         n=programme.nominations_per_community), "community")


def nominate(session: Session, user, data: dict, now: datetime | None = None) -> Nomination:
    now = now or clock.utcnow()
    programme = user.programme
    clean = clean_nomination(data)
    community = _my_community(user)
    _check_nominating(session, programme, now)
    _check_limit(session, programme, community)
    nomination = Nomination(programme_id=programme.id, session_id=session.id, community_id=community.id,
                            created_by_id=user.id, created_at=now, updated_at=now, **clean)
    db.session.add(nomination)
    db.session.flush()
    return nomination


def get_nomination(nomination_id, programme_id: int) -> Nomination:
    nomination = programmes.get_scoped(Nomination, nomination_id, programme_id, "nomination_id")
    if nomination.withdrawn_at is not None:
        raise NotFound(_("This nomination was withdrawn."), "nomination_id")
    return nomination


def _check_own_editable(nomination: Nomination, user, now: datetime) -> None:
    community = _my_community(user)
    if community.id != nomination.community_id:
        raise Forbidden(_("Only the nominating community can change its nomination."), "nomination_id")
    session = nomination.session
    frame = windows(session, user.programme, None)
    if topic_poll(session.id) is not None or not frame.editable(now):
        raise Conflict(_("Voting has opened: nominations can no longer change."), "nomination_id")


def check_editable(nomination: Nomination, user, now: datetime) -> None:
    _check_own_editable(nomination, user, now)


def edit_nomination(nomination: Nomination, user, data: dict, now: datetime | None = None) -> Nomination:
    now = now or clock.utcnow()
    clean = clean_nomination(data, partial=True)
    _check_own_editable(nomination, user, now)
    for key, value in clean.items():
        setattr(nomination, key, value)
    nomination.updated_at = now
    db.session.flush()
    return nomination


def withdraw(nomination: Nomination, user, now: datetime | None = None) -> Nomination:
    now = now or clock.utcnow()
    _check_own_editable(nomination, user, now)
    nomination.withdrawn_at = now
    db.session.flush()
    return nomination


def carry_over(nomination: Nomination, user, now: datetime | None = None) -> Nomination:
    """An unchosen nomination moves, as a copy, to the next session, by its own community (SPEC §3.1)."""
    now = now or clock.utcnow()
    community = _my_community(user)
    if community.id != nomination.community_id:
        raise Forbidden(_("Only the nominating community can carry its nomination over."), "nomination_id")
    decision = decision_of(nomination.session_id)
    # SPEC §4.1: a cancelled session, or a held one never decided, carries its nominations over like any other.
    if decision is None and nomination.session.status not in (SessionStatus.CANCELLED, SessionStatus.HELD):
        raise Conflict(_("A nomination can be carried over once its session's topic is decided."),
                       "nomination_id")
    if decision is not None and decision.nomination_id == nomination.id:
        raise Conflict(_("This nomination was chosen; there is nothing to carry over."), "nomination_id")
    if db.session.scalar(select(Nomination.id).where(Nomination.carried_from_id == nomination.id)):
        raise Conflict(_("This nomination has already been carried over."), "nomination_id")
    target = schedule.next_numbered(nomination.session)
    if target is None:
        raise Conflict(_("There is no next session to carry it to yet."), "nomination_id")
    programme = user.programme
    _check_nominating(target, programme, now)
    _check_limit(target, programme, community)
    copy = Nomination(programme_id=programme.id, session_id=target.id, community_id=community.id,
                      title=nomination.title, problem=nomination.problem, hoped_result=nomination.hoped_result,
                      outside_units=nomination.outside_units, created_by_id=user.id,
                      carried_from_id=nomination.id, created_at=now, updated_at=now)
    db.session.add(copy)
    db.session.flush()
    return copy
