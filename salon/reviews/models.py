"""The half-year review (SPEC §4): who was present, and what the closed review decided."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from salon.clock import utcnow
from salon.extensions import db

REASON_MAX = 500  # an early review's reason, a roll correction's reason: form, API schema and service read it

class ReviewState(str, enum.Enum):
    OPEN = "open"  # attendance and the secret ballot
    CLOSED = "closed"


class Review(db.Model):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("committee_terms.id"), index=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("ballot_polls.id"), unique=True)
    state: Mapped[ReviewState] = mapped_column(Enum(ReviewState, native_enum=False, length=16),
                                               default=ReviewState.OPEN)
    period_start: Mapped[datetime] = mapped_column(DateTime)
    period_end: Mapped[datetime] = mapped_column(DateTime)
    chair_community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), nullable=True)
    checkin_until: Mapped[datetime] = mapped_column(DateTime)
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # The rule's inputs and answer (SPEC §4): threshold and quorum as set when the review opened (a change of
    # settings does not alter a review under way); active communities, present, oppose and outcome at the close.
    threshold_pct: Mapped[int] = mapped_column(Integer, default=60)
    quorum_required: Mapped[bool] = mapped_column(Boolean, default=True)
    active_communities: Mapped[int] = mapped_column(Integer, default=0)
    present: Mapped[int | None] = mapped_column(Integer, nullable=True)
    oppose: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # stands, triggered, void
    election_id: Mapped[int | None] = mapped_column(ForeignKey("committee_elections.id"), nullable=True)
    # SPEC §4.1: opened before 14 days ahead of its due day, with this reason ("" when opened in time).
    early_reason: Mapped[str] = mapped_column(Text, default="")

    chair = relationship("Community")


class ReviewAttendance(db.Model):
    """That a seat was present at a review (roll or QR check-in). No time here; the audit log records each roll
    change, check-ins included, with its time (SPEC §4.1), and nothing about ballots."""

    __tablename__ = "review_attendance"
    __table_args__ = {"sqlite_with_rowid": False}

    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), primary_key=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("seats.id"), primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    how: Mapped[str] = mapped_column(String(8), default="roll")  # roll, qr


class ReviewTopic(db.Model):
    """A topic the review covers, fixed when it opens (SPEC §4.1): the held sessions of its period whose topic
    this term's committee decided are judged (a question on the ballot); those the bureau or another committee
    decided are listed apart, not judged."""

    __tablename__ = "review_topics"

    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("salon_sessions.id"), primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    judged: Mapped[bool] = mapped_column(Boolean, default=True)
    decided_by: Mapped[str] = mapped_column(String(16))  # committee (this term), bureau, other_term
