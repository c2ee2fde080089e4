"""API: a poll, casting a ballot, the published receipts. Generic: topic votes, reviews and elections."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from salon import clock
from salon.api.schemas import Strict
from salon.ballots import fast, services
from salon.ballots.models import Poll
from salon.ballots.schemas import PollSchema, poll_payload

blp = Blueprint("api_ballots", __name__, description="Secret ballots: polls, casting, receipts")


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
