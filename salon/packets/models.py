"""Guest links to one session's packet (SPEC §7): signed, expiring, revocable."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from salon.clock import utcnow
from salon.extensions import db
from salon.outcomes.limits import GUEST_LINK_LABEL_MAX


class GuestLink(db.Model):
    """The URL carries a signed token naming this row and its nonce; the row says until when it works
    and whether it was revoked. It opens exactly one session's packet."""

    __tablename__ = "packet_guest_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("salon_sessions.id"), index=True)
    label: Mapped[str] = mapped_column(String(GUEST_LINK_LABEL_MAX), default="")
    nonce: Mapped[str] = mapped_column(String(32))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
