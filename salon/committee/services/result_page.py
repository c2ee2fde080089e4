"""An election's result page and its export: the ballot and the runoff as SPEC §5 lets them be published
(`ballots.results`), the receipts, the lot drawn (its seed, each tied candidate's digest and the shell line that
recomputes it), the members it seated, and what the user may do there (stand, vote)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select

from salon import exports
from salon.ballots import services as ballots
from salon.committee.models import Candidate, Election, Member, Term
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules import committee as rules

from .electing import _approvals
from .reading import candidates
from .vacancies import advance, published_draw

if TYPE_CHECKING:
    from salon.ballots.models import Poll
    from salon.programmes.models import Programme


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

    @property
    def old_lot_rows(self) -> list[tuple[Candidate, bool]]:
        """A lot drawn before the SHA-256 lot: the tied candidates in the order its published procedure gives
        (the drawn first), each with whether it was drawn; a vacancy is filled in this order."""
        order = published_draw(self.election)
        if not order:
            return []
        by_seat = {c.seat_id: c for c in self.candidates}
        return [(by_seat[seat_id], index < self.lot_seats) for index, seat_id in enumerate(order)
                if seat_id in by_seat]


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
        if result.published:  # a sealed poll opened before protocol salon-sealed-2 had no way to count them
            rows.append([_("Blank ballots"), sum(result.blanks.values()) if result.blanks_counted
                         else _("not counted")])
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
