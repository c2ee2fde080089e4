"""Whether a committee sits and who sits on it: read by the topics room (who decides), below the committee's
services."""
from __future__ import annotations

from sqlalchemy import select

from salon.committee.models import Member, Term
from salon.extensions import db
from salon.programmes.models import Community, Seat, SeatHolding


def sitting_term(programme_id: int) -> Term | None:
    return db.session.scalar(select(Term).where(Term.programme_id == programme_id, Term.ended_at.is_(None))
                             .order_by(Term.id.desc()).limit(1))


def last_term(programme_id: int) -> Term | None:
    return db.session.scalar(select(Term).where(Term.programme_id == programme_id)
                             .order_by(Term.id.desc()).limit(1))


def sitting_members(term: Term | None) -> list[Member]:
    """SPEC §4.1: the members who sit now — their place not vacated, and still holding the seat they sat for in
    a community that has not left (so a hand-over not yet recorded as a vacancy already counts as one)."""
    if term is None:
        return []
    return list(db.session.scalars(
        select(Member).join(Seat, Seat.id == Member.seat_id).join(Community, Community.id == Seat.community_id)
        .join(SeatHolding, (SeatHolding.seat_id == Member.seat_id) & (SeatHolding.user_id == Member.user_id)
              & SeatHolding.ended_at.is_(None))
        .where(Member.term_id == term.id, Member.left_at.is_(None), Community.active.is_(True))
        .order_by(Member.id)))


def member_seat_ids(term: Term | None) -> set[int]:
    """The seats of the members sitting now (each sitting member holds the seat they sat for)."""
    return {m.seat_id for m in sitting_members(term)}
