"""Poll, Question, Option; per-option counts; the seats allowed to vote; who voted; sealed ballots.

No table holds a voter next to a readable choice. Ballots are sealed (SPEC §5.1): ballot_sealed holds ciphertexts
without a voter link; ballot_voters says only that a seat voted (no timestamp, no surrogate id); ballot_counters
hold the counts, written once the trustees have decrypted the sums. ballot_receipts keeps the receipt codes of
polls closed before sealed ballots (migration 0015), which are still published and looked up."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Enum, ForeignKey, Integer, String, Text
from sqlalchemy import false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from salon.clock import utcnow
from salon.extensions import db


class PollState(str, enum.Enum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Poll(db.Model):
    __tablename__ = "ballot_polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # "topic", "election", "review": names the room that owns it
    # Informative only: rooms own their poll by a foreign key on their own table (e.g. topic_votes.poll_id).
    subject_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Legacy: titles are no longer stored but composed, translated, by the owning room (services.poll_title).
    title: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[PollState] = mapped_column(Enum(PollState, native_enum=False, length=16),
                                             default=PollState.DRAFT)
    opens_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    closes_at: Mapped[datetime] = mapped_column(DateTime)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    min_published: Mapped[int] = mapped_column(Integer, default=3)
    eligible_count: Mapped[int] = mapped_column(Integer, default=0)
    # Random, set at opening: names this opening of the poll for caches of its (then frozen) questions.
    seal: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Opened with a trustee key (SealedKey): its ballots are sealed (SPEC §5.1), never counted in plain.
    sealed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    questions: Mapped[list["Question"]] = relationship(
        back_populates="poll", order_by="Question.position", viewonly=True)


class Question(db.Model):
    __tablename__ = "ballot_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("ballot_polls.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(String(300), default="")  # user text; empty when `code` names it
    code: Mapped[str | None] = mapped_column(String(32), nullable=True)  # stable, translated when shown
    ref_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # e.g. the topic a review question asks about
    kind: Mapped[str] = mapped_column(String(16))  # salon.rules.ballots.APPROVAL or SINGLE
    max_choices: Mapped[int] = mapped_column(Integer, default=1)

    poll: Mapped[Poll] = relationship(back_populates="questions")
    options: Mapped[list["Option"]] = relationship(
        order_by="Option.position", viewonly=True, primaryjoin="and_(Option.question_id == Question.id, "
        "Option.is_blank.is_(False))")


class Option(db.Model):
    """One answer to a question. Each question also has one hidden blank option, counting blank answers."""

    __tablename__ = "ballot_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("ballot_polls.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("ballot_questions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(200), default="")  # user text (a nomination's title)
    code: Mapped[str | None] = mapped_column(String(32), nullable=True)  # e.g. "oppose", translated when shown
    ref_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # e.g. the nomination
    is_blank: Mapped[bool] = mapped_column(Boolean, default=False)


class Counter(db.Model):
    """How many ballots chose an option: created at zero when the poll opens, written once when its counts are
    combined from the trustees' decryptions (or at the close, when nothing is to be decrypted). One row per
    option (shard 0); the shard column is what polls before migration 0015 split their live counts over."""

    __tablename__ = "ballot_counters"

    option_id: Mapped[int] = mapped_column(ForeignKey("ballot_options.id"), primary_key=True,
                                           autoincrement=False)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, default=0)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("ballot_polls.id"), index=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class EligibleSeat(db.Model):
    """The seats that may vote: fixed by the caller when the poll opens, and grown while it is open by
    services.add_eligible (a secretary who checks in at a review). Who may vote is not secret."""

    __tablename__ = "ballot_eligible_seats"
    __table_args__ = {"sqlite_with_rowid": False}

    poll_id: Mapped[int] = mapped_column(ForeignKey("ballot_polls.id"), primary_key=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("seats.id"), primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)


# ballot_voters and ballot_receipts have no foreign key to ballot_polls or programmes (migration 0008), though
# their poll_id and programme_id name rows there. A ballot inserts into both, and PostgreSQL checks a foreign
# key by taking FOR KEY SHARE on the row it references: with every ballot of a poll doing so on the same poll
# and programme rows, those rows' share locks became MultiXacts, the costliest part of a ballot under load
# (issue 10). What keeps the ids right instead: the ballot engine (services/) is the only writer of
# these tables, and it inserts only in the statement or transaction that read the poll (open, its programme
# the voter's) under the poll's lock, shared (salon.database.lock_poll), which the close takes exclusive.
# Polls and programmes are never deleted, so nothing can dangle. A bad poll id would make the insert find no
# open poll and write nothing; the seat keeps its foreign key (one seat's row, not shared).


class VoterRecord(db.Model):
    """That a seat has voted in a poll — nothing else: no time, no id, no choice."""

    __tablename__ = "ballot_voters"
    __table_args__ = {"sqlite_with_rowid": False}

    poll_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # no foreign key: see above
    seat_id: Mapped[int] = mapped_column(ForeignKey("seats.id"), primary_key=True)
    programme_id: Mapped[int] = mapped_column(Integer)  # no foreign key: see above


class Receipt(db.Model):
    """A random code handed to a voter by a poll closed before migration 0015 (sealed ballots' receipts are their
    fingerprints); the sorted list stays published. No seat, no time, no id."""

    __tablename__ = "ballot_receipts"
    __table_args__ = {"sqlite_with_rowid": False}

    poll_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # no foreign key: see above VoterRecord
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    programme_id: Mapped[int] = mapped_column(Integer)  # no foreign key: see above VoterRecord


# Sealed ballots (SPEC §5.1; docs/sealed-ballots.md): a poll opened while a trustee key was ready keeps that key
# for life (SealedKey); its ballots are stored as ciphertexts without any voter link (SealedBallot); the close adds
# them (SealedKey.tally) and k trustees' decryption factors (Decryption) give the counts, written into the poll's
# counter rows (shard 0) when combined (SealedKey.counted_at).


class SealedKey(db.Model):
    """The trustee key a sealed poll was opened with (a snapshot: the key record never changes for the poll),
    the encrypted tally computed at its close, and when its counts were combined from the trustees' factors."""

    __tablename__ = "ballot_poll_keys"

    poll_id: Mapped[int] = mapped_column(ForeignKey("ballot_polls.id"), primary_key=True, autoincrement=False)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    term: Mapped[str] = mapped_column(String(64), index=True)  # f"p{programme}-k{trustee term}"
    threshold: Mapped[int] = mapped_column(Integer)
    record: Mapped[dict] = mapped_column(JSON)  # salon.sealed.board.key_record(...): public, with public_key
    trustees: Mapped[list] = mapped_column(JSON)  # [[index, user id], …]
    tally: Mapped[list | None] = mapped_column(JSON, nullable=True)  # encrypted sums, set by the close
    counted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # the protocol version the poll opened with (docs/sealed-ballots.md, "Versions"): 1 before salon-sealed-2
    protocol: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class SealedBallot(db.Model):
    """One sealed ballot: its fingerprint (the voter's receipt), the ballot (ciphertexts and proofs) and who
    sealed it ("voter" in the browser or a client, "server" for a ballot that arrived plain). No seat, no
    time, no surrogate id; WITHOUT ROWID on SQLite, ordered by fingerprint."""

    __tablename__ = "ballot_sealed"
    __table_args__ = {"sqlite_with_rowid": False}

    poll_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # no foreign key: as VoterRecord
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    ballot: Mapped[str] = mapped_column(Text)  # canonical JSON
    sealed_by: Mapped[str] = mapped_column(String(8))


class SealedCiphertext(db.Model):
    """Each ciphertext's first point (alpha) of a poll's sealed ballots, once: a ballot that repeats one
    already cast (an answer copied from another voter's ballot) is refused, as the board's verifier would."""

    __tablename__ = "ballot_sealed_alphas"
    __table_args__ = {"sqlite_with_rowid": False}

    poll_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alpha: Mapped[str] = mapped_column(String(66), primary_key=True)


class Decryption(db.Model):
    """A trustee's proven decryption factors of a closed sealed poll's tally (checked before stored)."""

    __tablename__ = "ballot_decryptions"

    poll_id: Mapped[int] = mapped_column(ForeignKey("ballot_polls.id"), primary_key=True, autoincrement=False)
    trustee: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    factors: Mapped[list] = mapped_column(JSON)
