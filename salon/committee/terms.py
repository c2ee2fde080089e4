"""Whether a committee sits: read by the topics room (who decides), below the committee's services."""
from __future__ import annotations

from sqlalchemy import select

from salon.committee.models import Member, Term
from salon.extensions import db


def sitting_term(programme_id: int) -> Term | None:
    return db.session.scalar(select(Term).where(Term.programme_id == programme_id, Term.ended_at.is_(None))
                             .order_by(Term.id.desc()).limit(1))


def sitting_term_of(context) -> Term | None:
    """sitting_term for a home page (salon.home.tasks.TaskContext), read once for every room that asks."""
    return context.shared("committee.sitting_term", lambda: sitting_term(context.user.programme_id))


def member_seat_ids(term: Term | None) -> set[int]:
    if term is None:
        return set()
    return set(db.session.scalars(select(Member.seat_id).where(Member.term_id == term.id)))
