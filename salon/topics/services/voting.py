"""The topic vote's opening and closing: by time (`advance`, run lazily by the pages, the API, the home page
and `salon tick`), by the bureau's hand, or because the session was cancelled; and the session's live
nominations the poll is built over."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import func, select

from salon import clock
from salon.ballots import services as ballots
from salon.errors import Conflict
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules import ballots as ballot_rules
from salon.schedule import services as schedule
from salon.topics.models import Nomination, TopicVote

from .sessions import topic_poll, windows

if TYPE_CHECKING:
    from salon.ballots.models import Poll
    from salon.programmes.models import Programme
    from salon.schedule.models import Session

POLL_KIND = "topic"
QUESTION_CODE = "approve_topics"


def advance(programme: Programme, now: datetime | None = None, polls_closed: bool = False) -> list[str]:
    """Open voting for sessions whose window has begun, close polls whose window has ended.

    A window that passed with nobody there to open it (no request, no tick) still ends in a closed poll
    with no ballots, so the decider can go on rather than being stuck (SPEC §8). polls_closed: the caller has
    already closed the programme's due polls at `now` (the home page does it once for every room)."""
    now = now or clock.utcnow()
    closed = [] if polls_closed else ballots.close_due(now, programme.id)
    said = [_("Voting closed: %(title)s", title=ballots.poll_title(p)) for p in closed]
    horizon = timedelta(days=programme.vote_open_days + 1)
    planned = schedule.planned_numbered(programme.id, until=now + horizon)
    candidates = db.session.scalars(planned.where(
        ~select(TopicVote.session_id).where(TopicVote.session_id == planned.selected_columns.id).exists())).all()
    for session in candidates:
        frame = windows(session, programme, None)
        if _nomination_count(session.id) == 0 or now < frame.vote_opens:
            continue
        if frame.voting(now):
            if not ballots.key_ready(programme.id, POLL_KIND, now):
                continue  # SPEC §5.1: no poll opens unsealed; the bureau's home page says voting waits for the key
            open_voting(session, programme, None, now)
            said.append(_("Voting opened for session %(n)d.", n=session.number))
        else:
            last = frame.vote_closes - timedelta(microseconds=1)
            if ballots.key_ready(programme.id, POLL_KIND, last):
                ballots.close_poll(build_poll(session, programme, None, last), None, now)
            else:  # the window passed while no trustees' key was ready: nothing could be cast
                ballots.close_unopened(build_poll(session, programme, None, last, open_=False), now)
            said.append(_("Voting for session %(n)d closed unattended: its window passed with nobody to open it.",
                          n=session.number))
    return said


def _nomination_count(session_id: int) -> int:
    return db.session.scalar(select(func.count(Nomination.id)).where(
        Nomination.session_id == session_id, Nomination.withdrawn_at.is_(None)))


def nomination_by_id(nomination_id: int | None) -> Nomination | None:
    """A nomination by its id, unscoped (the caller holds a row that names it)."""
    return db.session.get(Nomination, nomination_id) if nomination_id is not None else None


def nomination_titled(session_id: int, title: str) -> Nomination | None:
    return db.session.scalar(select(Nomination).where(Nomination.session_id == session_id, Nomination.title == title))


def active_nominations(session_id: int) -> list[Nomination]:
    return list(db.session.scalars(
        select(Nomination).where(Nomination.session_id == session_id, Nomination.withdrawn_at.is_(None))
        .order_by(Nomination.id)))


def open_voting(session: Session, programme: Programme, actor, now: datetime | None = None) -> Poll:
    """Build the approval poll over the session's nominations and open it for the active communities' seats.
    The bureau may open it early (actor given); nominations freeze from then on."""
    now = now or clock.utcnow()
    schedule.lock_session(session.id)
    if topic_poll(session.id) is not None:
        raise Conflict(_("Voting for this session has already opened."), "poll")
    if session.status != schedule.SessionStatus.PLANNED:
        raise Conflict(_("This session is not planned any more."), "session_id")
    return build_poll(session, programme, actor, now)


def build_poll(session: Session, programme: Programme, actor, now: datetime, open_: bool = True) -> Poll:
    """The approval poll over the session's nominations, opened now (open_=False: left a draft, for a window
    that passed before it could open)."""
    frame = windows(session, programme, None)
    if now >= frame.vote_closes:
        raise Conflict(_("The voting window for this session has ended."), "poll")
    if open_:
        ballots.require_key(programme.id, POLL_KIND, now)  # before anything is written (SPEC §5.1)
    nominations = active_nominations(session.id)
    if not nominations:
        raise Conflict(_("There is nothing to vote on: no nominations."), "nominations")
    poll = ballots.create_poll(programme.id, POLL_KIND, closes_at=frame.vote_closes,
                               opens_at=min(frame.vote_opens, now),
                               min_published=programme.min_ballots_published, subject_id=session.id)
    db.session.add(TopicVote(session_id=session.id, programme_id=programme.id, poll_id=poll.id))
    question = ballots.add_question(poll, kind=ballot_rules.APPROVAL, max_choices=programme.approvals_max,
                                    code=QUESTION_CODE)
    for nomination in nominations:
        ballots.add_option(question, nomination.title, ref_id=nomination.id)
    if open_:
        ballots.open_poll(poll, programmes.active_seats(programme.id), actor, now)
    return poll


def session_cancelled(session: Session, actor, now: datetime) -> None:
    """A cancelled session's vote stops: the open poll closes now. Its nominations can be carried over."""
    poll = topic_poll(session.id)
    if poll is not None and poll.state == ballots.PollState.OPEN:
        ballots.close_poll(poll, actor, now)


def close_voting(session: Session, actor, now: datetime | None = None) -> Poll:
    poll = topic_poll(session.id)
    if poll is None:
        raise Conflict(_("Voting for this session has not opened."), "poll")
    return ballots.close_poll(poll, actor, now)
