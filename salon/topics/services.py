"""A session's topic, step by step (SPEC §3): nominate, vote, decide, agenda and guests.

Windows come from salon.rules.topics; the ballot from salon.ballots. Transitions that fall due with time
(voting opens, voting closes) run in `advance`, called lazily by the topic pages, the API, the home page
and `salon tick`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from salon import clock
from salon.audit import services as audit
from salon.ballots import services as ballots
from salon.committee.terms import (last_term, last_term_of, sitting_members, sitting_members_of, sitting_term,
                                   sitting_term_of)
from salon.errors import Conflict, Forbidden, NotFound, ValidationFailed, clean_text
from salon.database import as_id, lock_programme
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules import ballots as ballot_rules
from salon.rules import topics as rules
from salon.schedule import services as schedule
from salon.schedule.models import Session, SessionStatus
from salon.topics import limits
from salon.topics.models import (HOPED_MAX, PROBLEM_MAX, RATIONALE_MAX, TITLE_MAX, UNITS_MAX, AgendaItem, Guest,
                                 Nomination, TopicDecision, TopicVote)

if TYPE_CHECKING:
    from salon.ballots.models import Poll
    from salon.programmes.models import Community, Programme

POLL_KIND = "topic"
QUESTION_CODE = "approve_topics"
AGENDA_MAX_ITEMS = limits.AGENDA_ITEMS_MAX


# --- sessions and their windows --------------------------------------------------------------

def previous_session(session: Session) -> Session | None:
    """The session with the next lower number that is not cancelled (SPEC §3.1)."""
    if session.number is None:
        return None
    return db.session.scalar(
        select(Session).where(Session.programme_id == session.programme_id, Session.number < session.number,
                              Session.status != SessionStatus.CANCELLED)
        .order_by(Session.number.desc()).limit(1))


def windows(session: Session, programme: Programme, previous: Session | None) -> rules.TopicWindows:
    previous_ends = (previous.starts_at + timedelta(minutes=previous.duration_minutes)) if previous else None
    return rules.topic_windows(session.starts_at, previous_ends, programme.timezone,
                               programme.nomination_close_days, programme.vote_open_days,
                               programme.vote_close_days)


def topic_poll(session_id: int) -> Poll | None:
    return ballots.get(db.session.scalar(select(TopicVote.poll_id).where(TopicVote.session_id == session_id)))


def poll_title(poll: Poll) -> str:
    """Composed when shown, in the reader's language (titles are not stored)."""
    number = db.session.scalar(select(Session.number).join(TopicVote, TopicVote.session_id == Session.id)
                               .where(TopicVote.poll_id == poll.id))
    return _("Topic of session %(n)d", n=number or 0)


def upcoming(programme_id: int, now: datetime, limit: int = 3) -> list[tuple[Session, Session | None]]:
    """The next sessions with the session before each, in one query whatever the history: the next `limit`
    planned numbered sessions, and the session before the first of them (the highest number below it that is
    not cancelled), whose end opens the first one's nominations (SPEC §3.1)."""
    return [(session, previous) for session, previous, _row in _upcoming(programme_id, now, limit)]


def _upcoming(programme_id: int, now: datetime, limit: int, *columns) -> list[tuple[Session, Session | None, object]]:
    """upcoming(), each session with its row of `columns` (subqueries correlated to the session)."""
    mine = Session.programme_id == programme_id
    coming = and_(Session.status == SessionStatus.PLANNED, Session.number.is_not(None), Session.starts_at > now)
    first = select(func.min(Session.number)).where(mine, coming).scalar_subquery()
    before = select(func.max(Session.number)).where(mine, Session.status != SessionStatus.CANCELLED,
                                                    Session.number < first).scalar_subquery()
    rows = db.session.execute(
        select(Session, *columns).where(mine, or_(coming, and_(Session.number == before,
                                                               Session.status != SessionStatus.CANCELLED)))
        .order_by(Session.number).limit(limit + 1)).all()
    # The session before, if any, is the first row: its number is below every coming one's.
    future = [row for row in rows if row[0].status == SessionStatus.PLANNED and row[0].starts_at > now][:limit]
    if not future:
        return []
    previous = rows[0][0] if rows[0] is not future[0] else None
    return [(row[0], before_it, row) for row, before_it in zip(future, [previous] + [r[0] for r in future[:-1]])]


# --- time-based transitions -------------------------------------------------------------------

def advance(programme: Programme, now: datetime | None = None, polls_closed: bool = False) -> list[str]:
    """Open voting for sessions whose window has begun, close polls whose window has ended.

    A window that passed with nobody there to open it (no request, no tick) still ends in a closed poll
    with no ballots, so the decider can go on rather than being stuck (SPEC §8). polls_closed: the caller has
    already closed the programme's due polls at `now` (the home page does it once for every room)."""
    now = now or clock.utcnow()
    closed = [] if polls_closed else ballots.close_due(now, programme.id)
    said = [_("Voting closed: %(title)s", title=ballots.poll_title(p)) for p in closed]
    horizon = timedelta(days=programme.vote_open_days + 1)
    candidates = db.session.scalars(
        select(Session).where(
            Session.programme_id == programme.id, Session.status == SessionStatus.PLANNED,
            Session.number.is_not(None), Session.starts_at <= now + horizon,
            ~select(TopicVote.session_id).where(TopicVote.session_id == Session.id).exists())).all()
    for session in candidates:
        frame = windows(session, programme, None)
        if _nomination_count(session.id) == 0 or now < frame.vote_opens:
            continue
        if frame.voting(now):
            open_voting(session, programme, None, now)
            said.append(_("Voting opened for session %(n)d.", n=session.number))
        else:
            poll = build_poll(session, programme, None, frame.vote_closes - timedelta(microseconds=1))
            ballots.close_poll(poll, None, now)
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
    if session.status != SessionStatus.PLANNED:
        raise Conflict(_("This session is not planned any more."), "session_id")
    return build_poll(session, programme, actor, now)


def build_poll(session: Session, programme: Programme, actor, now: datetime) -> Poll:
    frame = windows(session, programme, None)
    if now >= frame.vote_closes:
        raise Conflict(_("The voting window for this session has ended."), "poll")
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


# --- nominations ------------------------------------------------------------------------------

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
    frame = windows(session, programme, previous_session(session))
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


def next_session(session: Session) -> Session | None:
    """The next planned session: by number, or by date for a cancelled session (it has no number)."""
    query = select(Session).where(Session.programme_id == session.programme_id, Session.id != session.id,
                                  Session.status == SessionStatus.PLANNED, Session.number.is_not(None))
    if session.number is not None:
        query = query.where(Session.number > session.number).order_by(Session.number)
    else:
        query = query.where(Session.starts_at > session.starts_at).order_by(Session.starts_at)
    return db.session.scalar(query.limit(1))


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
    target = next_session(nomination.session)
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


# --- deciding ---------------------------------------------------------------------------------

def committee_sitting(programme: Programme) -> bool:
    """SPEC §3.3/§4: a committee sits from its election's close until its term ends (completed, recalled)."""
    return sitting_term(programme.id) is not None


def vote_closed_at(session_id: int) -> datetime | None:
    poll = topic_poll(session_id)
    return poll.closed_at if poll is not None and poll.state == ballots.PollState.CLOSED else None


@dataclass(frozen=True)
class CommitteeFacts:
    """What the decider rule reads of the committee: how many members sit (None: no committee sits), and
    whether the last term was recalled."""
    sitting: int | None
    recalled: bool


def committee_facts(programme: Programme) -> CommitteeFacts:
    term = sitting_term(programme.id)
    if term is not None:
        return CommitteeFacts(len(sitting_members(term)), False)
    last = last_term(programme.id)
    return CommitteeFacts(None, last is not None and last.end_reason == "recalled")


def committee_facts_of(context) -> CommitteeFacts:
    """committee_facts for a home page (salon.home.tasks.TaskContext), from the facts the committee room shares."""
    if sitting_term_of(context) is not None:
        return CommitteeFacts(len(sitting_members_of(context)), False)
    last = last_term_of(context)
    return CommitteeFacts(None, last is not None and last.end_reason == "recalled")


_UNREAD = object()


def decider_of(session: Session, programme: Programme, now: datetime | None = None,
               facts: CommitteeFacts | None = None, closed_at=_UNREAD) -> rules.Decider:
    """Who decides this session's topic now, and why (SPEC §3.3, §4.1; the rule is salon.rules.topics).
    facts and closed_at (when its vote closed), when the caller has already read them."""
    now = now or clock.utcnow()
    if facts is None:
        facts = committee_facts(programme)
    if closed_at is _UNREAD:
        closed_at = vote_closed_at(session.id)
    return rules.decider(session.number or 0, programme.bureau_sessions, facts.sitting, facts.recalled, closed_at,
                         programme.decision_deadline_days, now)


def decider_for(session: Session, programme: Programme, now: datetime | None = None) -> str:
    return decider_of(session, programme, now).who


def decision_of(session_id: int) -> TopicDecision | None:
    return db.session.scalar(select(TopicDecision).where(TopicDecision.session_id == session_id))


def decided_titles(session_ids: list[int]) -> dict[int, tuple[str, datetime]]:
    """Session id → its decided topic's title and when it was decided, in one query (calendar feeds)."""
    if not session_ids:
        return {}
    return {session_id: (title, decided_at) for session_id, title, decided_at in db.session.execute(
        select(TopicDecision.session_id, Nomination.title, TopicDecision.decided_at)
        .join(Nomination, Nomination.id == TopicDecision.nomination_id)
        .where(TopicDecision.session_id.in_(session_ids)))}


def deciding_terms(decisions: list[TopicDecision]) -> dict[int, int | None]:
    """Which committee term made each decision (session id → term id; None: the bureau decided). SPEC §4.1: a
    review judges only its own term's decisions; each decision records the term that made it."""
    return {d.session_id: d.term_id if d.decider == rules.COMMITTEE else None for d in decisions}


def with_decisions(sessions, *columns):
    """sessions (a select of the schedule room's sessions, schedule.in_order() and the like) joined to their
    decisions, selecting `columns` (TopicDecision and the like) after each session, in one statement."""
    return (sessions.add_columns(*columns)
            .join(TopicDecision, TopicDecision.session_id == sessions.selected_columns.id))


def decided_sessions(sessions) -> list[tuple[Session, str, TopicDecision]]:
    """The sessions of `sessions` (as with_decisions) that have a decided topic, each with the topic's title
    and the decision, in the order of `sessions`."""
    return list(db.session.execute(with_decisions(sessions, Nomination.title, TopicDecision)
                                   .join(Nomination, Nomination.id == TopicDecision.nomination_id)).all())


def committee_decisions(term_id: int, start: datetime | None = None, end: datetime | None = None
                        ) -> list[tuple[Session, TopicDecision]]:
    """The decisions a term's committee made (SPEC §4.1), of sessions starting in [start, end), by date."""
    query = with_decisions(schedule.starting_between(start, end), TopicDecision).where(
        TopicDecision.term_id == term_id, TopicDecision.decider == rules.COMMITTEE)
    return [(s, d) for s, d in db.session.execute(query).all()]


def bureau_decisions(programme_id: int, start: datetime | None = None, end: datetime | None = None
                     ) -> list[tuple[Session, TopicDecision]]:
    """The decisions the bureau made, with their reasons, of sessions starting in [start, end)."""
    query = with_decisions(schedule.starting_between(start, end), TopicDecision).where(
        TopicDecision.programme_id == programme_id, TopicDecision.decider == rules.BUREAU)
    return [(s, d) for s, d in db.session.execute(query).all()]


def decide(session: Session, user, nomination_id, rationale, now: datetime | None = None) -> TopicDecision:
    """The bureau decides while the rule says so (SPEC §4.1), recording why."""
    now = now or clock.utcnow()
    programme = user.programme
    if not user.is_bureau:
        raise Forbidden(_("Only the bureau can do this."), "decider")
    who = decider_of(session, programme, now)
    if who.who != rules.BUREAU:
        raise Forbidden(_("The sitting committee decides this session's topic."), "decider")
    nomination, rationale, counts, needed = prepare_decision(session, nomination_id, rationale)
    return record_decision(session, nomination, rules.BUREAU, user, rationale, counts is not None and not needed, now,
                           reason=who.reason)


def prepare_decision(session: Session, nomination_id, rationale) -> tuple[Nomination, str, dict | None, bool]:
    """Check that the session can be decided now and that the pick and its rationale are acceptable
    (SPEC §3.3: a pick that is not the most approved needs a rationale). Locks the session row."""
    rationale = clean_text(rationale, "rationale", RATIONALE_MAX)
    lock_programme(session.programme_id)  # lock order: salon/database.py
    schedule.lock_session(session.id)
    if decision_of(session.id) is not None:
        raise Conflict(_("This session's topic has already been decided."), "session_id")
    if session.status == SessionStatus.CANCELLED:
        raise Conflict(_("This session is cancelled: its topic is not decided."), "session_id")
    poll = topic_poll(session.id)
    if poll is None:
        raise Conflict(_("Voting for this session has not happened yet."), "poll")
    if poll.state != ballots.PollState.CLOSED:
        raise Conflict(_("Voting is still open; decide after it closes."), "poll")
    nomination_id = as_id(nomination_id)
    nomination = db.session.get(Nomination, nomination_id) if nomination_id else None
    if nomination is None or nomination.session_id != session.id or nomination.withdrawn_at is not None:
        raise ValidationFailed(_("Choose one of the nominations."), "nomination_id")
    result = ballots.results(poll)
    counts = {n.id: result.ref_counts.get(n.id, 0) for n in active_nominations(session.id)} \
        if result.published else None
    needed = rules.rationale_required(nomination.id, counts)
    if needed and not rationale:
        raise ValidationFailed(
            _("The pick is not the most approved nomination: explain why.") if counts is not None
            else _("No tally was published for this vote: explain the pick."), "rationale")
    return nomination, rationale, counts, needed


def record_decision(session: Session, nomination: Nomination, decider: str, user, rationale: str,
                    followed_tally: bool, now: datetime, reason: str = rules.MAJORITY,
                    term_id: int | None = None) -> TopicDecision:
    """A committee decision is the committee's (`term_id`), credited to no single member: its members' picks
    say who picked what (SPEC §3.3, §4.1). A bureau decision names the bureau's user and the reason."""
    decision = TopicDecision(programme_id=session.programme_id, session_id=session.id, nomination_id=nomination.id,
                             decider=decider, decided_by_id=user.id if user and decider == rules.BUREAU else None,
                             rationale=rationale, followed_tally=followed_tally, decided_at=now,
                             term_id=term_id if decider == rules.COMMITTEE else None, reason=reason)
    db.session.add(decision)
    db.session.flush()
    _default_agenda(session, nomination)
    audit.record(session.programme_id, user, "topic.decide", session, session=session.number,
                 nomination=nomination.id, title=nomination.title, decider=decider, reason=reason)
    return decision


# --- agenda and guests ------------------------------------------------------------------------

def can_manage(user, session: Session, seat=None) -> bool:
    """The bureau and the session's chair edit the agenda and the guests (SPEC §3.4). seat: the secretary's,
    when the caller has it."""
    return programmes.bureau_or_chair(user, session.chair_community_id, seat)


def check_manage(user, session: Session, field: str = "session_id") -> None:
    """can_manage, or 403: the one refusal of every room that lets the bureau and the chair act on a session."""
    if not can_manage(user, session):
        raise Forbidden(_("Only the bureau and this session's chair can do this."), field)


DEFAULT_SHARES = (5, 15, 25, 45, 20, 10)  # of 120 minutes


def _default_agenda(session: Session, nomination: Nomination) -> None:
    chair = session.chair.name if session.chair is not None else _("the chair")
    units = nomination.outside_units or _("invited units")
    rows = [
        (_("Opening"), chair, ""),
        (_("Background of the topic"), nomination.community.name, nomination.title),
        (_("Statements by invited units"), units, ""),
        (_("Discussion"), _("everyone"), ""),
        (_("Resolutions"), chair, ""),
        (_("Closing"), chair, ""),
    ]
    total = session.duration_minutes or 120
    minutes = [max(1, round(share * total / 120)) for share in DEFAULT_SHARES]
    minutes[3] += total - sum(minutes)
    db.session.execute(AgendaItem.__table__.delete().where(AgendaItem.session_id == session.id))
    for position, ((title, lead, note), length) in enumerate(zip(rows, minutes)):
        db.session.add(AgendaItem(programme_id=session.programme_id, session_id=session.id, position=position,
                                  title=title[:limits.AGENDA_TITLE.max], lead=lead[:limits.AGENDA_LEAD.max],
                                  minutes=max(1, length), note=note[:limits.AGENDA_NOTE.max]))
    db.session.flush()


@dataclass(frozen=True)
class TimedItem:
    item: AgendaItem
    starts_at: datetime
    ends_at: datetime


def agenda(session: Session) -> list[TimedItem]:
    items = db.session.scalars(select(AgendaItem).where(AgendaItem.session_id == session.id)
                               .order_by(AgendaItem.position)).all()
    timed, at = [], session.starts_at
    for item in items:
        end = at + timedelta(minutes=item.minutes)
        timed.append(TimedItem(item, at, end))
        at = end
    return timed


def clean_agenda(items, session_minutes: int | None = None) -> list[dict]:
    """The agenda's items, checked; with `session_minutes`, their minutes together must fit in the session."""
    if not isinstance(items, list):
        raise ValidationFailed(_("Must be a list of agenda items."), "items")
    if not items:
        raise ValidationFailed(_("An agenda needs at least one item."), "items")
    if len(items) > limits.AGENDA_ITEMS_MAX:
        raise ValidationFailed(_("At most %(n)d items.", n=limits.AGENDA_ITEMS_MAX), "items")
    clean = []
    low, high = limits.ITEM_MINUTES_MIN, limits.ITEM_MINUTES_MAX
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            raise ValidationFailed(_("Must be a list of agenda items."), "items")
        minutes = raw.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not low <= minutes <= high:
            raise ValidationFailed(_("Item %(i)d: minutes must be a whole number from %(low)d to %(high)d.",
                                     i=index + 1, low=low, high=high), "minutes")
        clean.append({"title": clean_text(raw.get("title", ""), "title", limits.AGENDA_TITLE.max, True),
                      "lead": clean_text(raw.get("lead", ""), "lead", limits.AGENDA_LEAD.max, False),
                      "note": clean_text(raw.get("note", ""), "note", limits.AGENDA_NOTE.max, False),
                      "minutes": minutes})
    total = sum(row["minutes"] for row in clean)
    if session_minutes is not None and total > session_minutes:
        raise ValidationFailed(_("The items add up to %(total)d minutes, but the session lasts %(max)d: "
                                 "shorten some items.", total=total, max=session_minutes), "minutes")
    return clean


def replace_agenda(session: Session, user, items) -> list[TimedItem]:
    lock_programme(session.programme_id)  # lock order: salon/database.py
    check_manage(user, session)
    clean = clean_agenda(items, session.duration_minutes)
    db.session.execute(AgendaItem.__table__.delete().where(AgendaItem.session_id == session.id))
    for position, row in enumerate(clean):
        db.session.add(AgendaItem(programme_id=session.programme_id, session_id=session.id, position=position, **row))
    db.session.flush()
    audit.record(session.programme_id, user, "agenda.edit", session, session=session.number, items=len(clean))
    return agenda(session)


def guest_ids_among(session_id: int, guest_ids: list[int]) -> set[int]:
    """Which of guest_ids are the session's guests."""
    return set(db.session.scalars(select(Guest.id).where(Guest.session_id == session_id,
                                                         Guest.id.in_(guest_ids or [0]))))


def guests(session_id: int) -> list[Guest]:
    return list(db.session.scalars(select(Guest).where(Guest.session_id == session_id).order_by(Guest.id)))


def add_guest(session: Session, user, data: dict, is_sample: bool = False) -> Guest:
    lock_programme(session.programme_id)  # lock order: salon/database.py
    check_manage(user, session)
    guest = Guest(programme_id=session.programme_id, session_id=session.id,
                  name=clean_text(data.get("name", ""), "name", limits.GUEST_NAME.max, True),
                  unit=clean_text(data.get("unit", ""), "unit", limits.GUEST_UNIT.max, True),
                  contact=clean_text(data.get("contact", ""), "contact", limits.GUEST_CONTACT.max, False),
                  is_sample=is_sample)
    db.session.add(guest)
    db.session.flush()
    audit.record(session.programme_id, user, "guest.add", guest, session=session.number, name=guest.name,
                 unit=guest.unit)
    return guest


def remove_guest(session: Session, user, guest_id) -> None:
    lock_programme(session.programme_id)  # lock order: salon/database.py
    check_manage(user, session)
    guest = programmes.get_scoped(Guest, guest_id, session.programme_id, "guest_id")
    if guest.session_id != session.id:
        raise NotFound(_("Not found."), "guest_id")
    audit.record(session.programme_id, user, "guest.remove", guest, session=session.number, name=guest.name)
    db.session.delete(guest)
    db.session.flush()


# --- what pages show --------------------------------------------------------------------------

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
    previous = previous_session(session)
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
        decision=decision_of(session.id), decider=decider_for(session, programme),
        my_community_id=seat.community_id if seat else None, my_seat_id=seat.id if seat else None,
        voted=mine is not None and mine.voted, eligible=mine is not None and mine.eligible,
        manage=can_manage(user, session, seat), carried=carried)


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
        select(Session).where(Session.programme_id == programme_id, Session.number.is_not(None))
        .order_by(Session.number.desc()).limit(per_page + 1).offset((page - 1) * per_page)))
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
        coming = list(db.session.scalars(
            select(Session).where(Session.programme_id == programme_id, Session.number.is_not(None),
                                  Session.status == SessionStatus.PLANNED, Session.starts_at > now)
            .order_by(Session.starts_at).limit(48)))
        for index, row in enumerate(_rows(programme_id, coming)):
            if index == 0 or row.nominations or row.poll_state or row.decided_title:
                active.append(row)
            else:
                waiting.append(row.session)
    past = list(db.session.scalars(
        select(Session).where(Session.programme_id == programme_id, Session.number.is_not(None),
                              or_(Session.status == SessionStatus.HELD, Session.starts_at <= now))
        .order_by(Session.starts_at.desc(), Session.id.desc()).limit(per_page + 1).offset((page - 1) * per_page)))
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

    @property
    def bureau_decides(self) -> bool:
        return self.who.who == rules.BUREAU


def tasks_state(user, now: datetime, seat=None, facts: CommitteeFacts | None = None) -> list[TaskState]:
    """What the home page says about the next sessions, in a fixed number of queries: the sessions with what
    the topics room knows of them, then their polls. seat: the secretary's seat; facts: what the decider rule
    reads of the committee (each read when not given)."""
    programme = user.programme
    if seat is None and user.is_secretary:
        seat = programmes.seat_of(user)
    live = Nomination.withdrawn_at.is_(None)
    found = _upcoming(
        programme.id, now, 3,
        select(TopicVote.poll_id).where(TopicVote.session_id == Session.id, TopicVote.programme_id == programme.id)
        .scalar_subquery().label("poll_id"),
        select(Nomination.title).join(TopicDecision, TopicDecision.nomination_id == Nomination.id)
        .where(TopicDecision.session_id == Session.id).scalar_subquery().label("decided_title"),
        select(func.count(Nomination.id)).where(Nomination.session_id == Session.id, live)
        .scalar_subquery().label("nominations"),
        select(func.count(Nomination.id)).where(Nomination.session_id == Session.id, live,
                                                Nomination.community_id == (seat.community_id if seat else None))
        .scalar_subquery().label("mine"),
        select(func.count(AgendaItem.id)).where(AgendaItem.session_id == Session.id)
        .scalar_subquery().label("agenda_items"),
        select(func.count(Guest.id)).where(Guest.session_id == Session.id).scalar_subquery().label("guests"))
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
        out.append(TaskState(
            session=session, nominating=poll is None and frame.nominating(now),
            my_nominations=row.mine if seat is not None else None,
            poll_state=poll.state.value if poll else None, eligible=poll is not None and poll.eligible,
            voted=poll is not None and poll.voted, decided=row.decided_title is not None,
            who=decider_of(session, programme, now, facts,
                           poll.closed_at if poll is not None and poll.state == ballots.PollState.CLOSED else None),
            frame=frame,
            nominations=row.nominations if bureau else 0, poll=poll,
            turnout=poll.turnout if poll is not None and bureau and poll.state == ballots.PollState.OPEN else 0,
            decided_title=row.decided_title, agenda_items=row.agenda_items if bureau else 0,
            guests=row.guests if bureau else 0))
    return out


def tasks_state_of(context) -> list[TaskState]:
    """tasks_state for a home page (salon.home.tasks.TaskContext), computed once for every room that reads it
    (topics, the committee's picks, the packets)."""
    return context.shared("topics.tasks_state", lambda: tasks_state(
        context.user, context.now, context.seat, committee_facts_of(context)))
