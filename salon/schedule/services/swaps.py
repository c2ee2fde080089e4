"""Swaps of chair duties: the bureau exchanges two chairs directly, or one chair asks another, who accepts
or declines (or the asker withdraws); each chair's inbox of requests."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import or_, select

from salon.audit import services as audit
from salon.errors import Conflict, Forbidden, ValidationFailed, clean_text
from salon.database import lock_programme
from salon.extensions import db
from salon.programmes import services as programmes
from salon.schedule.models import Session, SwapRequest, SwapStatus

from .reading import _now, _requests_query, community_of
from .single_sessions import _require_future_planned
from .upkeep import _request_still_valid, _void_stale_requests

if TYPE_CHECKING:
    from salon.accounts.models import User


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
