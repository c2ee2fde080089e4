"""Programme, Community, Seat and the history of who held each seat (SPEC §1)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from salon.clock import utcnow
from salon.extensions import db


class Programme(db.Model):
    """One salon series of one bureau. Every configurable value of SPEC.md lives here, with its default."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    bureau_name: Mapped[str] = mapped_column(String(120), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    # §2 schedule
    session_weekday: Mapped[int] = mapped_column(Integer, default=3)  # Monday=0 … Thursday=3
    session_week: Mapped[int] = mapped_column(Integer, default=-1)  # 1..4, or -1 for the last
    session_hour: Mapped[int] = mapped_column(Integer, default=14)
    session_minute: Mapped[int] = mapped_column(Integer, default=30)
    session_duration_minutes: Mapped[int] = mapped_column(Integer, default=120)
    default_venue: Mapped[str] = mapped_column(String(200), default="")
    blackout_months: Mapped[list] = mapped_column(JSON, default=list)  # ["2027-02", …]
    horizon_months: Mapped[int] = mapped_column(Integer, default=12)
    rotation_seed: Mapped[str | None] = mapped_column(String(64), nullable=True)

    # §3 topics
    nominations_per_community: Mapped[int] = mapped_column(Integer, default=2)
    nomination_close_days: Mapped[int] = mapped_column(Integer, default=14)
    vote_open_days: Mapped[int] = mapped_column(Integer, default=14)
    vote_close_days: Mapped[int] = mapped_column(Integer, default=7)
    approvals_max: Mapped[int] = mapped_column(Integer, default=3)
    bureau_sessions: Mapped[int] = mapped_column(Integer, default=3)

    # §4 committee and review
    committee_size: Mapped[int] = mapped_column(Integer, default=3)
    review_period_months: Mapped[int] = mapped_column(Integer, default=6)
    review_threshold_pct: Mapped[int] = mapped_column(Integer, default=60)
    review_quorum: Mapped[bool] = mapped_column(Boolean, default=True)
    checkin_hours: Mapped[int] = mapped_column(Integer, default=4)
    decision_deadline_days: Mapped[int] = mapped_column(Integer, default=3)  # §4.1: then the bureau decides
    committee_term_months: Mapped[int] = mapped_column(Integer, default=0)  # §4.1: 0 = until recalled

    # §5 secrecy
    min_ballots_published: Mapped[int] = mapped_column(Integer, default=3)

    # §7 and accounts
    guest_link_days: Mapped[int] = mapped_column(Integer, default=7)
    invitation_days: Mapped[int] = mapped_column(Integer, default=7)

    communities: Mapped[list["Community"]] = relationship(
        back_populates="programme", order_by="Community.id", viewonly=True
    )


class Community(db.Model):
    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("programme_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    rotation_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    programme: Mapped[Programme] = relationship(back_populates="communities")
    seat: Mapped["Seat"] = relationship(back_populates="community", uselist=False)


class Seat(db.Model):
    """A community's place at the table: one ballot per seat, whoever holds it at voting time."""

    __tablename__ = "seats"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), unique=True)

    community: Mapped[Community] = relationship(back_populates="seat")
    holdings: Mapped[list["SeatHolding"]] = relationship(
        back_populates="seat", order_by="SeatHolding.started_at", viewonly=True
    )


class SeatHolding(db.Model):
    """Who held a seat, from when until when (换届 history)."""

    __tablename__ = "seat_holdings"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("seats.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    seat: Mapped[Seat] = relationship(back_populates="holdings")
    user: Mapped["User"] = relationship()  # noqa: F821
