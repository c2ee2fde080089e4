"""Session: one monthly salon (第N期), swap requests between chairs, and calendar feed tokens.

Numbering (第N期): the sessions that are not cancelled, in date order, are numbered 1, 2, 3, … with
no gaps or repeats. A cancelled session gives up its number (None) and the later planned sessions
move up; held sessions are always earlier than any planned one, so their numbers never change.
The rotation logic lives in salon.rules.rotation; schedule.services applies it."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from salon.clock import utcnow
from salon.extensions import db


class SessionStatus(str, enum.Enum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


class Session(db.Model):
    __tablename__ = "salon_sessions"
    __table_args__ = (UniqueConstraint("programme_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 第N期; None while cancelled
    starts_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC
    duration_minutes: Mapped[int] = mapped_column(Integer, default=120)
    venue: Mapped[str] = mapped_column(String(200), default="")
    chair_community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), nullable=True)
    status: Mapped[SessionStatus] = mapped_column(Enum(SessionStatus, native_enum=False, length=16),
                                                  default=SessionStatus.PLANNED)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    swapped: Mapped[bool] = mapped_column(Boolean, default=False)
    # The bureau set date, time or venue by hand: regenerating keeps them.
    edited: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Why it was cancelled: "bureau", or "blackout" (comes back when the month is no longer blacked out).
    cancelled_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    chair = relationship("Community")

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED


class SwapStatus(str, enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    VOID = "void"  # a chair changed before the answer: the request no longer means anything


class SwapRequest(db.Model):
    """The chair of one future session asks the chair of another to exchange duties (SPEC §2)."""

    __tablename__ = "swap_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("salon_sessions.id"), index=True)
    other_session_id: Mapped[int] = mapped_column(ForeignKey("salon_sessions.id"), index=True)
    from_community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    to_community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    message: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[SwapStatus] = mapped_column(Enum(SwapStatus, native_enum=False, length=16),
                                               default=SwapStatus.PENDING)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    session = relationship("Session", foreign_keys=[session_id])
    other_session = relationship("Session", foreign_keys=[other_session_id])
    from_community = relationship("Community", foreign_keys=[from_community_id])
    to_community = relationship("Community", foreign_keys=[to_community_id])


class CalendarFeed(db.Model):
    """A subscription URL for a calendar app. The URL carries a signed token naming this row;
    revoking the row makes the URL stop working. community_id None: the whole programme."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), nullable=True)
    nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    community = relationship("Community")
