"""The topic-selection committee (SPEC §4): its terms and members, its elections and their candidates,
and the members' signed picks of a session's topic (SPEC §3.3)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from salon.clock import utcnow
from salon.extensions import db


class ElectionState(str, enum.Enum):
    STANDING = "standing"  # secretaries stand by accepting a nomination
    VOTING = "voting"  # the approval ballot is open
    RUNOFF = "runoff"  # a tie for the last seat: the tied go to a runoff
    CLOSED = "closed"  # winners seated


class Election(db.Model):
    __tablename__ = "committee_elections"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    state: Mapped[ElectionState] = mapped_column(Enum(ElectionState, native_enum=False, length=16),
                                                 default=ElectionState.STANDING)
    reason: Mapped[str] = mapped_column(String(16), default="first")  # first, recall, term_end, early, by_election
    note: Mapped[str] = mapped_column(String(500), default="")  # the bureau's reason for an early election
    # A by-election's term. No foreign key: see migration 0009 (SQLite would rebuild this referenced table).
    term_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    seats: Mapped[int] = mapped_column(Integer, default=3)
    standing_until: Mapped[datetime] = mapped_column(DateTime)
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("ballot_polls.id"), nullable=True, unique=True)
    runoff_poll_id: Mapped[int | None] = mapped_column(ForeignKey("ballot_polls.id"), nullable=True, unique=True)
    runoff_seats: Mapped[int] = mapped_column(Integer, default=0)
    lot_seed: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lot_candidates: Mapped[str] = mapped_column(String(500), default="")  # sorted seat ids drawn among, "3,5,9"
    lot_entries: Mapped[list | None] = mapped_column(JSON, nullable=True)  # [[seat id, public id], …] as drawn
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Candidate(db.Model):
    """A seat nominated to stand; it stands once its secretary accepts (a self-nomination is accepted)."""

    __tablename__ = "committee_candidates"
    __table_args__ = (UniqueConstraint("election_id", "seat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("committee_elections.id"), index=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("seats.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)  # who held the seat
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    seat = relationship("Seat")
    user = relationship("User", foreign_keys=[user_id])


class Term(db.Model):
    """One committee's time in office: from its election's close until it completes or is recalled."""

    __tablename__ = "committee_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    election_id: Mapped[int | None] = mapped_column(ForeignKey("committee_elections.id"), nullable=True,
                                                    unique=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # a fixed term's end (SPEC §4.1)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)  # completed, recalled

    members: Mapped[list["Member"]] = relationship(order_by="Member.id", viewonly=True)


class Member(db.Model):
    """A person's place on a term's committee (SPEC §4.1: membership is personal). The place is theirs while
    they hold the seat they sat for; a hand-over of that seat or the community leaving ends it (`left_at`),
    and the successor in the seat does not inherit it. Rows are kept: the page shows who sat when."""

    __tablename__ = "committee_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("committee_terms.id"), index=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("seats.id"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    joined_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # None: from the term's start
    joined_how: Mapped[str] = mapped_column(String(16), default="elected")  # elected, moved_up, by_election
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("committee_members.id"), nullable=True)
    left_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    left_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)  # handover, community_left

    seat = relationship("Seat")
    user = relationship("User")
    replaces = relationship("Member", remote_side=[id])


class Pick(db.Model):
    """A committee member's pick of a session's topic, signed by name (SPEC §3.3: accountable, unlike
    ballots). Kept in the order recorded; a member's latest pick counts."""

    __tablename__ = "committee_picks"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("salon_sessions.id"), index=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("committee_terms.id"))
    seat_id: Mapped[int] = mapped_column(ForeignKey("seats.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    nomination_id: Mapped[int] = mapped_column(ForeignKey("topic_nominations.id"))
    rationale: Mapped[str] = mapped_column(Text, default="")
    picked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user = relationship("User")
    seat = relationship("Seat")
    nomination = relationship("Nomination")
