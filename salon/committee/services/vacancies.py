"""A place on the committee falling vacant (SPEC §4.1): a member's seat handed over or their community leaving
vacates it, and the next in line of the election that seated the term moves up, audited (`reconcile`, the
receiver of the programme room's signals `seat_changed`); and `advance`, run lazily by the pages and by
`salon tick`: it closes the election ballots that fall due (their close counts them) and records vacancies."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select

from salon import clock
from salon.audit import services as audit
from salon.ballots import services as ballots
from salon.committee.models import Candidate, Election, ElectionState, Member, Term
from salon.committee.terms import members_now, sitting_term, unrecorded_vacancy
from salon.database import lock_programme
from salon.extensions import db
from salon.i18n import isolate
from salon.programmes import services as programmes
from salon.rules import committee as rules

from .electing import _approvals, count, current_poll, public_ids
from .reading import candidates

if TYPE_CHECKING:
    from salon.programmes.models import Community, Programme


def succession_seed(election: Election) -> str:
    """The seed that settles a tie between runners-up: the election's published lot seed, or (no lot drawn)
    the same construction over its ballot's receipts and close."""
    if election.lot_seed:
        return election.lot_seed
    poll = ballots.get(election.poll_id)
    return rules.lot_seed(ballots.receipts(poll), election.id, poll.closed_at or election.closed_at)


def published_draw(election: Election) -> list[int] | None:
    """The whole order of the election's lot as its result page published it, for a lot drawn before the
    SHA-256 lot (migration 0009_committee_life: a seed and the tied seat ids, no public ids): the Python
    procedure that page printed (rules.legacy_lot_order). None for a SHA-256 lot (its order is the digests',
    which `rules.succession` recomputes from the same seed) and for an election without a lot."""
    if not election.lot_seed or election.lot_entries:
        return None
    return rules.legacy_lot_order([int(x) for x in election.lot_candidates.split(",") if x], election.lot_seed)


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
                                             second.get(seat_id, 0)) for seat_id in stood], succession_seed(election),
                              published_draw(election))
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


def reconcile(programme_id: int, actor=None, now: datetime | None = None, term=_UNREAD) -> list[str]:
    """Record the places that fell vacant (a hand-over of the member's seat, their community leaving) and fill
    each with the next in line, audited (SPEC §4.1). Run when a seat changes hands or a community leaves
    (the programme room's signals), and lazily by `advance` and the home page (term: the sitting term, when the
    caller has read it)."""
    now = now or clock.utcnow()
    if term is _UNREAD:
        term = sitting_term(programme_id)
    if term is None or not unrecorded_vacancy(term):
        return []
    lock_programme(programme_id)  # step 1 of the lock order (salon/database.py)
    said = []
    for member, sits in members_now(term):
        if sits or member.user_id is None:
            continue
        member.left_at = now
        member.left_reason = "handover" if member.seat.community.active else "community_left"
        db.session.flush()
        audit.record(programme_id, actor, "committee.vacancy", term, community=member.seat.community.name,
                     member=member.user.display_name if member.user else "", reason=member.left_reason)
        said.append(_("A place on the committee fell vacant: %(who)s.", who=isolate(member.seat.community.name)))
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
        said.append(_("%(who)s moved up onto the committee.", who=isolate(successor.seat.community.name)))
    return said


def seat_changed(community: Community, actor=None, now: datetime | None = None) -> list[str]:
    """Receiver of the programme room's seat_handed_over and community_left signals: what it says (a place
    fell vacant, who moved up) is shown to the person who acted."""
    return reconcile(community.programme_id, actor, now)


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
    # Closed before 0009_committee_life and never counted. A sealed poll still awaiting its trustees is counted by
    # their k-th decryption (poll_counted), not here.
    if poll is not None and poll.state == ballots.PollState.CLOSED and ballots.is_counted(poll):
        count(election, programme, None, poll.closed_at or now)
        return [_("Committee election counted.")]
    return []
