"""What this process keeps of the polls open: each opening's shape (its questions and options, cached by its
seal), against which plain choices are checked before the server seals them."""
from __future__ import annotations

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
