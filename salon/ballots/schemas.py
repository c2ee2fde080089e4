"""A poll as the API shows it, with its questions, options and (once published) results: the one schema and
payload of every API that answers with a poll (the engine's own routes, topic votes, elections, reviews). The
ballot engine offers it to the rooms that run polls, so a poll has one component in the OpenAPI document."""
from __future__ import annotations

from marshmallow import fields

from salon.api.schemas import DateTime, Strict
from salon.ballots import services
from salon.ballots.models import Poll
from salon.programmes.services import seat_of


class OptionSchema(Strict):
    id = fields.Int()
    label = fields.Str(metadata={"description": "in the reader's language when the option has a code"})
    code = fields.Str(allow_none=True, metadata={"description": "stable, e.g. oppose, effective"})
    ref_id = fields.Int(allow_none=True, metadata={"description": "e.g. the nomination, for a topic poll"})


class QuestionSchema(Strict):
    id = fields.Int()
    text = fields.Str()
    code = fields.Str(allow_none=True)
    ref_id = fields.Int(allow_none=True, metadata={"description": "e.g. the topic a review question asks about"})
    kind = fields.Str(metadata={"description": "approval (choose up to max_choices) or single"})
    max_choices = fields.Int()
    options = fields.List(fields.Nested(OptionSchema))


class CountSchema(Strict):
    option_id = fields.Int()
    n = fields.Int()


class BlankSchema(Strict):
    question_id = fields.Int()
    n = fields.Int()


class ResultsSchema(Strict):
    published = fields.Bool(metadata={"description": "false until the close, and below the minimum ballots"})
    turnout = fields.Int()
    eligible = fields.Int()
    counts = fields.List(fields.Nested(CountSchema))
    blank = fields.Int(metadata={"description": "blank answers, summed over the questions"})
    blanks = fields.List(fields.Nested(BlankSchema), metadata={"description": "blank answers per question"})


class PollSchema(Strict):
    id = fields.Int()
    kind = fields.Str()
    subject_id = fields.Int(allow_none=True)
    title = fields.Str()
    state = fields.Str()
    opens_at = DateTime(allow_none=True)
    closes_at = DateTime()
    i_may_vote = fields.Bool()
    i_voted = fields.Bool()
    questions = fields.List(fields.Nested(QuestionSchema))
    results = fields.Nested(ResultsSchema)


def poll_payload(poll: Poll, user) -> dict:
    seat = seat_of(user) if user.is_secretary else None
    result = services.results(poll)
    return {
        "id": poll.id, "kind": poll.kind, "subject_id": poll.subject_id, "title": services.poll_title(poll),
        "state": poll.state.value, "opens_at": poll.opens_at, "closes_at": poll.closes_at,
        "i_may_vote": services.is_eligible(poll.id, seat.id if seat else None),
        "i_voted": services.has_voted(poll.id, seat.id if seat else None),
        "questions": [{"id": q.id, "text": services.question_text(q), "code": q.code, "ref_id": q.ref_id,
                       "kind": q.kind, "max_choices": q.max_choices,
                       "options": [{"id": o.id, "label": services.option_label(o), "code": o.code,
                                    "ref_id": o.ref_id} for o in q.options]}
                      for q in poll.questions],
        "results": {"published": result.published, "turnout": result.turnout, "eligible": result.eligible,
                    "counts": [{"option_id": k, "n": v} for k, v in sorted(result.counts.items())],
                    "blank": sum(result.blanks.values()),
                    "blanks": [{"question_id": k, "n": v} for k, v in sorted(result.blanks.items())]},
    }
