"""API: the half-year review — open, roll, QR check-in, close, and the result with the rule's arithmetic.
Ballots are cast through /polls/<id>/ballot, the engine's."""
from __future__ import annotations

from flask import Response, g
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import fields

from salon.api import require_bureau
from salon.errors import Conflict
from salon.exports import EXPORT_DOC, table_response
from salon.reviews.models import ReviewState
from salon.api.schemas import DateTime, Strict
from salon.ballots.api import PollSchema, poll_payload
from salon.errors import Forbidden
from salon.reviews import services
from salon.reviews.document import review_pdf

blp = Blueprint("api_reviews", __name__, description="The half-year review and the re-election rule")


class TopicResolutionSchema(Strict):
    number = fields.Int()
    text = fields.Str()


class TopicActionSchema(Strict):
    what = fields.Str()
    owner_unit = fields.Str()
    due_on = fields.Date(allow_none=True)
    status = fields.Str(metadata={"description": "open, in_progress, done or dropped"})
    overdue = fields.Bool(metadata={"description": "due date passed in the programme's time zone, neither done "
                                                   "nor dropped"})


class TopicRowSchema(Strict):
    session_id = fields.Int()
    number = fields.Int(allow_none=True)
    title = fields.Str()
    counts = fields.Dict(keys=fields.Str(), values=fields.Int(), allow_none=True, metadata={
        "description": "effective / partly / not_effective / no_view; null when withheld (SPEC §5)"})
    resolutions = fields.List(fields.Nested(TopicResolutionSchema), metadata={
        "description": "the session's resolutions"})
    actions = fields.List(fields.Nested(TopicActionSchema), metadata={
        "description": "the session's action items and how far each got"})


class ReviewSchema(Strict):
    id = fields.Int()
    state = fields.Str(metadata={"description": "open or closed"})
    period_start = DateTime()
    period_end = DateTime()
    checkin_until = DateTime()
    present = fields.Int(allow_none=True, metadata={"description": "checked in at the close; always published"})
    oppose = fields.Int(allow_none=True, metadata={"description": "always published (the rule must be checkable)"})
    threshold_pct = fields.Int()
    quorum_required = fields.Bool()
    active_communities = fields.Int()
    outcome = fields.Str(allow_none=True, metadata={"description": "stands, triggered (re-election) or void"})
    arithmetic = fields.Str(metadata={"description": "the rule in words"})
    next_step = fields.Str()
    election_id = fields.Int(allow_none=True)
    present_count = fields.Int()
    i_present = fields.Bool()
    topics = fields.List(fields.Nested(TopicRowSchema))
    poll = fields.Nested(PollSchema)


class RollSchema(Strict):
    seat_ids = fields.List(fields.Int(strict=True), required=True)


class CheckinSchema(Strict):
    token = fields.Str(required=True, metadata={"description": "from the QR code's link"})


class CheckinTokenSchema(Strict):
    review_id = fields.Int()
    token = fields.Str()
    valid_hours = fields.Int()


def _out(review, user) -> dict:
    view = services.review_view(review, user)
    return {"id": review.id, "state": review.state.value, "period_start": review.period_start,
            "period_end": review.period_end, "checkin_until": review.checkin_until, "present": review.present,
            "oppose": review.oppose, "threshold_pct": review.threshold_pct, "quorum_required": review.quorum_required,
            "active_communities": review.active_communities, "outcome": review.outcome,
            "arithmetic": view.arithmetic, "next_step": view.next_step, "election_id": review.election_id,
            "present_count": len(view.present_seats), "i_present": view.i_present,
            "topics": [{"session_id": t.session_id, "number": t.number, "title": t.title, "counts": t.counts,
                        "resolutions": [{"number": r.number, "text": r.text}
                                        for r in (t.outcomes.resolutions if t.outcomes else [])],
                        "actions": [{"what": a.what, "owner_unit": a.owner_unit, "due_on": a.due_on,
                                     "status": a.status, "overdue": a.overdue}
                                    for a in (t.outcomes.actions if t.outcomes else [])]}
                       for t in view.topics],
            "poll": poll_payload(view.poll, user)}


def _review(review_id):
    return services.get_review(review_id, g.api_user.programme_id)


@blp.route("/reviews")
class Reviews(MethodView):
    @blp.response(201, ReviewSchema)
    def post(self):
        """Hold the half-year review now (bureau): the ballot opens; attendance makes seats eligible."""
        me = require_bureau()
        return _out(services.open_review(me.programme, me), me)


@blp.route("/reviews/<int:review_id>")
class ReviewItem(MethodView):
    @blp.response(200, ReviewSchema)
    def get(self, review_id):
        """A review: attendance so far, and once closed the counts, the arithmetic and what happens next."""
        return _out(_review(review_id), g.api_user)


@blp.route("/reviews/<int:review_id>/roll")
class ReviewRoll(MethodView):
    @blp.arguments(RollSchema)
    @blp.response(200, ReviewSchema)
    def post(self, data, review_id):
        """Mark seats present (the bureau or the chair)."""
        review = _review(review_id)
        services.take_roll(review, g.api_user, data["seat_ids"])
        return _out(review, g.api_user)


@blp.route("/reviews/<int:review_id>/checkin-token")
class ReviewCheckinToken(MethodView):
    @blp.response(200, CheckinTokenSchema)
    def get(self, review_id):
        """The signed check-in token behind the QR code (the bureau or the chair)."""
        review = _review(review_id)
        if not services.can_take_roll(g.api_user, review):
            raise Forbidden(_("Only the bureau and the chair take the roll."), "review")
        return {"review_id": review.id, "token": services.checkin_token(review),
                "valid_hours": g.api_user.programme.checkin_hours}


@blp.route("/reviews/checkin")
class ReviewCheckin(MethodView):
    @blp.arguments(CheckinSchema)
    @blp.response(200, ReviewSchema)
    def post(self, data):
        """Check my seat in with the token from the QR code (once per seat)."""
        programme = g.api_user.programme
        review = services.review_of_token(data["token"], programme.id, programme.checkin_hours)
        services.check_in(review, g.api_user)
        return _out(review, g.api_user)


@blp.route("/reviews/<int:review_id>/close")
class ReviewClose(MethodView):
    @blp.response(200, ReviewSchema)
    def post(self, review_id):
        """Close the review (bureau) and apply the rule: stands, re-election (an election opens) or void."""
        me = require_bureau()
        review = _review(review_id)
        services.close_review(review, me.programme, me)
        return _out(review, me)


@blp.route("/reviews/<int:review_id>/report.pdf")
class ReviewReportPdf(MethodView):
    @blp.response(200, content_type="application/pdf",
                  description="The review report as an A4 PDF with its Chinese font embedded")
    @blp.doc(responses={"200": {"description": "The review report as an A4 PDF with its Chinese font embedded",
                                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self, review_id):
        """The printable report as a PDF: the rule's arithmetic, per-topic effectiveness (counts only where
        published), each topic's resolutions and action items."""
        review = _review(review_id)
        content = review_pdf(services.review_view(review, g.api_user), g.api_user.programme)
        return Response(content, mimetype="application/pdf",
                        headers={"Content-Disposition": f"inline; filename=review-{review.id}.pdf"})


@blp.route("/reviews/<int:review_id>/export.<any(csv, xlsx):fmt>")
class ReviewExport(MethodView):
    @blp.response(200, content_type="text/csv", description=EXPORT_DOC["200"]["description"])
    @blp.doc(responses=EXPORT_DOC)
    def get(self, review_id, fmt):
        """The closed review for the bureau's records as CSV or XLSX (bureau), as on the review page: present,
        oppose and the arithmetic always; other counts only where SPEC §5 publishes them."""
        me = require_bureau()
        review = _review(review_id)
        if review.state != ReviewState.CLOSED:
            raise Conflict(_("Export once the review has closed."), "review")
        return table_response(services.export_rows(review, services.review_view(review, me)),
                              f"review-{review.id}", fmt)
