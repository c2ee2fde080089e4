"""Session: one monthly salon (第N期). The rotation logic lives in salon.rules and schedule.services."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, Integer, String, UniqueConstraint
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
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    chair = relationship("Community")
