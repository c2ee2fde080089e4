"""What this process keeps of the polls open, and the counting both ballot paths share: each opening's shape
(its questions and options, cached by its seal), the polls seen open (what the fast path, salon.ballots.fast,
checks a ballot against), the counter shards a ballot picks, and the counting SQL (COUNT_CTES)."""
from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import select

from salon.ballots.models import Option, Question
from salon.extensions import db
from salon.rules import ballots as rules


@dataclass(frozen=True)
class Shape:
    questions: tuple[rules.QuestionShape, ...]
    blank_of: dict[int, int]  # question id → its blank option


_shapes: OrderedDict = OrderedDict()


def _shape(poll_id: int, key) -> Shape:
    """Questions and options never change once a poll is open, so their shape is cached per open poll."""
    cached = _shapes.get(key)
    if cached is not None:
        return cached
    rows = db.session.execute(
        select(Question.id, Question.kind, Question.max_choices, Option.id, Option.is_blank)
        .join(Option, Option.question_id == Question.id).where(Question.poll_id == poll_id)).all()
    by_question: dict[int, tuple] = {}
    options: dict[int, set] = {}
    blank_of: dict[int, int] = {}
    for qid, kind, max_choices, oid, is_blank in rows:
        by_question[qid] = (kind, max_choices)
        if is_blank:
            blank_of[qid] = oid
        else:
            options.setdefault(qid, set()).add(oid)
    shape = Shape(tuple(rules.QuestionShape(qid, kind, k, frozenset(options.get(qid, ())))
                        for qid, (kind, k) in sorted(by_question.items())), blank_of)
    _shapes[key] = shape
    while len(_shapes) > 512:
        _shapes.popitem(last=False)
    return shape


def cached_shape(seal: str) -> Shape | None:
    """The shape cached for an opening of a poll (its seal), if this process has read it."""
    return _shapes.get(seal) if seal else None


# Polls this process has seen open, poll id → (seal, counter_shards): what the fast path (fast.py) needs to
# check a ballot before its one statement, which re-checks both against the poll row under its lock.
_open_polls: OrderedDict = OrderedDict()


def open_poll_seal(poll_id: int) -> tuple[str, int] | None:
    return _open_polls.get(poll_id)


def _remember_open(poll_id: int, seal: str | None, counter_shards: int) -> None:
    if seal and _open_polls.get(poll_id) != (seal, counter_shards):
        _open_polls[poll_id] = (seal, counter_shards)
        while len(_open_polls) > 512:
            _open_polls.popitem(last=False)


def forget_open(poll_id: int) -> None:
    """What this process remembered of a poll turned out wrong (the poll row says otherwise: another database
    behind this process, as after a restore or in a test run): the next ballot reads the row again."""
    _open_polls.pop(poll_id, None)


def picks(answers: dict[int, list[int]], shape: Shape, counter_shards: int) -> tuple[list[int], list[int]]:
    """The counter rows a ballot adds one to: each chosen option (a question's blank option when it has
    none chosen), in key order, each with a shard picked at random."""
    increments = sorted(oid for qid, chosen in answers.items() for oid in (chosen or [shape.blank_of[qid]]))
    shards = counter_shards or 1
    if 256 % shards == 0:  # e.g. COUNTER_SHARDS = 16: one random byte per pick is uniform, one call for all
        return increments, [b % shards for b in secrets.token_bytes(len(increments))]
    return increments, [secrets.randbelow(shards) for _ in increments]


# The counting steps of a ballot's statement on PostgreSQL, shared by the regular path (record_and_count) and
# the fast path (salon.ballots.fast): only if the receipt CTE stored a receipt, lock the picked counter shards
# in key order (ORDER BY … FOR UPDATE: two ballots never wait for each other's rows in opposite orders) and add
# one to each. Parameters: options, shards (integer array literals).
COUNT_CTES = (
    " picked AS (SELECT option_id, shard FROM ballot_counters"
    " WHERE option_id = ANY(CAST(%(options)s AS integer[]))"  # the primary key's prefix: an index scan
    " AND (option_id, shard) IN (SELECT * FROM unnest(CAST(%(options)s AS integer[]),"
    " CAST(%(shards)s AS integer[])))"
    " AND EXISTS (SELECT 1 FROM receipt)"
    " ORDER BY option_id, shard FOR UPDATE),"
    " counted AS (UPDATE ballot_counters AS c SET n = c.n + 1 FROM picked"
    " WHERE c.option_id = picked.option_id AND c.shard = picked.shard RETURNING 1)")
