"""Reading the committee room: an election and its candidates, a term, the programme's elections page by page,
whether the first election is due (SPEC §4), who sits now and why the bureau decides when nobody can
(`standing`), and whether a user sits on the committee."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import func, select

from salon import paging
from salon.committee.models import Candidate, Election, ElectionState, Member, Term
from salon.committee.terms import last_term, sitting_members, sitting_term
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules import topics as topic_rules
from salon.schedule import services as schedule

if TYPE_CHECKING:
    from salon.programmes.models import Programme


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
    def changes(self) -> list[tuple[datetime, str, Member]]:
        """The term's changes as they happened, oldest first: (when, "left" | "moved_up" | "by_election",
        member). A member who moved up and later left shows both, in that order; a place falling vacant comes
        before the one who moved up into it (the same moment)."""
        found = []
        for m in self.history:
            if m.joined_how in ("moved_up", "by_election") and m.joined_at is not None:
                found.append((m.joined_at, m.replaces_id or m.id, 1, m.joined_how, m))
            if m.left_at is not None:
                found.append((m.left_at, m.id, 0, "left", m))
        return [(when, kind, m) for when, _anchor, _after, kind, m in
                sorted(found, key=lambda change: change[:3])]

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
