"""API: a poll, casting a ballot, the published receipts. Generic: topic votes, reviews and elections."""
from __future__ import annotations

from flask import g
from flask_babel import gettext as _
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError, fields, validates_schema

from salon import clock
from salon.api.schemas import Strict
from salon.ballots import services
from salon.ballots.models import Poll
from salon.ballots.schemas import BoardSchema, PollSchema, poll_payload

blp = Blueprint("api_ballots", __name__, description="Secret ballots: polls, casting, receipts")


class BallotSchema(Strict):
    """Either `choices` or, for a sealed poll (its `sealed` seal spec is not null), `sealed`."""
    choices = fields.List(fields.Int(strict=True), metadata={
        "description": "Option ids. A question with none chosen is answered blank; [] is a blank ballot. On a "
                       "sealed poll the server seals them (marked sealed_by server on the bulletin board)."})
    sealed = fields.Dict(metadata={
        "description": "A sealed ballot (docs/sealed-ballots.md, \"Ballot\"), made from the poll's seal spec by "
                       "`salon ballot seal` or the client module; only for a sealed poll."})

    @validates_schema
    def one_of(self, data, **_kwargs):
        if ("choices" in data) == ("sealed" in data):
            raise ValidationError(_("Send either the choices or a sealed ballot."), "choices")


class ReceiptSchema(Strict):
    """The same length in bytes whatever was chosen (docs/secrecy-leaks.md): the receipt code has a fixed form,
    so no padding field is needed; the answer is never compressed."""
    poll_id = fields.Int()
    receipt = fields.Str(metadata={"description": "Keep it: it appears in the list published at the close. On a "
                                                  "sealed poll, the ballot's fingerprint (64 hex characters)."})


class ReceiptListSchema(Strict):
    poll_id = fields.Int()
    state = fields.Str()
    turnout = fields.Int()
    receipts = fields.List(fields.Str(), metadata={"description": "Sorted; empty until the poll closes. A sealed "
                                                                  "poll's are its ballots' fingerprints."})


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

    # An instance, not the class: given a class, webargs builds a new schema on every request (8% of a ballot).
    @blp.arguments(BallotSchema())
    @blp.response(201, ReceiptSchema)
    def post(self, data, poll_id):
        """Cast my seat's ballot. Final: a second ballot for the seat gets 409. Answers the receipt: the sealed ballot's fingerprint."""
        user = g.api_user
        seat_id = g.api_seat_id if user.is_secretary else None
        code = services.cast(poll_id, seat_id, data.get("choices"), user.programme_id, sealed=data.get("sealed"))
        return {"poll_id": poll_id, "receipt": code}


@blp.route("/polls/<int:poll_id>/receipts")
class PollReceipts(MethodView):
    @blp.response(200, ReceiptListSchema)
    def get(self, poll_id):
        """The sorted receipt codes, published when the poll closes; as many as the turnout."""
        poll = _poll(poll_id)
        return {"poll_id": poll.id, "state": poll.state.value, "turnout": services.turnout(poll.id),
                "receipts": services.receipts(poll)}


@blp.route("/polls/<int:poll_id>/board")
class PollBoard(MethodView):
    @blp.response(200, BoardSchema)
    def get(self, poll_id):
        """A sealed poll's bulletin board (SPEC §5.1; format salon-sealed-board-2): every sealed ballot by
        fingerprint, the key, the encrypted tally, the trustees' proven decryptions and the result, once the
        poll is counted; below the publication minimum the sums never decrypted are marked `withheld` (their
        factors and counts null). `tools/verify_board.py` and `salon verify` check it. 404 for a poll whose
        ballots are not sealed, 409 before it is counted."""
        poll = services.get_sealed_poll(_poll(poll_id).id, g.api_user.programme_id)
        return services.published_board(poll)
