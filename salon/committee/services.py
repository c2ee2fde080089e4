"""The committee room (SPEC §4, §3.3): elections (standing, the approval ballot, runoff, lot), terms, and the
members' signed picks that decide a session's topic.

The ballots are the engine's (salon.ballots): an election owns its poll (and its runoff's) by foreign key.
Counts the server needs (winners, ties) come from `ballots.tally`, whatever the publication minimum; what
pages show follows SPEC §5 (`ballots.results`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from salon import clock
from salon.audit import services as audit
from salon.ballots import services as ballots
from salon.ballots.models import Poll, PollState
from salon.committee.models import Candidate, Election, ElectionState, Member, Pick, Term
from salon.committee.terms import member_seat_ids, sitting_term  # noqa: F401 - sitting_term for views
from salon.database import lock_programme
from salon.errors import Conflict, Forbidden, ValidationFailed
from salon.extensions import db
from salon.programmes import services as programmes
from salon.programmes.models import Community, Programme, Seat
from salon.rules import ballots as ballot_rules
from salon.rules import committee as rules
from salon.rules import topics as topic_rules
from salon.schedule.models import Session, SessionStatus
from salon.topics import services as topics
from salon.topics.models import Nomination

POLL_KIND = "election"
QUESTION_CODE = "elect"
RUNOFF_CODE = "elect_runoff"
STANDING_DAYS = 7  # default; the bureau can extend
VOTING_DAYS = 7
EXTEND_MAX_DAYS = 60
LABELS = {QUESTION_CODE: _l("Which candidates do you approve for the committee?"),
          RUNOFF_CODE: _l("Runoff: which of the tied candidates do you approve?")}


# --- reading ------------------------------------------------------------------------------------

def get_election(election_id, programme_id: int) -> Election:
    return programmes.get_scoped(Election, election_id, programme_id, "election_id")


def running_election(programme_id: int) -> Election | None:
    return db.session.scalar(select(Election).where(Election.programme_id == programme_id,
                                                    Election.state != ElectionState.CLOSED)
                             .order_by(Election.id.desc()).limit(1))


def elections(programme_id: int, limit: int = 20) -> list[Election]:
    return list(db.session.scalars(select(Election).where(Election.programme_id == programme_id)
                                   .order_by(Election.id.desc()).limit(limit)))


def candidates(election_id: int, accepted_only: bool = False) -> list[Candidate]:
    query = select(Candidate).where(Candidate.election_id == election_id)
    if accepted_only:
        query = query.where(Candidate.accepted_at.is_not(None))
    return list(db.session.scalars(query.order_by(Candidate.seat_id)))


def held_bureau_sessions(programme: Programme) -> int:
    return db.session.scalar(select(func.count(Session.id)).where(
        Session.programme_id == programme.id, Session.status == SessionStatus.HELD, Session.number.is_not(None),
        Session.number <= programme.bureau_sessions))


def first_election_due(programme: Programme) -> bool:
    """SPEC §4: once the bureau-decided sessions are held, the bureau opens the first election."""
    if db.session.scalar(select(func.count(Election.id)).where(Election.programme_id == programme.id)):
        return False
    return held_bureau_sessions(programme) >= programme.bureau_sessions


@dataclass
class Standing:
    """Why the bureau decides when no committee sits, for the programme's pages."""
    term: Term | None
    members: list[Member]
    election: Election | None
    last_term: Term | None

    @property
    def reason(self) -> str:
        if self.term is not None:
            return ""
        if self.last_term is not None and self.last_term.end_reason == "recalled":
            return _("The committee was recalled by the half-year review; the bureau decides until the new "
                     "committee is elected.")
        if self.election is not None:
            return _("No committee sits yet; the bureau decides until the election closes.")
        return _("No committee has been elected yet; the bureau decides.")


def standing(programme_id: int) -> Standing:
    term = sitting_term(programme_id)
    members = list(term.members) if term is not None else []
    last = None if term is not None else db.session.scalar(
        select(Term).where(Term.programme_id == programme_id).order_by(Term.id.desc()).limit(1))
    return Standing(term, members, running_election(programme_id), last)


def is_member(user, term: Term | None, seat=None) -> bool:
    """seat: the user's seat, when the caller already has it."""
    if seat is None and user.is_secretary:
        seat = programmes.seat_of(user)
    return seat is not None and seat.id in member_seat_ids(term)


# --- elections ----------------------------------------------------------------------------------

def open_election(programme: Programme, actor, now: datetime | None = None, reason: str = "first",
                  standing_days: int = STANDING_DAYS) -> Election:
    """The bureau opens an election; secretaries then stand. Not while another runs or a committee sits
    (a recall ends the term first)."""
    lock_programme(programme.id)  # step 1 of the lock order (salon/database.py)
    now = now or clock.utcnow()
    if running_election(programme.id) is not None:
        raise Conflict(_("An election is already under way."), "election")
    if sitting_term(programme.id) is not None:
        raise Conflict(_("A committee sits; an election opens when its term ends or a review recalls it."),
                       "election")
    election = Election(programme_id=programme.id, reason=reason, seats=programme.committee_size,
                        standing_until=now + timedelta(days=standing_days),
                        opened_by_id=actor.id if actor else None, created_at=now)
    db.session.add(election)
    db.session.flush()
    audit.record(programme.id, actor, "election.open", election, seats=election.seats, reason=reason)
    return election


def _check_standing(election: Election, now: datetime) -> None:
    if election.state != ElectionState.STANDING:
        raise Conflict(_("Standing for this election has closed."), "election")
    if now >= election.standing_until:
        raise Conflict(_("Standing for this election has closed; the bureau can extend it."), "election")


def nominate(election: Election, user, seat_id, now: datetime | None = None) -> Candidate:
    """A secretary nominates a community's secretary (their own seat: they stand at once)."""
    lock_programme(election.programme_id)  # step 1 of the lock order (salon/database.py)
    now = now or clock.utcnow()
    me = programmes.seat_of(user) if user.is_secretary else None
    if me is None:
        raise Forbidden(_("Only a community's secretary can nominate candidates."), "seat")
    _check_standing(election, now)
    seat = programmes.get_scoped(Seat, seat_id, election.programme_id, "seat_id")
    holding = programmes.current_holding(seat.id)
    if holding is None or not seat.community.active:
        raise ValidationFailed(_("That community has no secretary who could stand."), "seat_id")
    existing = db.session.scalar(select(Candidate).where(Candidate.election_id == election.id,
                                                         Candidate.seat_id == seat.id))
    if existing is not None:
        if seat.id == me.id and existing.accepted_at is None:
            existing.accepted_at = now
            db.session.flush()
            return existing
        raise Conflict(_("That secretary has already been nominated."), "seat_id")
    candidate = Candidate(programme_id=election.programme_id, election_id=election.id, seat_id=seat.id,
                          user_id=holding.user_id, nominated_by_id=user.id,
                          accepted_at=now if seat.id == me.id else None, created_at=now)
    db.session.add(candidate)
    db.session.flush()
    audit.record(election.programme_id, user, "election.nominate", election, seat=seat.id,
                 community=seat.community.name)
    return candidate


def accept(election: Election, user, now: datetime | None = None) -> Candidate:
    """SPEC §4: a secretary stands by accepting a nomination."""
    lock_programme(election.programme_id)  # step 1 of the lock order (salon/database.py)
    now = now or clock.utcnow()
    me = programmes.seat_of(user) if user.is_secretary else None
    if me is None:
        raise Forbidden(_("Only a community's secretary can stand."), "seat")
    _check_standing(election, now)
    candidate = db.session.scalar(select(Candidate).where(Candidate.election_id == election.id,
                                                          Candidate.seat_id == me.id))
    if candidate is None:
        raise Conflict(_("Nobody has nominated you in this election."), "seat")
    if candidate.accepted_at is None:
        candidate.accepted_at = now
        candidate.user_id = user.id
        db.session.flush()
        audit.record(election.programme_id, user, "election.stand", election, seat=me.id)
    return candidate


def extend_standing(election: Election, actor, days, now: datetime | None = None) -> Election:
    lock_programme(election.programme_id)  # step 1 of the lock order (salon/database.py)
    now = now or clock.utcnow()
    if election.state != ElectionState.STANDING:
        raise Conflict(_("Standing for this election has closed."), "election")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= EXTEND_MAX_DAYS:
        raise ValidationFailed(_("A whole number of days from 1 to %(n)d.", n=EXTEND_MAX_DAYS), "days")
    election.standing_until = max(election.standing_until, now) + timedelta(days=days)
    db.session.flush()
    audit.record(election.programme_id, actor, "election.extend", election, days=days)
    return election


def fewer_candidates_than_seats(election: Election) -> bool:
    return len(candidates(election.id, accepted_only=True)) < election.seats


def open_vote(election: Election, programme: Programme, actor, now: datetime | None = None,
              fewer_ok: bool = False) -> Poll:
    """standing → voting: an approval ballot over those who stand, up to the committee size each.
    With fewer candidates than seats the bureau is told, and opens anyway only if it says so."""
    lock_programme(programme.id)  # step 1 of the lock order (salon/database.py)
    now = now or clock.utcnow()
    if election.state != ElectionState.STANDING:
        raise Conflict(_("Voting in this election has already opened."), "election")
    standing_ = candidates(election.id, accepted_only=True)
    if not standing_:
        raise Conflict(_("Nobody stands yet: extend standing."), "candidates")
    if len(standing_) < election.seats and not fewer_ok:
        raise Conflict(_("Only %(n)d candidates stand for %(k)d seats: extend standing, or open the vote anyway.",
                         n=len(standing_), k=election.seats), "candidates")
    poll = _build_poll(election, programme, actor, now, [c.seat_id for c in standing_], election.seats,
                       QUESTION_CODE)
    election.poll_id = poll.id
    election.state = ElectionState.VOTING
    db.session.flush()
    return poll


def _build_poll(election: Election, programme: Programme, actor, now: datetime, seat_ids: list[int], k: int,
                code: str) -> Poll:
    names = {seat.id: seat for seat in db.session.scalars(select(Seat).where(Seat.id.in_(seat_ids)))}
    holders = programmes.holders_by_community(programme.id)
    poll = ballots.create_poll(programme.id, POLL_KIND, closes_at=now + timedelta(days=VOTING_DAYS), opens_at=now,
                               min_published=programme.min_ballots_published, subject_id=election.id)
    question = ballots.add_question(poll, kind=ballot_rules.APPROVAL, max_choices=k, code=code)
    for seat_id in sorted(seat_ids):
        seat = names[seat_id]
        holder = holders.get(seat.community_id)
        label = f"{seat.community.name} · {holder.display_name}" if holder else seat.community.name
        ballots.add_option(question, label, ref_id=seat_id)
    voters = db.session.scalars(select(Seat.id).join(Community, Community.id == Seat.community_id).where(
        Seat.programme_id == programme.id, Community.active.is_(True))).all()
    ballots.open_poll(poll, list(voters), actor, now)
    return poll


def current_poll(election: Election) -> Poll | None:
    return ballots.get(election.runoff_poll_id if election.state == ElectionState.RUNOFF else election.poll_id)


def close_vote(election: Election, programme: Programme, actor, now: datetime | None = None) -> Election:
    """Close the election's open ballot (the bureau, or time) and count it."""
    lock_programme(programme.id)  # step 1 of the lock order (salon/database.py)
    now = now or clock.utcnow()
    poll = current_poll(election)
    if poll is None or election.state not in (ElectionState.VOTING, ElectionState.RUNOFF):
        raise Conflict(_("This election has no open ballot."), "election")
    if poll.state == PollState.OPEN:
        ballots.close_poll(poll, actor, now)
    return count(election, programme, actor, now)


def _approvals(poll: Poll) -> dict[int, int]:
    tally = ballots.tally(poll)
    question = poll.questions[0]
    by_ref = tally.by_ref.get(question.id, {})
    return {o.ref_id: by_ref.get(o.ref_id, 0) for o in question.options}


def count(election: Election, programme: Programme, actor, now: datetime) -> Election:
    """SPEC §4: the most approved win; a tie for the last seat goes to a runoff among the tied for the
    seats left; a tied runoff is settled by lot seeded from the runoff's published receipts."""
    lock_programme(programme.id)  # step 1 of the lock order (salon/database.py)
    first = rules.election_tally(_approvals(ballots.get(election.poll_id)), election.seats)
    if election.state == ElectionState.VOTING:
        if first.settled:
            return _seat(election, programme, actor, list(first.winners), now)
        runoff = _build_poll(election, programme, actor, now, list(first.tied), first.remaining, RUNOFF_CODE)
        election.runoff_poll_id = runoff.id
        election.runoff_seats = first.remaining
        election.state = ElectionState.RUNOFF
        db.session.flush()
        audit.record(programme.id, actor, "election.runoff", election, tied=len(first.tied), seats=first.remaining)
        return election
    runoff_poll = ballots.get(election.runoff_poll_id)
    second = rules.election_tally(_approvals(runoff_poll), election.runoff_seats)
    winners = list(first.winners) + list(second.winners)
    if not second.settled:
        seed = rules.lot_seed(ballots.receipts(runoff_poll))
        drawn = rules.draw_lots(list(second.tied), second.remaining, seed)
        election.lot_seed = seed
        election.lot_candidates = ",".join(str(s) for s in sorted(second.tied))
        winners += list(drawn)
    return _seat(election, programme, actor, winners, now)


def _seat(election: Election, programme: Programme, actor, seat_ids: list[int], now: datetime) -> Election:
    """The winners' term starts when the election closes (SPEC §4)."""
    lock_programme(programme.id)  # step 1 of the lock order (salon/database.py)
    election.state = ElectionState.CLOSED
    election.closed_at = now
    term = Term(programme_id=programme.id, election_id=election.id, started_at=now)
    db.session.add(term)
    db.session.flush()
    for seat_id in sorted(seat_ids):
        holding = programmes.current_holding(seat_id)
        db.session.add(Member(term_id=term.id, seat_id=seat_id, programme_id=programme.id,
                              user_id=holding.user_id if holding else None))
    db.session.flush()
    audit.record(programme.id, actor, "election.close", election, seated=len(seat_ids),
                 lot=election.lot_seed is not None)
    return election


def end_term(term: Term, reason: str, actor, now: datetime) -> Term:
    lock_programme(term.programme_id)  # step 1 of the lock order (salon/database.py)
    if term.ended_at is not None:
        raise Conflict(_("This committee's term has already ended."), "term")
    term.ended_at = now
    term.end_reason = reason
    db.session.flush()
    audit.record(term.programme_id, actor, "committee.end", term, reason=reason)
    return term


def advance(programme: Programme, now: datetime | None = None) -> list[str]:
    """Close election ballots whose window has ended and count them (lazily and by `salon tick`)."""
    now = now or clock.utcnow()
    ballots.close_due(now, programme.id)
    said = []
    for election in db.session.scalars(select(Election).where(
            Election.programme_id == programme.id,
            Election.state.in_([ElectionState.VOTING, ElectionState.RUNOFF]))).all():
        said += count_if_closed(election, programme, now)
    return said


def count_if_closed(election: Election | None, programme: Programme, now: datetime) -> list[str]:
    """advance() for one election (the running one, on the home page), its due polls already closed."""
    if election is None or election.state not in (ElectionState.VOTING, ElectionState.RUNOFF):
        return []
    poll = current_poll(election)
    if poll is not None and poll.state == PollState.CLOSED:
        count(election, programme, None, now)
        return [_("Committee election counted.")]
    return []


def tick(now: datetime) -> list[str]:
    from flask import current_app

    with current_app.test_request_context():
        said = []
        for programme in db.session.scalars(select(Programme).order_by(Programme.id)).all():
            said.extend(f"{programme.name}: {line}" for line in advance(programme, now))
        return said


def poll_title(poll: Poll) -> str:
    return _("Committee election")


# --- the result page ----------------------------------------------------------------------------

@dataclass
class ElectionView:
    election: Election
    candidates: list[Candidate]
    poll: Poll | None
    runoff: Poll | None
    results: ballots.Results | None
    runoff_results: ballots.Results | None
    receipts: list[str]
    runoff_receipts: list[str]
    term: Term | None
    my_seat_id: int | None
    i_stand: bool
    nominated_me: bool
    voted: bool
    eligible: bool
    lot_seats: int = 0  # how many seats the lot drew: the runoff's seats less those it settled outright

    @property
    def lot_candidates(self) -> list[int]:
        return [int(x) for x in self.election.lot_candidates.split(",") if x]


def election_view(election: Election, user, now: datetime | None = None) -> ElectionView:
    advance(user.programme, now)
    seat = programmes.seat_of(user) if user.is_secretary else None
    seat_id = seat.id if seat else None
    poll, runoff = ballots.get(election.poll_id), ballots.get(election.runoff_poll_id)
    current = runoff or poll
    mine = [c for c in candidates(election.id) if c.seat_id == seat_id]
    term = db.session.scalar(select(Term).where(Term.election_id == election.id))
    lot_seats = 0
    if election.lot_seed and runoff is not None:
        # A runoff may settle some of its seats and tie on the rest: only those are drawn.
        lot_seats = rules.election_tally(_approvals(runoff), election.runoff_seats).remaining
    return ElectionView(
        election, candidates(election.id), poll, runoff,
        ballots.results(poll) if poll else None, ballots.results(runoff) if runoff else None,
        ballots.receipts(poll) if poll else [], ballots.receipts(runoff) if runoff else [], term, seat_id,
        bool(mine and mine[0].accepted_at), bool(mine and mine[0].accepted_at is None),
        current is not None and ballots.has_voted(current.id, seat_id),
        current is not None and ballots.is_eligible(current.id, seat_id), lot_seats)


# --- committee decisions (SPEC §3.3) ------------------------------------------------------------

def picks(session_id: int) -> list[Pick]:
    return list(db.session.scalars(select(Pick).where(Pick.session_id == session_id).order_by(Pick.id)))


def record_pick(session: Session, user, nomination_id, rationale, now: datetime | None = None) -> Pick:
    """A member's pick, signed by name. The first nomination picked by a majority of the committee decides
    the topic; a pick that is not the most approved needs a rationale, as a bureau decision does."""
    lock_programme(session.programme_id)  # step 1 of the lock order (salon/database.py)
    now = now or clock.utcnow()
    programme = user.programme
    if topics.decider_for(session, programme) != topic_rules.COMMITTEE:
        raise Forbidden(_("The bureau decides this session's topic."), "decider")
    term = sitting_term(programme.id)
    seat = programmes.seat_of(user) if user.is_secretary else None
    members = member_seat_ids(term)
    if seat is None or seat.id not in members:
        raise Forbidden(_("Only members of the sitting committee record picks."), "decider")
    nomination, rationale, counts, needed = topics.prepare_decision(session, nomination_id, rationale)
    pick = Pick(programme_id=programme.id, session_id=session.id, term_id=term.id, seat_id=seat.id, user_id=user.id,
                nomination_id=nomination.id, rationale=rationale, picked_at=now)
    db.session.add(pick)
    db.session.flush()
    audit.record(programme.id, user, "committee.pick", session, session=session.number, nomination=nomination.id)
    recorded = [p for p in picks(session.id) if p.term_id == term.id]
    chosen = topic_rules.committee_pick([(p.seat_id, p.nomination_id) for p in recorded], len(members))
    if chosen is not None:
        latest = {p.seat_id: p for p in recorded}
        reasons = [f"{p.user.display_name}：{p.rationale}" for p in latest.values()
                   if p.nomination_id == chosen and p.rationale]
        chosen_nomination = db.session.get(Nomination, chosen)
        topics.record_decision(session, chosen_nomination, topic_rules.COMMITTEE, user, "\n".join(reasons),
                               counts is not None and not topic_rules.rationale_required(chosen, counts), now)
    return pick


def export_rows(view: ElectionView) -> list[list]:
    """The election for the bureau's records: approvals only where SPEC §5 lets them be published."""
    rows = [[_("Committee election"), view.election.id], [_("Seats"), view.election.seats]]
    for label, poll, result in ((_("Ballot"), view.poll, view.results), (_("Runoff"), view.runoff,
                                                                          view.runoff_results)):
        if poll is None:
            continue
        rows += [[], [label, _("Turnout"), result.turnout]]
        for option in poll.questions[0].options:
            rows.append([option.label, result.counts.get(option.id, 0) if result.published else _("withheld")])
    if view.election.lot_seed:
        rows += [[], [_("Drawn by lot"), view.election.lot_seed],
                 [_("Drawn among"), ", ".join(str(s) for s in view.lot_candidates)],
                 [_("Seats drawn"), view.lot_seats]]
    rows += [[], [_("Elected")]] + ([[m.seat.community.name, m.user.display_name if m.user else ""]
                                     for m in view.term.members] if view.term else [])
    return rows
