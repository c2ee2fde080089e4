"""The committee room (SPEC §4, §3.3): elections (standing, the approval ballot, runoff, lot), terms, and the
members' signed picks that decide a session's topic.

The ballots are the engine's (salon.ballots): an election owns its poll (and its runoff's) by foreign key.
Counts the server needs (winners, ties) come from `ballots.tally`, whatever the publication minimum; what
pages show follows SPEC §5 (`ballots.results`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select

from salon import clock, exports, paging
from salon.audit import services as audit
from salon.ballots import services as ballots
from salon.committee.models import Candidate, Election, ElectionState, Member, Pick, Term
from salon.committee.terms import last_term, member_seat_ids, sitting_members, sitting_term  # noqa: F401 - views
from salon.database import lock_programme
from salon.errors import Conflict, Forbidden, ValidationFailed, clean_text
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules import ballots as ballot_rules
from salon.rules import committee as rules
from salon.rules import topics as topic_rules
from salon.schedule import services as schedule
from salon.topics import services as topics

if TYPE_CHECKING:
    from salon.ballots.models import Poll
    from salon.programmes.models import Community, Programme
    from salon.schedule.models import Session

POLL_KIND = "election"
QUESTION_CODE = "elect"
RUNOFF_CODE = "elect_runoff"
STANDING_DAYS = 7  # default; the bureau can extend
NOTE_MAX = 500  # the bureau's reason for an early election: the form, the API schema and open_election read it
REASONS = ("first", "recall", "term_end", "early", "by_election")
VOTING_DAYS = 7
EXTEND_MAX_DAYS = 60
LABELS = {QUESTION_CODE: _l("Which candidates do you approve for the committee?"),
          RUNOFF_CODE: _l("Runoff: which of the tied candidates do you approve?")}


# --- reading ------------------------------------------------------------------------------------

def get_election(election_id, programme_id: int) -> Election:
    return programmes.get_scoped(Election, election_id, programme_id, "election_id")


def get_term(term_id: int) -> Term | None:
    return db.session.get(Term, term_id)


def first_term_start(programme_id: int) -> datetime | None:
    """When the programme's first committee started its service (None: no committee ever sat)."""
    return db.session.scalar(select(func.min(Term.started_at)).where(Term.programme_id == programme_id))


def term_seated_by(election_id: int) -> Term | None:
    """The term an election seated, if it seated one."""
    return db.session.scalar(select(Term).where(Term.election_id == election_id))


def running_election(programme_id: int) -> Election | None:
    return db.session.scalar(select(Election).where(Election.programme_id == programme_id,
                                                    Election.state != ElectionState.CLOSED)
                             .order_by(Election.id.desc()).limit(1))


def elections(programme_id: int, limit: int = 20) -> list[Election]:
    return list(db.session.scalars(select(Election).where(Election.programme_id == programme_id)
                                   .order_by(Election.id.desc()).limit(limit)))


def election_page(programme_id: int, cursor=None, limit: int = 20) -> tuple[list[Election], Election | None]:
    """One page of the programme's elections, newest first, by keyset (cursor: the id of the last election of
    the previous page). Returns the page and the cursor for the next one (None on the last)."""
    return paging.newest_first(Election, programme_id, cursor, limit,
                               _("This cursor does not belong to any page of elections."))


def candidates(election_id: int, accepted_only: bool = False) -> list[Candidate]:
    query = select(Candidate).where(Candidate.election_id == election_id)
    if accepted_only:
        query = query.where(Candidate.accepted_at.is_not(None))
    return list(db.session.scalars(query.order_by(Candidate.seat_id)))


def held_bureau_sessions(programme: Programme) -> int:
    return schedule.held_numbered_upto(programme.id, programme.bureau_sessions)


def first_election_due(programme: Programme) -> bool:
    """SPEC §4: once the bureau-decided sessions are held, the bureau opens the first election."""
    if db.session.scalar(select(func.count(Election.id)).where(Election.programme_id == programme.id)):
        return False
    return held_bureau_sessions(programme) >= programme.bureau_sessions


@dataclass
class Standing:
    """Who sits on the committee and why the bureau decides when it cannot, for the programme's pages."""
    term: Term | None
    members: list[Member]  # those sitting now (SPEC §4.1: personal membership)
    election: Election | None
    last_term: Term | None
    history: list[Member] = field(default_factory=list)  # every place of the term, who left, who moved up
    electing: Election | None = None  # the election that seated the term (its reason and note)

    @property
    def can_decide(self) -> bool:
        return self.term is not None and len(self.members) >= topic_rules.MIN_SITTING

    @property
    def reason(self) -> str:
        if self.term is not None:
            if not self.can_decide:
                return _("Fewer than 2 members of the committee sit: the bureau decides until a by-election "
                         "fills the places.")
            return ""
        if self.last_term is not None and self.last_term.end_reason == "recalled":
            return _("The committee was recalled by the half-year review; the bureau decides until the new "
                     "committee is elected.")
        if self.election is not None:
            return _("No committee sits yet; the bureau decides until the election closes.")
        return _("No committee has been elected yet; the bureau decides.")


def standing(programme_id: int) -> Standing:
    term = sitting_term(programme_id)
    members = sitting_members(term)
    last = None if term is not None else last_term(programme_id)
    shown = term or last
    electing = db.session.get(Election, shown.election_id) if shown is not None and shown.election_id else None
    return Standing(term, members, running_election(programme_id), last,
                    list(shown.members) if shown is not None else [], electing)


def is_member(user, term: Term | None, members: list | None = None) -> bool:
    """Whether the user sits on the term's committee now (the person, not the seat: SPEC §4.1). members: the
    term's sitting members, when the caller has already read them."""
    if members is None:
        members = sitting_members(term)
    return term is not None and any(m.user_id == user.id for m in members)


# --- elections ----------------------------------------------------------------------------------

def election_openable(programme: Programme, now: datetime) -> list[str]:
    """The reasons an election may be opened for now (SPEC §4, §4.1): the first or after a recall while no
    committee sits; while one sits, the next election from a month before a fixed term ends, an early election
    (with the bureau's reason) at any time, and a by-election while places are vacant."""
    if running_election(programme.id) is not None:
        return []
    term = sitting_term(programme.id)
    if term is None:
        last = last_term(programme.id)
        return ["recall" if last is not None and last.end_reason == "recalled" else "first"]
    reasons = ["early"]
    if rules.next_election_prompted(term.ends_at, now):
        reasons.insert(0, "term_end")
    if len(sitting_members(term)) < programme.committee_size:
        reasons.insert(0, "by_election")
    return reasons


def open_election(programme: Programme, actor, now: datetime | None = None, reason: str | None = None,
                  standing_days: int = STANDING_DAYS, note: str = "") -> Election:
    """The bureau opens an election; secretaries then stand. Not while another runs; while a committee sits
    only as `election_openable` allows: its successor, an early election with a reason, or a by-election that
    fills the vacant places for the rest of the term."""
    lock_programme(programme.id)  # step 1 of the lock order (salon/database.py)
    now = now or clock.utcnow()
    note = clean_text(note, "note", NOTE_MAX, allow_none=False)
    if running_election(programme.id) is not None:
        raise Conflict(_("An election is already under way."), "election")
    allowed = election_openable(programme, now)
    term = sitting_term(programme.id)
    if reason is None or term is None and reason in ("first", "recall"):
        reason = allowed[0]
    if reason not in REASONS:
        raise ValidationFailed(_("Unknown reason for an election."), "reason")
    if reason not in allowed:
        if term is None:
            raise Conflict(_("No committee sits: open its election."), "reason")
        if reason == "term_end":
            raise Conflict(_("The next election opens from a month before the term ends; an early election "
                             "needs a reason."), "reason")
        if reason == "by_election":
            raise Conflict(_("No place on the committee is vacant."), "reason")
        raise Conflict(_("A committee sits; an election opens when its term ends or a review recalls it."),
                       "election")
    if reason == "early" and not note:
        raise ValidationFailed(_("Say why the election is called early: it is shown on the committee page."),
                               "note")
    seats = programme.committee_size
    if reason == "by_election":
        seats = programme.committee_size - len(sitting_members(term))
    election = Election(programme_id=programme.id, reason=reason, seats=seats, note=note,
                        term_id=term.id if reason == "by_election" else None,
                        standing_until=now + timedelta(days=standing_days),
                        opened_by_id=actor.id if actor else None, created_at=now)
    db.session.add(election)
    db.session.flush()
    audit.record(programme.id, actor, "election.open", election, seats=election.seats, reason=reason,
                 **({"note": note} if note else {}))
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
    seat = programmes.get_seat(seat_id, election.programme_id)
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


def fewer_candidates_alarm(election: Election, now: datetime) -> bool:
    """Fewer stand than there are seats and standing is about to close: time for the bureau to act."""
    return rules.fewer_candidates_alarm(len(candidates(election.id, accepted_only=True)), election.seats,
                                        election.standing_until, now)


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
    names = programmes.seats_by_id(seat_ids)
    holders = programmes.holders_by_community(programme.id)
    poll = ballots.create_poll(programme.id, POLL_KIND, closes_at=now + timedelta(days=VOTING_DAYS), opens_at=now,
                               min_published=programme.min_ballots_published, subject_id=election.id)
    question = ballots.add_question(poll, kind=ballot_rules.APPROVAL, max_choices=k, code=code)
    for seat_id in sorted(seat_ids):
        seat = names[seat_id]
        holder = holders.get(seat.community_id)
        label = f"{seat.community.name} · {holder.display_name}" if holder else seat.community.name
        ballots.add_option(question, label, ref_id=seat_id)
    ballots.open_poll(poll, programmes.active_seats(programme.id), actor, now)
    return poll


def current_poll(election: Election) -> Poll | None:
    return ballots.get(election.runoff_poll_id if election.state == ElectionState.RUNOFF else election.poll_id)


def close_vote(election: Election, programme: Programme, actor, now: datetime | None = None) -> Election:
    """Close the election's open ballot (the bureau); the close counts it (`poll_closed`)."""
    lock_programme(programme.id)  # step 1 of the lock order (salon/database.py)
    now = now or clock.utcnow()
    poll = current_poll(election)
    if poll is None or election.state not in (ElectionState.VOTING, ElectionState.RUNOFF):
        raise Conflict(_("This election has no open ballot."), "election")
    if poll.state == ballots.PollState.OPEN:
        ballots.close_poll(poll, actor, now)
    else:  # closed before the close counted (data from before 0009_committee_life)
        count(election, programme, actor, now)
    return election


def poll_closed(poll: Poll, actor=None, now: datetime | None = None) -> None:
    """SPEC §4.1: an election is counted and its committee seated in the close of its poll, whichever path
    closed it (a request, the pages closing due polls, `tick`); the term starts at the close. Connected to
    salon.ballots.signals.poll_closed by the room's init_app."""
    if poll.kind != POLL_KIND:
        return
    election = db.session.scalar(select(Election).where(
        (Election.poll_id == poll.id) | (Election.runoff_poll_id == poll.id)))
    if election is None or election.state not in (ElectionState.VOTING, ElectionState.RUNOFF):
        return
    current = current_poll(election)
    if current is None or current.id != poll.id:
        return
    count(election, programmes.get_programme(election.programme_id), actor, now or poll.closed_at)


def _approvals(poll: Poll) -> dict[int, int]:
    tally = ballots.tally(poll)
    question = poll.questions[0]
    by_ref = tally.by_ref.get(question.id, {})
    return {o.ref_id: by_ref.get(o.ref_id, 0) for o in question.options}


def public_ids(seat_ids: list[int]) -> dict[int, str]:
    """A candidate's public id (SPEC §4.1 lot): their community's name, as the result page shows it."""
    return programmes.community_names_of_seats(seat_ids)


def count(election: Election, programme: Programme, actor, now: datetime) -> Election:
    """SPEC §4: the most approved win; a tie for the last seat goes to a runoff among the tied for the
    seats left; a tied runoff is settled by the SHA-256 lot (SPEC §4.1, salon.rules.committee)."""
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
        seed = rules.lot_seed(ballots.receipts(runoff_poll), election.id, runoff_poll.closed_at)
        names = public_ids(list(second.tied))
        entries = [(seat_id, names[seat_id]) for seat_id in sorted(second.tied)]
        drawn = rules.draw_lots(entries, second.remaining, seed)
        election.lot_seed = seed
        election.lot_candidates = ",".join(str(s) for s in sorted(second.tied))
        election.lot_entries = [[seat_id, public_id] for seat_id, public_id in entries]
        winners += list(drawn)
    return _seat(election, programme, actor, winners, now)


def _seat(election: Election, programme: Programme, actor, seat_ids: list[int], now: datetime) -> Election:
    """The winners' term starts when the election closes (SPEC §4). A successor's start ends the sitting term
    as completed at the same moment, so no day passes without a decider (SPEC §4.1); a by-election's winners
    join the term it was held for, for the rest of that term."""
    lock_programme(programme.id)  # step 1 of the lock order (salon/database.py)
    election.state = ElectionState.CLOSED
    election.closed_at = now
    sitting = sitting_term(programme.id)
    if election.reason == "by_election" and sitting is not None and sitting.id == election.term_id:
        term, how = sitting, "by_election"
    else:
        if sitting is not None:
            end_term(sitting, "completed", actor, now)
        term = Term(programme_id=programme.id, election_id=election.id, started_at=now,
                    ends_at=rules.fixed_term_end(now, programme.committee_term_months))
        db.session.add(term)
        db.session.flush()
        how = "elected"
    for seat_id in sorted(seat_ids):
        holding = programmes.current_holding(seat_id)
        db.session.add(Member(term_id=term.id, seat_id=seat_id, programme_id=programme.id,
                              user_id=holding.user_id if holding else None, joined_at=now, joined_how=how))
    db.session.flush()
    db.session.expire(term, ["members"])
    audit.record(programme.id, actor, "election.close", election, seated=len(seat_ids),
                 lot=election.lot_seed is not None, reason=election.reason)
    return election


# --- vacancies (SPEC §4.1) ----------------------------------------------------------------------

def succession_seed(election: Election) -> str:
    """The seed that settles a tie between runners-up: the election's published lot seed, or (no lot drawn)
    the same construction over its ballot's receipts and close."""
    if election.lot_seed:
        return election.lot_seed
    poll = ballots.get(election.poll_id)
    return rules.lot_seed(ballots.receipts(poll), election.id, poll.closed_at or election.closed_at)


def next_in_line(term: Term) -> Candidate | None:
    """The next most-approved candidate of the election that seated the term who still holds their seat and
    has not sat on this term (SPEC §4.1); None when nobody is left."""
    election = db.session.get(Election, term.election_id) if term.election_id else None
    if election is None or election.poll_id is None:
        return None
    first = _approvals(ballots.get(election.poll_id))
    second = _approvals(ballots.get(election.runoff_poll_id)) if election.runoff_poll_id else {}
    stood = {c.seat_id: c for c in candidates(election.id, accepted_only=True)}
    names = dict(public_ids(list(stood)))
    names.update({int(seat_id): public_id for seat_id, public_id in (election.lot_entries or [])})
    order = rules.succession([rules.Standing(seat_id, names.get(seat_id, str(seat_id)), first.get(seat_id, 0),
                                             second.get(seat_id, 0)) for seat_id in stood], succession_seed(election))
    sat = {(m.seat_id, m.user_id) for m in term.members} | {(None, m.user_id) for m in term.members}
    for seat_id in order:
        candidate = stood[seat_id]
        holding = programmes.current_holding(seat_id)
        if (seat_id, candidate.user_id) in sat or (None, candidate.user_id) in sat:
            continue
        if holding is None or holding.user_id != candidate.user_id or not candidate.seat.community.active:
            continue
        return candidate
    return None


_UNREAD = object()


def _vacated(term: Term) -> bool:
    """Whether a member's place fell vacant and is not yet recorded, in one statement (the home page asks)."""
    held = programmes.sitting_holdings()
    sits = (select(Member.id).join(held, (held.c.seat_id == Member.seat_id) & (held.c.user_id == Member.user_id))
            .where(Member.term_id == term.id, Member.left_at.is_(None)))
    return bool(db.session.scalar(select(exists().where(
        Member.term_id == term.id, Member.left_at.is_(None), Member.user_id.is_not(None), Member.id.not_in(sits)))))


def reconcile(programme_id: int, actor=None, now: datetime | None = None, term=_UNREAD) -> list[str]:
    """Record the places that fell vacant (a hand-over of the member's seat, their community leaving) and fill
    each with the next in line, audited (SPEC §4.1). Run when a seat changes hands or a community leaves
    (the programme room's signals), and lazily by `advance` and the home page (term: the sitting term, when the
    caller has read it)."""
    now = now or clock.utcnow()
    if term is _UNREAD:
        term = sitting_term(programme_id)
    if term is None or not _vacated(term):
        return []
    lock_programme(programme_id)  # step 1 of the lock order (salon/database.py)
    sitting = {m.id for m in sitting_members(term)}
    said = []
    for member in list(term.members):
        if member.left_at is not None or member.user_id is None or member.id in sitting:
            continue
        member.left_at = now
        member.left_reason = "handover" if member.seat.community.active else "community_left"
        db.session.flush()
        audit.record(programme_id, actor, "committee.vacancy", term, community=member.seat.community.name,
                     member=member.user.display_name if member.user else "", reason=member.left_reason)
        said.append(_("A place on the committee fell vacant: %(who)s.", who=member.seat.community.name))
        successor = next_in_line(term)
        if successor is None:
            continue
        db.session.add(Member(term_id=term.id, seat_id=successor.seat_id, programme_id=programme_id,
                              user_id=successor.user_id, joined_at=now, joined_how="moved_up",
                              replaces_id=member.id))
        db.session.flush()
        db.session.expire(term, ["members"])
        audit.record(programme_id, actor, "committee.move_up", term, community=successor.seat.community.name,
                     member=successor.user.display_name if successor.user else "",
                     replaces=member.seat.community.name)
        said.append(_("%(who)s moved up onto the committee.", who=successor.seat.community.name))
    return said


def seat_changed(community: Community, actor=None, now: datetime | None = None) -> None:
    """Receiver of the programme room's seat_handed_over and community_left signals."""
    reconcile(community.programme_id, actor, now)


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
    """Close election ballots whose window has ended (the close counts them), record vacancies (lazily and by
    `salon tick`)."""
    now = now or clock.utcnow()
    ballots.close_due(now, programme.id)
    said = []
    for election in db.session.scalars(select(Election).where(
            Election.programme_id == programme.id,
            Election.state.in_([ElectionState.VOTING, ElectionState.RUNOFF]))).all():
        said += count_if_closed(election, programme, now)
    said.extend(reconcile(programme.id, None, now))
    return said


def count_if_closed(election: Election | None, programme: Programme, now: datetime) -> list[str]:
    """advance() for one election (the running one, on the home page), its due polls already closed."""
    if election is None or election.state not in (ElectionState.VOTING, ElectionState.RUNOFF):
        return []
    poll = current_poll(election)
    if poll is not None and poll.state == ballots.PollState.CLOSED:  # closed before 0009_committee_life
        count(election, programme, None, poll.closed_at or now)
        return [_("Committee election counted.")]
    return []


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
    seated: list[Member] = field(default_factory=list)  # the members this election seated

    @property
    def lot_candidates(self) -> list[int]:
        return [int(x) for x in self.election.lot_candidates.split(",") if x]

    @property
    def lot_seed_text(self) -> str:
        """What the lot's seed hashes (SPEC §4.1), for elections drawn by the SHA-256 lot."""
        if not self.election.lot_entries or self.runoff is None or self.runoff.closed_at is None:
            return ""
        return rules.lot_seed_text(self.runoff_receipts, self.election.id, self.runoff.closed_at)

    @property
    def lot_rows(self) -> list[LotRow]:
        """Each tied candidate's public id and digest, lowest first, with the shell line that recomputes it."""
        if not self.election.lot_seed or not self.election.lot_entries:
            return []
        entries = [(int(seat_id), public_id) for seat_id, public_id in self.election.lot_entries]
        order = rules.lot_order(entries, self.election.lot_seed)
        return [LotRow(seat_id, public_id, digest, index < self.lot_seats,
                       shell_line(f"{self.election.lot_seed}:{public_id}"))
                for index, (seat_id, public_id, digest) in enumerate(order)]


@dataclass(frozen=True)
class LotRow:
    seat_id: int
    public_id: str
    digest: str
    drawn: bool
    command: str


def shell_line(text: str) -> str:
    """A POSIX shell line printing text's SHA-256: printf '%s' 'TEXT' | sha256sum (single quotes escaped)."""
    quoted = "'" + text.replace("'", "'\\''") + "'"
    return f"printf '%s' {quoted} | sha256sum"


def election_view(election: Election, user, now: datetime | None = None) -> ElectionView:
    advance(user.programme, now)
    seat = programmes.seat_of(user) if user.is_secretary else None
    seat_id = seat.id if seat else None
    poll, runoff = ballots.get(election.poll_id), ballots.get(election.runoff_poll_id)
    current = runoff or poll
    mine = [c for c in candidates(election.id) if c.seat_id == seat_id]
    term = db.session.scalar(select(Term).where(Term.election_id == election.id))
    seated = [m for m in term.members if m.joined_how == "elected"] if term is not None else []
    if term is None and election.reason == "by_election" and election.closed_at is not None and election.term_id:
        seated = list(db.session.scalars(select(Member).where(
            Member.term_id == election.term_id, Member.joined_how == "by_election",
            Member.joined_at == election.closed_at).order_by(Member.id)))
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
        current is not None and ballots.is_eligible(current.id, seat_id), lot_seats,
        seated)


# --- committee decisions (SPEC §3.3) ------------------------------------------------------------

def picks(session_id: int) -> list[Pick]:
    return list(db.session.scalars(select(Pick).where(Pick.session_id == session_id).order_by(Pick.id)))


def record_pick(session: Session, user, nomination_id, rationale, now: datetime | None = None) -> Pick:
    """A member's pick, signed by name. The first nomination picked by more than half of the members sitting
    that day decides the topic (SPEC §4.1); a pick that is not the most approved needs a rationale, as a bureau
    decision does. After the deadline, or with fewer than 2 sitting, the bureau decides instead."""
    lock_programme(session.programme_id)  # step 1 of the lock order (salon/database.py)
    now = now or clock.utcnow()
    programme = user.programme
    who = topics.decider_of(session, programme, now)
    if who.who != topic_rules.COMMITTEE:
        raise Forbidden(decider_reason_text(who.reason, programme), "decider")
    term = sitting_term(programme.id)
    members = sitting_members(term)
    me = next((m for m in members if m.user_id == user.id), None)
    if me is None:
        raise Forbidden(_("Only members of the sitting committee record picks."), "decider")
    nomination, rationale, counts, needed = topics.prepare_decision(session, nomination_id, rationale)
    pick = Pick(programme_id=programme.id, session_id=session.id, term_id=term.id, seat_id=me.seat_id,
                user_id=user.id, nomination_id=nomination.id, rationale=rationale, picked_at=now)
    db.session.add(pick)
    db.session.flush()
    audit.record(programme.id, user, "committee.pick", session, session=session.number, nomination=nomination.id)
    sitting = {(m.seat_id, m.user_id) for m in members}
    recorded = [p for p in picks(session.id) if p.term_id == term.id and (p.seat_id, p.user_id) in sitting]
    chosen = topic_rules.committee_pick([(f"{p.seat_id}:{p.user_id}", p.nomination_id) for p in recorded],
                                        len(members))
    if chosen is not None:
        latest = {(p.seat_id, p.user_id): p for p in recorded}
        reasons = [f"{p.user.display_name}：{p.rationale}" for p in latest.values()
                   if p.nomination_id == chosen and p.rationale]
        chosen_nomination = topics.nomination_by_id(chosen)
        topics.record_decision(session, chosen_nomination, topic_rules.COMMITTEE, user, "\n".join(reasons),
                               counts is not None and not topic_rules.rationale_required(chosen, counts), now,
                               reason=topic_rules.MAJORITY, term_id=term.id)
    return pick


def decision_picks(decision) -> list[Pick]:
    """The members' picks behind a committee decision: each sitting member's latest pick of that term, in the
    order recorded (SPEC §3.3: signed by name; the decision is the committee's, not one member's)."""
    if decision is None or decision.term_id is None:
        return []
    latest: dict[tuple[int, int], Pick] = {}
    for p in picks(decision.session_id):
        if p.term_id == decision.term_id and p.picked_at <= decision.decided_at:
            latest[(p.seat_id, p.user_id)] = p
    return sorted(latest.values(), key=lambda p: p.id)


@dataclass(frozen=True)
class PickLine:
    community: str
    member: str
    title: str
    rationale: str
    with_decision: bool  # picked the decided nomination


@dataclass(frozen=True)
class DecisionShown:
    """A decision as every place shows it — the session page, the packet (page and PDF), the API: who decided
    (the committee as a whole, with each member's signed pick; or the bureau and why) and what it says about
    the tally (SPEC §3.3, §3.5, §4.1)."""
    decider: str
    by: str
    reason: str
    reason_text: str
    picks: list[PickLine]
    tally_note: str  # salon.rules.topics.tally_note


def shown_decision(decision, counts_published: bool) -> DecisionShown:
    programme = programmes.get_programme(decision.programme_id)
    lines = [PickLine(p.seat.community.name if p.seat else "", p.user.display_name, p.nomination.title, p.rationale,
                      p.nomination_id == decision.nomination_id) for p in decision_picks(decision)]
    if decision.decider == topic_rules.COMMITTEE:
        by = _("Decided by the topic-selection committee")
        reason_text = ""
    else:
        by = decision.decided_by.display_name if decision.decided_by else _("the bureau")
        reason_text = decider_reason_text(decision.reason, programme) if decision.reason else ""
    return DecisionShown(decision.decider, by, decision.reason, reason_text, lines,
                         topic_rules.tally_note(decision.followed_tally, counts_published))


def decider_reason_text(reason: str, programme: Programme) -> str:
    """Why the bureau (or the committee) decides, in words (SPEC §4.1)."""
    return {
        topic_rules.MAJORITY: _("Decided by the topic-selection committee"),
        topic_rules.BUREAU_SESSIONS: _("The bureau decides the topics of the programme's first %(n)d sessions.",
                                       n=programme.bureau_sessions),
        topic_rules.NO_COMMITTEE: _("No committee sits; the bureau decides."),
        topic_rules.RECALL: _("The committee was recalled by the half-year review; the bureau decides until the "
                              "new committee is elected."),
        topic_rules.VACANCY: _("Fewer than 2 members of the committee sit: the bureau decides until a "
                               "by-election fills the places."),
        topic_rules.DEADLINE: _("The committee did not decide within the deadline."),
    }.get(reason, "")


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
    rows += [[], [_("Elected")]] + [[m.seat.community.name, m.user.display_name if m.user else ""]
                                    for m in view.seated]
    return rows


def export_heading(election: Election, programme: Programme) -> list[list]:
    """The export's first lines: the programme, the election, the day it closed, from its opening to its close."""
    return exports.heading(programme.name, _("Committee election"), election.closed_at or election.created_at,
                           election.created_at, election.closed_at)
