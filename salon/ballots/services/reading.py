"""Reading a poll: whether a seat may vote and has voted, the turnout, and what a closed poll publishes
(receipts, results within SPEC §5) or tells the server alone (the full tally)."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from salon.ballots.models import (Counter, EligibleSeat, Option, Poll, PollState, Question, Receipt, SealedBallot,
                                  SealedKey, VoterRecord)
from salon.errors import Conflict
from salon.extensions import db
from salon.rows import get_scoped
from salon.rules import ballots as rules

from . import sealing


def get_poll(poll_id, programme_id: int) -> Poll:
    return get_scoped(Poll, poll_id, programme_id, "poll_id")


def has_voted(poll_id: int, seat_id: int | None) -> bool:
    if seat_id is None:
        return False
    return db.session.scalar(select(func.count()).select_from(VoterRecord).where(
        VoterRecord.poll_id == poll_id, VoterRecord.seat_id == seat_id)) > 0


def is_eligible(poll_id: int, seat_id: int | None) -> bool:
    if seat_id is None:
        return False
    return db.session.scalar(select(func.count()).select_from(EligibleSeat).where(
        EligibleSeat.poll_id == poll_id, EligibleSeat.seat_id == seat_id)) > 0


def turnout(poll_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(VoterRecord).where(VoterRecord.poll_id == poll_id))


def receipts(poll: Poll) -> list[str]:
    """The sorted receipt codes, published once the poll has closed; a sealed poll's are its ballots'
    fingerprints (SPEC §5.1), the same list as its bulletin board's."""
    if poll.state != PollState.CLOSED:
        return []
    if poll.sealed:
        return list(db.session.scalars(select(SealedBallot.fingerprint).where(SealedBallot.poll_id == poll.id)
                                       .order_by(SealedBallot.fingerprint)))
    return list(db.session.scalars(select(Receipt.code).where(Receipt.poll_id == poll.id).order_by(Receipt.code)))


@dataclass
class Results:
    state: PollState
    turnout: int
    eligible: int
    published: bool  # per-option counts shown (closed, and at least min_published ballots)
    counts: dict[int, int] = field(default_factory=dict)  # option id → n, when published
    blanks: dict[int, int] = field(default_factory=dict)  # question id → blank answers, when published
    ref_counts: dict[int, int] = field(default_factory=dict)  # option ref id → n, when published
    sealed: bool = False  # SPEC §5.1: the ballots are sealed
    awaiting_trustees: bool = False  # sealed, closed, and the trustees have not yet decrypted the sums
    blanks_counted: bool = True  # false for a sealed poll of protocol 1 with approval questions: none counted


def _counted(poll: Poll) -> bool:
    if not poll.sealed:
        return True
    return db.session.scalar(select(SealedKey.counted_at).where(SealedKey.poll_id == poll.id)) is not None


def _uncounted_blanks(poll: Poll) -> set[int]:
    """The questions whose blank answers a poll does not count: the approval questions of a sealed poll of protocol
    version 1, which had no blank position (services/sealing, docs/sealed-ballots.md "Versions")."""
    if sealing.counts_blanks(poll, rules.APPROVAL):
        return set()
    return set(db.session.scalars(select(Question.id).where(Question.poll_id == poll.id,
                                                            Question.kind == rules.APPROVAL)))


def results(poll: Poll) -> Results:
    """Counts stay hidden until the close; below the minimum only the turnout is shown (SPEC §5). A sealed
    poll's counts exist only once k trustees have decrypted its sums (SPEC §5.1)."""
    count = turnout(poll.id)
    closed = poll.state == PollState.CLOSED
    counted = closed and _counted(poll)
    published = counted and rules.counts_published(count, poll.min_published)
    out = Results(poll.state, count, poll.eligible_count, published, sealed=bool(poll.sealed),
                  awaiting_trustees=closed and not counted)
    if published:
        skip = _uncounted_blanks(poll)
        out.blanks_counted = not skip
        for option_id, question_id, ref_id, is_blank, n in db.session.execute(
                select(Option.id, Option.question_id, Option.ref_id, Option.is_blank, func.sum(Counter.n))
                .join(Counter, Counter.option_id == Option.id).where(Option.poll_id == poll.id)
                .group_by(Option.id, Option.question_id, Option.ref_id, Option.is_blank)):
            n = int(n or 0)
            if is_blank:
                if question_id not in skip:
                    out.blanks[question_id] = n
            else:
                out.counts[option_id] = n
                if ref_id is not None:
                    out.ref_counts[ref_id] = n
    return out


@dataclass
class Tally:
    """The count of a closed poll, for the server's own use (naming winners, finding ties, applying the
    re-election rule) whatever the publication minimum. What is *shown* still follows SPEC §5. A sealed poll
    below the minimum has only the counts its kind needs for its outcome (sealing.undecrypted): the others were
    never decrypted, and are absent here (their option ids in `undecrypted`)."""
    turnout: int
    eligible: int
    counts: dict[int, int]  # option id → n
    blanks: dict[int, int]  # question id → blank answers
    by_ref: dict[int, dict[int, int]]  # question id → {option ref id → n}
    by_code: dict[int, dict[str, int]]  # question id → {option code → n}
    undecrypted: set[int] = field(default_factory=set)  # option ids (blank options included) never decrypted


def tally(poll: Poll) -> Tally:
    if poll.state != PollState.CLOSED:
        raise Conflict(_("Voting is still open; decide after it closes."), "poll")
    if not _counted(poll):
        raise Conflict(_("The trustees have not yet decrypted this poll's count."), "poll")
    out = Tally(turnout(poll.id), poll.eligible_count, {}, {}, {}, {}, sealing.undecrypted_option_ids(poll))
    skip = _uncounted_blanks(poll)
    for option_id, question_id, ref_id, code, is_blank, n in db.session.execute(
            select(Option.id, Option.question_id, Option.ref_id, Option.code, Option.is_blank, func.sum(Counter.n))
            .join(Counter, Counter.option_id == Option.id).where(Option.poll_id == poll.id)
            .group_by(Option.id, Option.question_id, Option.ref_id, Option.code, Option.is_blank)):
        if option_id in out.undecrypted:
            continue
        n = int(n or 0)
        if is_blank:
            if question_id not in skip:
                out.blanks[question_id] = n
            continue
        out.counts[option_id] = n
        if ref_id is not None:
            out.by_ref.setdefault(question_id, {})[ref_id] = n
        if code is not None:
            out.by_code.setdefault(question_id, {})[code] = n
    return out


def question_results(poll: Poll, result: Results) -> list[dict]:
    """Per question: its options with their counts when published, and its blank answers."""
    return [{"question": q, "options": [(o, result.counts.get(o.id) if result.published else None)
                                        for o in q.options],
             "blank": result.blanks.get(q.id) if result.published else None} for q in poll.questions]
