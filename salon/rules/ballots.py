"""Rules of a secret ballot (SPEC §5): what a valid ballot is, and what a closed poll may publish."""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

APPROVAL = "approval"
SINGLE = "single"


@dataclass(frozen=True)
class QuestionShape:
    id: int
    kind: str  # APPROVAL or SINGLE
    max_choices: int  # K for approval; 1 for single choice
    option_ids: frozenset[int]


class BallotRejected(ValueError):
    """`reason` is a stable code; `question_id` the question at fault, when there is one."""

    def __init__(self, reason: str, question_id: int | None = None, limit: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.question_id = question_id
        self.limit = limit


def sort_ballot(questions: list[QuestionShape], choices: list[int]) -> dict[int, list[int]]:
    """Group the chosen option ids by question. A question with no choice is answered blank.

    Approval: 0 (blank) or 1..K options. Single choice: 0 (blank) or 1. Each option at most once."""
    if len(set(choices)) != len(choices):
        raise BallotRejected("duplicate")
    owner = {option_id: q for q in questions for option_id in q.option_ids}
    answers: dict[int, list[int]] = {q.id: [] for q in questions}
    for option_id in choices:
        question = owner.get(option_id)
        if question is None:
            raise BallotRejected("unknown_option")
        answers[question.id].append(option_id)
    for question in questions:
        chosen = len(answers[question.id])
        limit = question.max_choices if question.kind == APPROVAL else 1
        if chosen > limit:
            raise BallotRejected("too_many", question.id, limit)
    return answers


def window_open(opens_at: datetime | None, closes_at: datetime | None, now: datetime) -> bool:
    """A window includes its first moment and excludes its closing moment."""
    return (opens_at is None or opens_at <= now) and (closes_at is None or now < closes_at)


def counts_published(turnout: int, min_published: int) -> bool:
    """Below the minimum, per-option counts stay withheld and only the turnout is shown (SPEC §5)."""
    return turnout >= min_published


EVERY_OPTION = "*"  # in a kind's needs below the minimum: every option of the question (not BLANK_ANSWER)
BLANK_ANSWER = "*blank"  # the option code of a sealed approval question's blank position (protocol version 2)


def left_out_below_minimum(turnout: int, min_published: int,
                           positions: Sequence[Sequence[tuple[str | None, str | None]]],
                           kept: Collection[tuple[str, str]]) -> list[list[bool]]:
    """Which sums of a sealed poll's tally are left out (SPEC §5, §5.1): none when the counts are published;
    below the minimum, every sum except those in `kept`. Asked twice of a poll: with what its kind must decrypt
    to reach its outcome (out: never decrypted, by any trustee), and with what SPEC publishes below the minimum
    (out: withheld, null on the bulletin board).

    `positions[q][o]` is (question code, option code) of each ballot position (None for an uncoded one or a
    single-choice question's blank answer, BLANK_ANSWER for an approval question's blank position); `kept` holds
    (question code, option code) pairs, EVERY_OPTION for all options of a question — not its BLANK_ANSWER,
    which an outcome never needs (an election below the minimum decrypts its candidates, not its blank count).
    Decrypted: a topic vote nothing (the decider had no tally to follow), an election its approval question's
    options (who won, and a tie for the last seat, need every count), a review its overall question's oppose
    (the rule). Published: a review's oppose; nothing else."""
    if counts_published(turnout, min_published):
        return [[False] * len(row) for row in positions]
    return [[not (question is not None and (((question, EVERY_OPTION) in kept and option != BLANK_ANSWER)
                                            or (option is not None and (question, option) in kept)))
             for question, option in row] for row in positions]
