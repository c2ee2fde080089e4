"""An election, step by step (SPEC §4, §4.1): when one may be opened and the bureau opening it, secretaries
nominated and standing, standing extended, the approval ballot opened and closed, the count in its poll's close
(`poll_counted`: the most approved win, a tie goes to a runoff, a tied runoff to the SHA-256 lot) and the
winners seated; a term's end (a successor seated, a review's recall); the election poll's title.

The ballots are the engine's (salon.ballots): an election owns its poll (and its runoff's) by foreign key.
Counts the server needs (winners, ties) come from `ballots.tally`, whatever the publication minimum."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from salon import clock
from salon.audit import services as audit
from salon.ballots import services as ballots
from salon.committee.models import Candidate, Election, ElectionState, Member, Term
from salon.committee import signals
from salon.committee.terms import last_term, sitting_members, sitting_term
from salon.database import lock_programme
from salon.errors import Conflict, Forbidden, ValidationFailed, clean_text
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules import ballots as ballot_rules
from salon.rules import committee as rules

from .reading import candidates, running_election

if TYPE_CHECKING:
    from salon.ballots.models import Poll
    from salon.programmes.models import Programme


POLL_KIND = "election"
QUESTION_CODE = "elect"
RUNOFF_CODE = "elect_runoff"
STANDING_DAYS = 7  # default; the bureau can extend
NOTE_MAX = 500  # the bureau's reason for an early election: the form, the API schema and open_election read it
REASONS = ("first", "recall", "term_end", "early", "by_election")
VOTING_DAYS = 7
EXTEND_MAX_DAYS = 60
# SPEC §5: below the publication minimum an election's counts are withheld but who won is published, and naming
# the winners (and a tie for the last seat) needs each candidate's count: a sealed election's approval question is
# decrypted whatever the turnout (salon.rules.ballots.left_out_below_minimum), and none of its counts is published
# (the pages show none; the bulletin board marks them withheld, their decryption factors left off).
DECRYPTED_BELOW_MINIMUM = ((QUESTION_CODE, ballot_rules.EVERY_OPTION), (RUNOFF_CODE, ballot_rules.EVERY_OPTION))
LABELS = {QUESTION_CODE: _l("Which candidates do you approve for the committee?"),
          RUNOFF_CODE: _l("Runoff: which of the tied candidates do you approve?")}


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
    key = ballots.require_key(programme.id, POLL_KIND, now)  # before anything is written (SPEC §5.1)
    poll = _build_poll(election, programme, actor, now, [c.seat_id for c in standing_], election.seats,
                       QUESTION_CODE, key=key)
    election.poll_id = poll.id
    election.state = ElectionState.VOTING
    db.session.flush()
    return poll


def _build_poll(election: Election, programme: Programme, actor, now: datetime, seat_ids: list[int], k: int,
                code: str, key=None) -> Poll:
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
    ballots.open_poll(poll, programmes.active_seats(programme.id), actor, now, key=key)
    return poll


def current_poll(election: Election) -> Poll | None:
    return ballots.get(election.runoff_poll_id if election.state == ElectionState.RUNOFF else election.poll_id)


def close_vote(election: Election, programme: Programme, actor, now: datetime | None = None) -> Election:
    """Close the election's open ballot (the bureau); the close counts it (`poll_counted`)."""
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


def poll_counted(poll: Poll, actor=None, now: datetime | None = None) -> None:
    """SPEC §4.1: an election is counted and its committee seated as soon as its poll's counts exist, whichever
    path closed it (a request, the pages closing due polls, `tick`): for a plain poll in its close, where the
    term starts; for a sealed poll (SPEC §5.1) when the k-th trustee's decryption is recorded. Connected to
    salon.ballots.signals.poll_counted by the room's init_app."""
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
        # The runoff is the same election's second round: it keeps the first round's trustees' key (SPEC §5.1),
        # so it opens even if that key's term has ended since.
        runoff = _build_poll(election, programme, actor, now, list(first.tied), first.remaining, RUNOFF_CODE,
                             key=ballots.poll_key(ballots.get(election.poll_id)))
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
    signals.seated.send(term, actor=actor, now=now)
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


def poll_title(poll: Poll) -> str:
    return _("Committee election")
