"""What a session produced (SPEC §6): attendance per seat and per guest, the minutes summary, numbered
resolutions, and action items with their dated updates."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from salon.clock import utcnow
from salon.extensions import db
from salon.outcomes.limits import ACTION_WHAT_MAX, OWNER_UNIT_MAX, RESOLUTION_MAX, UPDATE_NOTE_MAX


class Attendance(db.Model):
    """One presence at one session: a community's seat (with who held it then) or a guest. Absence is no row.
    Kept per session and per seat because the half-year review counts it (SPEC §4, §6)."""

    __tablename__ = "outcome_attendance"
    __table_args__ = (UniqueConstraint("session_id", "seat_id", name="uq_outcome_attendance_session_seat"),
                      UniqueConstraint("session_id", "guest_id", name="uq_outcome_attendance_session_guest"))

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("salon_sessions.id"), index=True)
    seat_id: Mapped[int | None] = mapped_column(ForeignKey("seats.id"), nullable=True, index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), nullable=True)
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)  # the seat's secretary then
    guest_id: Mapped[int | None] = mapped_column(ForeignKey("topic_guests.id", ondelete="CASCADE"), nullable=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Minutes(db.Model):
    """The minutes summary of one session."""

    __tablename__ = "outcome_minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("salon_sessions.id"), unique=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Resolution(db.Model):
    """A resolution of a session, numbered 1, 2, 3 … within it (决议)."""

    __tablename__ = "outcome_resolutions"
    __table_args__ = (UniqueConstraint("session_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("salon_sessions.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(RESOLUTION_MAX))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ActionItem(db.Model):
    """Who follows up what by when (SPEC §6). The owner is a unit's name; when the unit is one of the
    programme's communities, owner_community_id names it so its secretary sees the item as theirs."""

    __tablename__ = "outcome_action_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("salon_sessions.id"), index=True)
    what: Mapped[str] = mapped_column(String(ACTION_WHAT_MAX))
    owner_unit: Mapped[str] = mapped_column(String(OWNER_UNIT_MAX))
    owner_community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), nullable=True, index=True)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # salon.rules.outcomes.STATUSES
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    owner_community = relationship("Community")


class ActionUpdate(db.Model):
    """A dated change to an action item: who, when, what changed (status, due date) and a note."""

    __tablename__ = "outcome_action_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    action_item_id: Mapped[int] = mapped_column(ForeignKey("outcome_action_items.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    old_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    new_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    old_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    new_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(String(UPDATE_NOTE_MAX), default="")

    by = relationship("User")
