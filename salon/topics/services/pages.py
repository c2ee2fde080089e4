"""What pages show: a session's topic page, its agenda and guests, the topics page, the programme's sessions
a page at a time, and what the home page says about the next sessions — each in a fixed number of queries."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from salon import clock
from salon.ballots import services as ballots
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules import topics as rules
from salon.rules import trustees as trustee_rules
from salon.schedule import services as schedule
from salon.topics.models import AgendaItem, Guest, Nomination, TopicDecision, TopicVote

from .agenda_and_guests import TimedItem, agenda, can_manage, guests
from .deciding import (CommitteeFacts, committee_facts, committee_facts_of, decider_for, decider_of, decision_of,
                       decryption_overdue)
from .sessions import _upcoming, topic_poll, windows
from .voting import advance

if TYPE_CHECKING:
    from salon.ballots.models import Poll
    from salon.schedule.models import Session

@dataclass
class SessionTopic:
    session: Session
    previous: Session | None
    frame: rules.TopicWindows
    nominations: list[Nomination]
    poll: Poll | None
    results: ballots.Results | None
    receipts: list[str]
    decision: TopicDecision | None
    decider: str
    my_community_id: int | None
    my_seat_id: int | None
    voted: bool
    eligible: bool
    manage: bool
    carried: set[int]
    overdue: bool = False  # the trustees did not decrypt the vote by their deadline: decided without a tally

    @property
    def counts_by_nomination(self) -> dict[int, int] | None:
        return self.results.ref_counts if self.results and self.results.published else None

    def most_approved(self) -> set[int]:
        counts = self.counts_by_nomination
        return rules.most_approved(counts) if counts is not None else set()


def session_topic(session: Session, user, now: datetime | None = None) -> SessionTopic:
    now = now or clock.utcnow()
    programme = user.programme
    advance(programme, now)
    previous = schedule.previous_session(session)
    nominations = list(db.session.scalars(
        select(Nomination).where(Nomination.session_id == session.id, Nomination.withdrawn_at.is_(None))
        .order_by(Nomination.id).options(joinedload(Nomination.community))))
    poll = topic_poll(session.id)
    seat = programmes.seat_of(user) if user.is_secretary else None
    # Whether the seat may vote and has voted, in one query (none without a seat).
    mine = ballots.summaries([poll.id], seat.id)[poll.id] if poll is not None and seat is not None else None
    results = ballots.results(poll) if poll is not None else None
    carried = set(db.session.scalars(select(Nomination.carried_from_id).where(
        Nomination.carried_from_id.in_([n.id for n in nominations])))) if nominations else set()
    return SessionTopic(
        session=session, previous=previous, frame=windows(session, programme, previous),
        nominations=nominations, poll=poll, results=results,
        receipts=ballots.receipts(poll) if poll is not None else [],
        decision=decision_of(session.id), decider=decider_for(session, programme, now),
        my_community_id=seat.community_id if seat else None, my_seat_id=seat.id if seat else None,
        voted=mine is not None and mine.voted, eligible=mine is not None and mine.eligible,
        manage=can_manage(user, session, seat), carried=carried,
        overdue=results is not None and results.awaiting_trustees and decryption_overdue(poll, now))


@dataclass
class SessionParts:
    agenda: list[TimedItem]
    guests: list[Guest]


def session_parts(view: SessionTopic) -> SessionParts:
    """The agenda and guests, for the session page (two queries; none before a decision)."""
    if view.decision is None:
        return SessionParts([], [])
    return SessionParts(agenda(view.session), guests(view.session.id))


@dataclass
class Row:
    session: Session
    nominations: int
    poll_state: str | None
    decided_title: str | None


def _rows(programme_id: int, sessions: list[Session]) -> list[Row]:
    ids = [s.id for s in sessions]
    if not ids:
        return []
    counts = dict(db.session.execute(
        select(Nomination.session_id, func.count(Nomination.id))
        .where(Nomination.session_id.in_(ids), Nomination.withdrawn_at.is_(None))
        .group_by(Nomination.session_id)).all())
    poll_of = dict(db.session.execute(select(TopicVote.session_id, TopicVote.poll_id).where(
        TopicVote.session_id.in_(ids), TopicVote.programme_id == programme_id)).all())
    by_poll = ballots.states(list(poll_of.values()))
    states = {sid: by_poll[pid] for sid, pid in poll_of.items() if pid in by_poll}
    titles = dict(db.session.execute(
        select(TopicDecision.session_id, Nomination.title)
        .join(Nomination, Nomination.id == TopicDecision.nomination_id)
        .where(TopicDecision.session_id.in_(ids))).all())
    return [Row(s, counts.get(s.id, 0), states[s.id].value if s.id in states else None, titles.get(s.id))
            for s in sessions]


def session_rows(programme_id: int, page: int = 1, per_page: int = 12) -> tuple[list[Row], bool]:
    """The programme's sessions, newest number first, a page at a time: four queries per page."""
    page = max(1, page)
    sessions = list(db.session.scalars(
        schedule.numbered(programme_id).limit(per_page + 1).offset((page - 1) * per_page)))
    more = len(sessions) > per_page
    return _rows(programme_id, sessions[:per_page]), more


@dataclass
class TopicList:
    active: list[Row]  # coming sessions with something in them (or taking nominations), soonest first
    waiting: list[Session]  # coming sessions with nothing in them yet: shown as one line
    history: list[Row]  # held sessions, newest first, a page at a time
    more: bool


def topic_list(programme_id: int, now: datetime, page: int = 1, per_page: int = 12) -> TopicList:
    """The topics page (issue 9): what is active first, then the decided history newest first; future sessions
    with nothing in them collapse into one line. A fixed number of queries whatever the history."""
    page = max(1, page)
    active, waiting = [], []
    if page == 1:
        coming = list(db.session.scalars(schedule.planned_numbered(programme_id, after=now).limit(48)))
        for index, row in enumerate(_rows(programme_id, coming)):
            if index == 0 or row.nominations or row.poll_state or row.decided_title:
                active.append(row)
            else:
                waiting.append(row.session)
    past = list(db.session.scalars(
        schedule.past_numbered(programme_id, now).limit(per_page + 1).offset((page - 1) * per_page)))
    return TopicList(active, waiting, _rows(programme_id, past[:per_page]), len(past) > per_page)


@dataclass
class TaskState:
    session: Session
    nominating: bool
    my_nominations: int | None
    poll_state: str | None
    eligible: bool
    voted: bool
    decided: bool
    who: rules.Decider
    frame: rules.TopicWindows | None = None
    nominations: int = 0  # every community's, not withdrawn
    poll: ballots.PollSummary | None = None
    turnout: int = 0
    decided_title: str | None = None
    agenda_items: int = 0
    guests: int = 0
    overdue: bool = False  # closed and sealed, its count still awaited at the trustees' decryption deadline

    @property
    def bureau_decides(self) -> bool:
        return self.who.who == rules.BUREAU

    @property
    def awaiting_count(self) -> bool:
        """The vote is closed and sealed and the trustees have not decrypted its count: nobody can decide yet
        (SPEC §5.1), and the committee's deadline has not started."""
        return self.poll is not None and self.poll.awaiting_trustees and not self.decided and not self.overdue


def tasks_state(user, now: datetime, seat=None, facts: CommitteeFacts | None = None) -> list[TaskState]:
    """What the home page says about the next sessions, in a fixed number of queries: the sessions with what
    the topics room knows of them, then their polls. seat: the secretary's seat; facts: what the decider rule
    reads of the committee (each read when not given)."""
    programme = user.programme
    if seat is None and user.is_secretary:
        seat = programmes.seat_of(user)
    live = Nomination.withdrawn_at.is_(None)
    found = _upcoming(programme.id, now, 3, lambda session_id: (
        select(TopicVote.poll_id).where(TopicVote.session_id == session_id, TopicVote.programme_id == programme.id)
        .scalar_subquery().label("poll_id"),
        select(Nomination.title).join(TopicDecision, TopicDecision.nomination_id == Nomination.id)
        .where(TopicDecision.session_id == session_id).scalar_subquery().label("decided_title"),
        select(func.count(Nomination.id)).where(Nomination.session_id == session_id, live)
        .scalar_subquery().label("nominations"),
        select(func.count(Nomination.id)).where(Nomination.session_id == session_id, live,
                                                Nomination.community_id == (seat.community_id if seat else None))
        .scalar_subquery().label("mine"),
        select(func.count(AgendaItem.id)).where(AgendaItem.session_id == session_id)
        .scalar_subquery().label("agenda_items"),
        select(func.count(Guest.id)).where(Guest.session_id == session_id).scalar_subquery().label("guests")))
    if not found:
        return []
    if facts is None:
        facts = committee_facts(programme)
    summaries = ballots.summaries([row.poll_id for _s, _p, row in found if row.poll_id is not None],
                                  seat.id if seat else None, turnout=user.is_bureau)
    bureau = user.is_bureau
    out = []
    for session, previous, row in found:
        poll = summaries.get(row.poll_id)
        frame = windows(session, programme, previous)
        counted = poll.counted_at if poll is not None else None
        closed = poll.closed_at if poll is not None and poll.state == ballots.PollState.CLOSED else None
        out.append(TaskState(
            session=session, nominating=poll is None and frame.nominating(now),
            my_nominations=row.mine if seat is not None else None,
            poll_state=poll.state.value if poll else None, eligible=poll is not None and poll.eligible,
            voted=poll is not None and poll.voted, decided=row.decided_title is not None,
            who=decider_of(session, programme, now, facts, rules.deciding_starts(closed, counted, now)),
            overdue=trustee_rules.decryption_overdue(closed, counted, now),
            frame=frame,
            nominations=row.nominations if bureau else 0, poll=poll,
            turnout=poll.turnout if poll is not None and bureau and poll.state == ballots.PollState.OPEN else 0,
            decided_title=row.decided_title, agenda_items=row.agenda_items if bureau else 0,
            guests=row.guests if bureau else 0))
    return out


def awaited_trustees_of(context) -> dict[int, tuple[str, ...]]:
    """For a home page, once: per topic poll of the next sessions whose count awaits the trustees, who is awaited
    (names), in a fixed number of statements (ballots.awaited_names); no statement when none awaits."""
    return context.shared("topics.awaited_trustees", lambda: ballots.awaited_names(
        [item.poll.id for item in tasks_state_of(context)
         if item.awaiting_count or (item.overdue and not item.decided)]))


def tasks_state_of(context) -> list[TaskState]:
    """tasks_state for a home page (salon.home.tasks.TaskContext), computed once for every room that reads it
    (topics, the committee's picks, the packets)."""
    return context.shared("topics.tasks_state", lambda: tasks_state(
        context.user, context.now, context.seat, committee_facts_of(context)))


def overdue_detail(item, context) -> str | None:
    """The line under a decision task when the trustees did not decrypt the vote in time (item.overdue): the topic
    is decided without a tally, and who was awaited (docs/sealed-ballots.md)."""
    if not item.overdue:
        return None
    names = awaited_trustees_of(context).get(item.poll.id, ())
    return _("The trustees did not decrypt the count in time (awaited: %(names)s): decide without a tally.",
             names="、".join(names))
