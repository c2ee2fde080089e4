"""API: a poll, casting a ballot, the published receipts. Generic: topic votes, reviews and elections."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from salon import clock
from salon.api.schemas import DateTime, Strict
from salon.ballots import fast, services
from salon.ballots.models import Poll
from salon.programmes.services import seat_of

blp = Blueprint("api_ballots", __name__, description="Secret ballots: polls, casting, receipts")


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


class BallotSchema(Strict):
    choices = fields.List(fields.Int(strict=True), required=True, metadata={
        "description": "Option ids. A question with none chosen is answered blank; [] is a blank ballot."})


class ReceiptSchema(Strict):
    """The same length in bytes whatever was chosen (docs/secrecy-leaks.md): the receipt code has a fixed form,
    so no padding field is needed; the answer is never compressed."""
    poll_id = fields.Int()
    receipt = fields.Str(metadata={"description": "Keep it: it appears in the list published at the close."})


class ReceiptListSchema(Strict):
    poll_id = fields.Int()
    state = fields.Str()
    turnout = fields.Int()
    receipts = fields.List(fields.Str(), metadata={"description": "Sorted; empty until the poll closes."})


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


def _poll(poll_id) -> Poll:
    services.close_due(clock.utcnow(), g.api_user.programme_id)
    return services.get_poll(poll_id, g.api_user.programme_id)


@blp.route("/polls/<int:poll_id>")
class PollItem(MethodView):
    @blp.response(200, PollSchema)
    def get(self, poll_id):
        """A poll: its questions, its state, whether I voted; counts once it has closed."""
        return poll_payload(_poll(poll_id), g.api_user)


@blp.route("/polls/<int:poll_id>/ballot")
class PollBallot(MethodView):
    # The hottest request of a vote needs only who holds which seat: the token check reads that as plain
    # values (a TokenHolder) instead of loading a User (see salon.accounts.auth.authenticate_api and services.cast).
    seat_only = True
    # On PostgreSQL the common case is answered before any of the above, in one statement (salon.ballots.fast).
    fast_path = staticmethod(fast.answer)

    # An instance, not the class: given a class, webargs builds a new schema on every request (8% of a ballot).
    @blp.arguments(BallotSchema())
    @blp.response(201, ReceiptSchema)
    def post(self, data, poll_id):
        """Cast my seat's ballot. Final: a second ballot for the seat gets 409. Answers the receipt code."""
        user = g.api_user
        seat_id = g.api_seat_id if user.is_secretary else None
        code = services.cast(poll_id, seat_id, data["choices"], user.programme_id)
        return {"poll_id": poll_id, "receipt": code}


@blp.route("/polls/<int:poll_id>/receipts")
class PollReceipts(MethodView):
    @blp.response(200, ReceiptListSchema)
    def get(self, poll_id):
        """The sorted receipt codes, published when the poll closes; as many as the turnout."""
        poll = _poll(poll_id)
        return {"poll_id": poll.id, "state": poll.state.value, "turnout": services.turnout(poll.id),
                "receipts": services.receipts(poll)}
