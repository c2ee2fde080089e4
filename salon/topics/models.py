"""Nomination, the decision on a session's topic, its agenda items and its guests."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from salon.clock import utcnow
from salon.extensions import db

from salon.topics import limits

TITLE_MAX = limits.TITLE.max
PROBLEM_MAX = limits.PROBLEM.max
HOPED_MAX = limits.HOPED.max
UNITS_MAX = limits.UNITS.max
RATIONALE_MAX = limits.RATIONALE.max


class Nomination(db.Model):
    """A community's proposed topic for one session (推荐议题)."""

    __tablename__ = "topic_nominations"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("salon_sessions.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    problem: Mapped[str] = mapped_column(Text, default="")
    hoped_result: Mapped[str] = mapped_column(Text, default="")
    outside_units: Mapped[str] = mapped_column(String(UNITS_MAX), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("topic_nominations.id"), nullable=True,
                                                        unique=True)
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    community = relationship("Community")
    session = relationship("Session")


class TopicVote(db.Model):
    """A session's topic vote: the poll this room owns in the ballot engine (SPEC §3.2)."""

    __tablename__ = "topic_votes"

    session_id: Mapped[int] = mapped_column(ForeignKey("salon_sessions.id"), primary_key=True,
                                            autoincrement=False)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("ballot_polls.id"), unique=True)


class TopicDecision(db.Model):
    """The decided topic of a session, who decided and why (SPEC §3.3). Shown to the whole programme."""

    __tablename__ = "topic_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("salon_sessions.id"), unique=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("topic_nominations.id"))
    decider: Mapped[str] = mapped_column(String(16))  # salon.rules.topics.BUREAU or COMMITTEE
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    rationale: Mapped[str] = mapped_column(Text, default="")
    followed_tally: Mapped[bool] = mapped_column(Boolean, default=True)
    # SPEC §4.1: the term whose committee decided (None: the bureau), and why this decider (salon.rules.topics
    # MAJORITY, or the bureau's reason: BUREAU_SESSIONS, NO_COMMITTEE, RECALL, VACANCY, DEADLINE).
    term_id: Mapped[int | None] = mapped_column(ForeignKey("committee_terms.id"), nullable=True, index=True)
    reason: Mapped[str] = mapped_column(String(16), default="")
    decided_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    nomination = relationship("Nomination")
    decided_by = relationship("User")


class AgendaItem(db.Model):
    """One line of a session's agenda (议程); times follow from the session's start and the durations."""

    __tablename__ = "topic_agenda_items"
    __table_args__ = (UniqueConstraint("session_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("salon_sessions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(limits.AGENDA_TITLE.max))
    lead: Mapped[str] = mapped_column(String(limits.AGENDA_LEAD.max), default="")
    minutes: Mapped[int] = mapped_column(Integer, default=10)
    note: Mapped[str] = mapped_column(String(limits.AGENDA_NOTE.max), default="")


class Guest(db.Model):
    """An outside unit's person invited to one session (e.g. 县医保局)."""

    __tablename__ = "topic_guests"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("salon_sessions.id"), index=True)
    name: Mapped[str] = mapped_column(String(limits.GUEST_NAME.max))
    unit: Mapped[str] = mapped_column(String(limits.GUEST_UNIT.max))
    contact: Mapped[str] = mapped_column(String(limits.GUEST_CONTACT.max), default="")
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
