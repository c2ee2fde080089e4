"""Deciding a session's topic (SPEC §3.3, §4.1): who decides now (the bureau or the sitting committee; the
rule is salon.rules.topics), the decision and its rationale, and the decisions other rooms read (calendar
feeds, a term's decisions for its review)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select

from salon import clock
from salon.audit import services as audit
from salon.ballots import services as ballots
from salon.committee.terms import (last_term, last_term_of, sitting_members, sitting_members_of, sitting_term,
                                   sitting_term_of)
from salon.errors import Conflict, Forbidden, ValidationFailed, clean_text
from salon.database import as_id, lock_programme
from salon.extensions import db
from salon.rules import topics as rules
from salon.rules import trustees as trustee_rules
from salon.schedule import services as schedule
from salon.topics.models import RATIONALE_MAX, Nomination, TopicDecision

from .agenda_and_guests import _default_agenda
from .sessions import topic_poll
from .voting import active_nominations

if TYPE_CHECKING:
    from salon.programmes.models import Programme
    from salon.schedule.models import Session

def vote_counted_at(session_id: int, now: datetime | None = None) -> datetime | None:
    """When the committee's days to decide started (rules.deciding_starts): the session's vote's count
    (ballots.counted_at), or the trustees' decryption deadline if it passed first. None while the vote is open,
    or closed and sealed with its count awaiting the trustees in time."""
    poll = topic_poll(session_id)
    if poll is None:
        return None
    return rules.deciding_starts(poll.closed_at, ballots.counted_at(poll), now or clock.utcnow())


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
               facts: CommitteeFacts | None = None, counted_at=_UNREAD) -> rules.Decider:
    """Who decides this session's topic now, and why (SPEC §3.3, §4.1; the rule is salon.rules.topics).
    facts and counted_at (when the committee's days started, vote_counted_at: the deadline runs from it), when
    the caller has already read them."""
    now = now or clock.utcnow()
    if facts is None:
        facts = committee_facts(programme)
    if counted_at is _UNREAD:
        counted_at = vote_counted_at(session.id, now)
    return rules.decider(session.number or 0, programme.bureau_sessions, facts.sitting, facts.recalled, counted_at,
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
    nomination, rationale, counts, needed = prepare_decision(session, nomination_id, rationale, now)
    return record_decision(session, nomination, rules.BUREAU, user, rationale, counts is not None and not needed, now,
                           reason=who.reason)


def awaiting_count_text() -> str:
    return _("The trustees have not yet decrypted this vote's count: the topic is decided once the count is known.")


def awaiting_count(poll, now: datetime | None = None) -> bool:
    """Whether deciding must wait for the trustees (SPEC §3.3, §5.1): the vote is closed and sealed but its count
    not yet decrypted, and the trustees' decryption deadline has not come. A vote below the publication minimum is
    counted at its close (nothing is decrypted, and no count will come), so deciding goes on at once; so does a
    vote whose decryption is overdue (decryption_overdue), without a tally."""
    return (poll is not None and poll.state == ballots.PollState.CLOSED and not ballots.is_counted(poll)
            and not decryption_overdue(poll, now))


def decryption_overdue(poll, now: datetime | None = None) -> bool:
    """Whether the vote's count is still awaited at or after the trustees' decryption deadline
    (salon.rules.trustees.DECRYPT_DAYS after its close): the topic is then decided without a tally."""
    return (poll is not None and poll.state == ballots.PollState.CLOSED
            and trustee_rules.decryption_overdue(poll.closed_at, ballots.counted_at(poll), now or clock.utcnow()))



def decided_before_count(decision: TopicDecision) -> bool:
    """Whether a decision was made before its vote was counted (the trustees did not decrypt in time): the decider
    had no tally to follow, whatever a count published later says."""
    poll = topic_poll(decision.session_id)
    if poll is None or not poll.sealed:
        return False
    counted = ballots.counted_at(poll)
    return counted is None or decision.decided_at < counted


def prepare_decision(session: Session, nomination_id, rationale, now: datetime | None = None
                     ) -> tuple[Nomination, str, dict | None, bool]:
    """Check that the session can be decided now and that the pick and its rationale are acceptable
    (SPEC §3.3: a pick that is not the most approved needs a rationale), and that the vote's count is known: a
    sealed vote waits for its trustees (awaiting_count). Locks the session row."""
    rationale = clean_text(rationale, "rationale", RATIONALE_MAX)
    lock_programme(session.programme_id)  # lock order: salon/database.py
    schedule.lock_session(session.id)
    if decision_of(session.id) is not None:
        raise Conflict(_("This session's topic has already been decided."), "session_id")
    if session.status == schedule.SessionStatus.CANCELLED:
        raise Conflict(_("This session is cancelled: its topic is not decided."), "session_id")
    poll = topic_poll(session.id)
    if poll is None:
        raise Conflict(_("Voting for this session has not happened yet."), "poll")
    if poll.state != ballots.PollState.CLOSED:
        raise Conflict(_("Voting is still open; decide after it closes."), "poll")
    if awaiting_count(poll, now):  # sealed (SPEC §5.1): the tally the pick is weighed against is not known yet
        raise Conflict(awaiting_count_text(), "poll")
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
