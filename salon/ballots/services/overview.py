"""What rooms ask about several polls at once (they never read the engine's tables): state, closing time,
eligible count, and a seat's eligibility and vote, in one query."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select

from salon.ballots.models import EligibleSeat, Poll, PollState, SealedKey, VoterRecord
from salon.extensions import db


def get(poll_id: int | None) -> Poll | None:
    return db.session.get(Poll, poll_id) if poll_id is not None else None


def states(poll_ids: list[int]) -> dict[int, PollState]:
    if not poll_ids:
        return {}
    return dict(db.session.execute(select(Poll.id, Poll.state).where(Poll.id.in_(poll_ids))).all())


@dataclass(frozen=True)
class PollSummary:
    id: int
    state: PollState
    closes_at: datetime
    eligible_count: int
    eligible: bool = False  # the seat asked about may vote in it
    voted: bool = False  # the seat asked about has voted in it
    turnout: int = 0  # when asked for
    closed_at: datetime | None = None
    # When its counts became known (ballots.counted_at): the close of a plain poll, the trustees' decryption of
    # a sealed one (or its close, nothing to decrypt). None while open or awaiting the trustees.
    counted_at: datetime | None = None
    sealed: bool = False

    @property
    def awaiting_trustees(self) -> bool:
        """Closed and sealed, its count not decrypted yet (SPEC §5.1)."""
        return self.state == PollState.CLOSED and self.counted_at is None

def summaries(poll_ids: list[int], seat_id: int | None = None, turnout: bool = False) -> dict[int, PollSummary]:
    """State, closing time and eligible count of several polls, whether `seat_id` may vote and has voted in
    each, (turnout=True) how many have voted, and when each was counted: in one query (for lists and home
    pages)."""
    if not poll_ids:
        return {}
    columns = [Poll.id, Poll.state, Poll.closes_at, Poll.eligible_count, Poll.closed_at, Poll.sealed,
               SealedKey.counted_at.label("key_counted_at")]
    if seat_id is not None:
        columns += [exists().where(EligibleSeat.poll_id == Poll.id, EligibleSeat.seat_id == seat_id).label("eligible"),
                    exists().where(VoterRecord.poll_id == Poll.id, VoterRecord.seat_id == seat_id).label("voted")]
    if turnout:
        columns.append(select(func.count()).select_from(VoterRecord).where(VoterRecord.poll_id == Poll.id)
                       .scalar_subquery().label("turnout"))
    found = {}
    query = select(*columns).outerjoin(SealedKey, SealedKey.poll_id == Poll.id).where(Poll.id.in_(poll_ids))
    for row in db.session.execute(query):
        counted = None if row.state != PollState.CLOSED else row.key_counted_at if row.sealed else row.closed_at
        found[row.id] = PollSummary(row.id, row.state, row.closes_at, row.eligible_count,
                                    bool(row.eligible) if seat_id is not None else False,
                                    bool(row.voted) if seat_id is not None else False,
                                    row.turnout if turnout else 0, row.closed_at, counted, bool(row.sealed))
    return found
