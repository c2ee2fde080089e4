"""Building and running a poll: draft (questions and options) → open (the eligible seats fixed, a zero
counter for every option), and the roll of an open poll changed by a check-in."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from salon import clock
from salon.audit import services as audit
from salon.ballots.models import Counter, EligibleSeat, Option, Poll, PollState, Question
from salon.database import lock_poll, lock_programme
from salon.errors import Conflict, NotFound, ValidationFailed
from salon.extensions import db
from salon.rules import ballots as rules
from salon.sealed import ballot as sealed_ballot

from . import sealing
from .reading import has_voted

def create_poll(programme_id: int, kind: str, title: str = "", closes_at: datetime | None = None,
                opens_at: datetime | None = None,
                min_published: int = 3, subject_id: int | None = None) -> Poll:
    if closes_at is None:
        raise ValidationFailed(_("Voting must close after it opens."), "closes_at")
    if opens_at is not None and closes_at <= opens_at:
        raise ValidationFailed(_("Voting must close after it opens."), "closes_at")
    poll = Poll(programme_id=programme_id, kind=kind, title=title[:200], opens_at=opens_at, closes_at=closes_at,
                min_published=min_published, subject_id=subject_id, state=PollState.DRAFT)
    db.session.add(poll)
    db.session.flush()
    return poll


def _draft_only(poll: Poll) -> None:
    if poll.state != PollState.DRAFT:
        raise Conflict(_("The poll has opened; its questions can no longer change."), "poll")


def add_question(poll: Poll, text: str = "", kind: str = rules.APPROVAL, max_choices: int = 1,
                 code: str | None = None, ref_id: int | None = None) -> Question:
    _draft_only(poll)
    if kind not in (rules.APPROVAL, rules.SINGLE):
        raise ValidationFailed(_("Unknown kind of question."), "kind")
    if kind == rules.SINGLE:
        max_choices = 1
    if max_choices < 1:
        raise ValidationFailed(_("At least one choice must be allowed."), "max_choices")
    position = db.session.scalar(select(func.count(Question.id)).where(Question.poll_id == poll.id))
    question = Question(programme_id=poll.programme_id, poll_id=poll.id, position=position, text=text[:300],
                        kind=kind, max_choices=max_choices, code=code, ref_id=ref_id)
    db.session.add(question)
    db.session.flush()
    db.session.add(Option(programme_id=poll.programme_id, poll_id=poll.id, question_id=question.id,
                          position=-1, label="", is_blank=True))
    return question


def add_option(question: Question, label: str = "", ref_id: int | None = None, code: str | None = None) -> Option:
    _draft_only(question.poll)
    position = db.session.scalar(select(func.count(Option.id)).where(
        Option.question_id == question.id, Option.is_blank.is_(False)))
    option = Option(programme_id=question.programme_id, poll_id=question.poll_id, question_id=question.id,
                    position=position, label=label[:200], ref_id=ref_id, code=code)
    db.session.add(option)
    db.session.flush()
    return option


def key_ready(programme_id: int, kind: str, now: datetime) -> bool:
    """Whether a poll of this kind opened now would find its trustees' key ready (SPEC §5.1): without one it
    cannot open (open_poll). For rooms that open polls on time, to wait rather than fail."""
    return sealing.provided_key(programme_id, kind, now) is not None


def require_key(programme_id: int, kind: str, now: datetime) -> sealing.PollKey:
    """The trustees' key a poll of this kind opened now takes; Conflict (field "trustees") when none is ready. Rooms
    call it before they create a poll, so that a refusal leaves nothing behind."""
    key = sealing.provided_key(programme_id, kind, now)
    if key is None:
        raise Conflict(_("Voting cannot open yet: the trustees' key for this poll is not ready (the trustees page "
                         "says who is awaited)."), "trustees")
    return key


def open_poll(poll: Poll, seat_ids: list[int], actor=None, now: datetime | None = None,
              key: sealing.PollKey | None = None) -> Poll:
    """draft → open, sealed (SPEC §5.1): fix the eligible seats, keep the trustees' key, create a zero counter for
    every option (written once, by the count after the trustees' decryption). Without a ready key the poll does
    not open: no poll is ever opened on plain counters (docs/secrecy.md, "No plain polls"). `key`: the key to
    use instead of the provider's (an election's runoff keeps its first round's key)."""
    lock_programme(poll.programme_id)  # lock order: salon/database.py
    lock_poll(poll.id, shared=False)
    now = now or clock.utcnow()
    db.session.refresh(poll, with_for_update=True)
    if poll.state != PollState.DRAFT:
        raise Conflict(_("Only a poll that has not opened yet can open."), "state")
    if now >= poll.closes_at:
        raise Conflict(_("The voting window has already ended."), "closes_at")
    option_ids = db.session.scalars(select(Option.id).where(Option.poll_id == poll.id)).all()
    if not option_ids:
        raise Conflict(_("A poll needs at least one question."), "questions")
    seat_ids = sorted(set(seat_ids))
    if not sealing.can_seal(poll):
        raise Conflict(_("A question has more options than a sealed ballot can carry (%(n)d at most).",
                         n=sealed_ballot.MAX_OPTIONS), "questions")
    key = key or require_key(poll.programme_id, poll.kind, now)
    # The counters (one row per option) stay at zero until the trustees' decryption writes the counts
    # (sealing.record_decryption).
    db.session.execute(insert(Counter), [
        {"option_id": oid, "shard": 0, "programme_id": poll.programme_id, "poll_id": poll.id, "n": 0}
        for oid in sorted(option_ids)])
    if seat_ids:
        db.session.execute(insert(EligibleSeat), [
            {"poll_id": poll.id, "seat_id": sid, "programme_id": poll.programme_id} for sid in seat_ids])
    poll.state = PollState.OPEN
    poll.opened_at = now
    poll.seal = secrets.token_hex(16)
    sealing.snapshot_key(poll, key)
    if poll.opens_at is None or poll.opens_at > now:
        poll.opens_at = now
    poll.eligible_count = len(seat_ids)
    db.session.flush()
    audit.record(poll.programme_id, actor, "poll.open", poll, kind=poll.kind, eligible=len(seat_ids))
    return poll


def add_eligible(poll_id: int, seat_id: int, programme_id: int, now: datetime | None = None) -> bool:
    """Make a seat eligible in an open poll (a secretary checking in at a review). True if it was added.

    Serialised against the close: the poll's lock, shared (salon.database.lock_poll), waits for a close in
    progress and makes a later close wait for it, yet never blocks ballots (they share it too); then FOR NO
    KEY UPDATE on the poll row, whose eligible count it changes, orders check-ins among themselves. Seats
    added after the close, or after the window ended, are refused, so `eligible_count` at the close is
    exactly who could vote. Adding a seat says nothing about any ballot."""
    now = now or clock.utcnow()
    lock_poll(poll_id, shared=True)
    poll = db.session.scalar(select(Poll).where(Poll.id == poll_id).with_for_update(key_share=True)
                             .execution_options(populate_existing=True))
    if poll is None or poll.programme_id != programme_id:
        raise NotFound(_("Not found."), "poll_id")
    if poll.state != PollState.OPEN or now >= poll.closes_at:
        raise Conflict(_("Voting has closed; check-in is over."), "poll")
    dialect = db.session.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    added = db.session.execute(
        dialect_insert(EligibleSeat).values(poll_id=poll.id, seat_id=seat_id, programme_id=programme_id)
        .on_conflict_do_nothing(), execution_options={"preserve_rowcount": True}).rowcount
    if added == 1:
        db.session.execute(update(Poll).where(Poll.id == poll.id)
                           .values(eligible_count=Poll.eligible_count + 1))
        db.session.refresh(poll)
    return added == 1


def remove_eligible(poll_id: int, seat_id: int, programme_id: int) -> bool:
    """Take a seat's eligibility back in an open poll (a seat marked present at a review by mistake) before it
    has voted. True if it was removed; Conflict on field "seat_id" once the seat has voted (its ballot stays
    counted), worded so as not to say why: the caller's page must not show who voted (SPEC §5).

    The poll's lock, exclusive, waits for any ballot of the poll in flight, so "has not voted" read after it
    holds until the commit: a ballot of the seat that starts later finds it no longer eligible."""
    lock_programme(programme_id)  # lock order: salon/database.py
    lock_poll(poll_id, shared=False)
    poll = db.session.scalar(select(Poll).where(Poll.id == poll_id).with_for_update()
                             .execution_options(populate_existing=True))
    if poll is None or poll.programme_id != programme_id:
        raise NotFound(_("Not found."), "poll_id")
    if poll.state != PollState.OPEN:
        raise Conflict(_("Voting has closed; the roll can no longer change."), "poll")
    if has_voted(poll_id, seat_id):
        raise Conflict(_("The roll can no longer be corrected for this community."), "seat_id")
    removed = db.session.execute(delete(EligibleSeat).where(EligibleSeat.poll_id == poll_id,
                                                            EligibleSeat.seat_id == seat_id),
                                 execution_options={"preserve_rowcount": True}).rowcount
    if removed == 1:
        db.session.execute(update(Poll).where(Poll.id == poll_id).values(eligible_count=Poll.eligible_count - 1))
        db.session.refresh(poll)
    return removed == 1
