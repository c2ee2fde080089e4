"""Whether a committee sits and who sits on it: the committee's public read module (the rooms contract lists
it), read by the topics room (who decides) and the reviews room. It sits below the committee's services because
those call topics.services (a member's pick decides a session's topic), so topics cannot import them."""
from __future__ import annotations

from sqlalchemy import select

from salon.committee.models import Member, Term
from salon.extensions import db
from salon.programmes import services as programmes


def sitting_term(programme_id: int) -> Term | None:
    return db.session.scalar(select(Term).where(Term.programme_id == programme_id, Term.ended_at.is_(None))
                             .order_by(Term.id.desc()).limit(1))


def sitting_term_of(context) -> Term | None:
    """sitting_term for a home page (salon.home.tasks.TaskContext), read once for every room that asks."""
    return context.shared("committee.sitting_term", lambda: sitting_term(context.user.programme_id))


def last_term(programme_id: int) -> Term | None:
    return db.session.scalar(select(Term).where(Term.programme_id == programme_id)
                             .order_by(Term.id.desc()).limit(1))


def members_now(term: Term | None) -> list[tuple[Member, bool]]:
    """The term's members whose place is not recorded as vacant, each with whether they sit now, in one
    statement. The one place that says whether a member sits (SPEC §4.1: membership is personal): their place
    is not vacated, and they still hold the seat they sat for (the same person in it), in a community that has
    not left — so a hand-over not yet recorded as a vacancy already counts as one. A member who does not sit
    but has a user is such a vacancy not yet recorded (salon.committee.services.reconcile)."""
    if term is None:
        return []
    held = programmes.sitting_holdings()
    sits = held.c.seat_id.is_not(None).label("sits")
    return [(member, bool(sitting)) for member, sitting in db.session.execute(
        select(Member, sits)
        .outerjoin(held, (held.c.seat_id == Member.seat_id) & (held.c.user_id == Member.user_id))
        .where(Member.term_id == term.id, Member.left_at.is_(None))
        .order_by(Member.id))]


def sitting_members(term: Term | None) -> list[Member]:
    """SPEC §4.1: the members who sit now (as members_now says)."""
    return [member for member, sits in members_now(term) if sits]


def unrecorded_vacancy(term: Term) -> bool:
    """Whether a member's place fell vacant and is not yet recorded (as members_now says)."""
    return any(not sits and member.user_id is not None for member, sits in members_now(term))


def members_now_of(context) -> list[tuple[Member, bool]]:
    """members_now of the sitting term for a home page (salon.home.tasks.TaskContext), read once."""
    return context.shared("committee.members_now", lambda: members_now(sitting_term_of(context)))


def sitting_members_of(context) -> list[Member]:
    """sitting_members of the sitting term for a home page, from members_now_of."""
    return [member for member, sits in members_now_of(context) if sits]


def last_term_of(context) -> Term | None:
    """last_term for a home page, read once (only asked while no committee sits)."""
    return context.shared("committee.last_term", lambda: last_term(context.user.programme_id))


def member_seat_ids(term: Term | None) -> set[int]:
    """The seats of the members sitting now (each sitting member holds the seat they sat for)."""
    return {m.seat_id for m in sitting_members(term)}
