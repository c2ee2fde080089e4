"""Trustee terms, their trustees and the encrypted shares relayed between trustees' devices (SPEC §5.1).

Nothing secret is stored here: a trustee's coefficients and key stay on their device; the shares travel
encrypted to the recipient's transport key, which only the recipient's device can open."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from salon.clock import utcnow
from salon.extensions import db
# The kinds of term and the ceremony's states are the rules' words (salon/rules/trustees.py); the room's modules
# and its tests import them from here too.
from salon.rules.trustees import (ANNOUNCED, CHECKING, COMMITTEE, DEALING, DRAWN, FAILED,  # noqa: F401
                                  READY, SHARING, STATES)


class TrusteeTerm(db.Model):
    __tablename__ = "trustee_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # COMMITTEE or DRAWN
    # The committee term whose members hold it (a committee term of trustees). No foreign key: the committee
    # room owns that table.
    committee_term_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    state: Mapped[str] = mapped_column(String(16), default=DEALING)
    threshold: Mapped[int] = mapped_column(Integer, default=2)  # k = n - 1
    # Restarts after an upheld complaint: the dealer is dropped, the others deal afresh (the devices compare it
    # with what they kept).
    round: Mapped[int] = mapped_column(Integer, default=1)
    # A drawn term's lot (SPEC §4.1 ranking): the seed published before the draw, and [[seat id, public id], …]
    # as drawn among.
    seed: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lot_entries: Mapped[list | None] = mapped_column(JSON, nullable=True)
    # salon.sealed.board.key_record(...) once ready: the public key and every trustee's commitments and proofs.
    key_record: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # the draw, or the seating
    ready_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # a drawn term: half a year on
    # When the current step of the ceremony ends (salon.rules.trustees.step_deadline): the trustees who have not
    # done it by then are dropped. None outside the steps (announced, ready, failed).
    deadline: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # No longer offered to new polls (its committee left office, a newer term replaced it); it still decrypts
    # the polls that use it.
    retired_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    # Every trustee the term started with, those dropped from its ceremony included (see `active`).
    trustees: Mapped[list["Trustee"]] = relationship(order_by="Trustee.index", viewonly=True)
    complaints: Mapped[list["TrusteeComplaint"]] = relationship(order_by="TrusteeComplaint.id", viewonly=True)

    @property
    def active(self) -> list["Trustee"]:
        """The trustees still in the ceremony (and, once ready, holding the key): not dropped."""
        return [t for t in self.trustees if t.dropped_at is None]

    @property
    def key_term(self) -> str:
        """The key's term string, bound into every proof of its ceremony (docs/sealed-ballots.md)."""
        return f"p{self.programme_id}-k{self.id}"


class Trustee(db.Model):
    __tablename__ = "trustees"
    __table_args__ = (UniqueConstraint("term_id", "index", name="uq_trustees_term_id_index"),
                      UniqueConstraint("term_id", "user_id", name="uq_trustees_term_id_user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("trustee_terms.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    index: Mapped[int] = mapped_column(Integer)  # 1 … n; the bureau is 1
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    seat_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a secretary's seat at the start
    public_id: Mapped[str] = mapped_column(String(80), default="")  # their community's name then ("" for the bureau)
    # This round's public parts, posted by the trustee's device.
    transport_key: Mapped[str | None] = mapped_column(String(66), nullable=True)
    commitments: Mapped[list | None] = mapped_column(JSON, nullable=True)
    proofs: Mapped[list | None] = mapped_column(JSON, nullable=True)
    dealt_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    shared_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Dropped from the ceremony: a complaint against their share was upheld (the complaint says which), or they
    # had not done a step by its deadline (`dropped_for`: COMPLAINT or DEADLINE, with the step they missed).
    dropped_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    dropped_for: Mapped[str | None] = mapped_column(String(16), nullable=True)
    missed_step: Mapped[str | None] = mapped_column(String(16), nullable=True)

    user = relationship("User")


class TrusteeShare(db.Model):
    """Dealer's share for the recipient, AES-GCM encrypted to a key only the two devices can derive."""

    __tablename__ = "trustee_shares"
    __table_args__ = (UniqueConstraint("term_id", "dealer", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("trustee_terms.id"), index=True)
    dealer: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[int] = mapped_column(Integer)
    ciphertext: Mapped[str] = mapped_column(String(120))


class TrusteeComplaint(db.Model):
    """A trustee's complaint against a dealer's share, with its evidence and the verdict anyone can redo from it
    (salon.sealed.transport.judge_complaint; docs/sealed-ballots.md, "Complaints, decided by evidence")."""

    __tablename__ = "trustee_complaints"
    __table_args__ = (UniqueConstraint("term_id", "round", "by", "against"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("trustee_terms.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    by: Mapped[int] = mapped_column(Integer)  # the complainer's index
    against: Mapped[int] = mapped_column(Integer)  # the dealer's index
    # upheld (the dealer is dropped) or rejected (the share checks out); see salon.sealed.transport.
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(16))  # does-not-open, fails-check, checks
    # {"ciphertext", "dealer_key", "complainer_key", "commitments", "shared_point", "proof", "share"}: all public.
    evidence: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
