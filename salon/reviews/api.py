"""API: the half-year review — open, roll, QR check-in, close, and the result with the rule's arithmetic.
Ballots are cast through /polls/<id>/ballot, the engine's."""
from __future__ import annotations

from flask import Response, g
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import fields, validate

from salon.accounts.auth import require_bureau
from salon.api import next_page_headers
from salon.errors import Conflict
from salon.exports import EXPORT_DOC, table_response
from salon.reviews.models import ReviewState
from salon.api.schemas import (NEXT_PAGE_HEADERS, ActionLineSchema, DateTime, ResolutionLineSchema, Strict,
                                page_query)
from salon.reviews.models import REASON_MAX
from salon.ballots.schemas import PollSchema, poll_payload
from salon.errors import Forbidden
from salon.reviews import services
from salon.reviews.document import review_pdf

blp = Blueprint("api_reviews", __name__, description="The half-year review and the re-election rule")


class TopicRowSchema(Strict):
    session_id = fields.Int()
    number = fields.Int(allow_none=True)
    title = fields.Str()
    counts = fields.Dict(keys=fields.Str(), values=fields.Int(), allow_none=True, metadata={
        "description": "effective / partly / not_effective / no_view; null when withheld (SPEC §5)"})
    no_answer = fields.Int(allow_none=True, metadata={
        "description": "ballots that left this topic unanswered; with counts it adds up to the turnout"})
    resolutions = fields.List(fields.Nested(ResolutionLineSchema), metadata={
        "description": "the session's resolutions"})
    actions = fields.List(fields.Nested(ActionLineSchema), metadata={
        "description": "the session's action items and how far each got"})


class ApartSchema(Strict):
    session_id = fields.Int()
    number = fields.Int(allow_none=True)
    title = fields.Str()
    decided_by = fields.Str(metadata={"description": "bureau or other_term (an earlier committee)"})


class ReviewSchema(Strict):
    id = fields.Int()
    state = fields.Str(metadata={"description": "open or closed"})
    early_reason = fields.Str(metadata={"description": "why it was held early; empty when held in time"})
    present_seat_ids = fields.List(fields.Int(), metadata={"description": "the seats on the roll"})
    turnout = fields.Int(metadata={"description": "ballots cast"})
    apart = fields.List(fields.Nested(ApartSchema), metadata={
        "description": "topics of the period listed apart, not judged (SPEC §4.1)"})
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


class OpenReviewSchema(Strict):
    reason = fields.Str(validate=validate.Length(max=REASON_MAX), metadata={
        "description": "why the review is held now; required when it opens earlier than 14 days before it falls "
                       "due (SPEC §4.1)"})
    confirm_empty = fields.Bool(load_default=False, metadata={
        "description": "open even though no topic decided by the committee was held in the period (without it, "
                       "such a review is refused with 409)"})


class ReviewListItemSchema(Strict):
    id = fields.Int()
    state = fields.Str(metadata={"description": "open or closed"})
    opened_at = DateTime()
    closed_at = DateTime(allow_none=True)
    period_start = DateTime()
    period_end = DateTime()
    early_reason = fields.Str()
    present = fields.Int(allow_none=True)
    oppose = fields.Int(allow_none=True)
    outcome = fields.Str(allow_none=True, metadata={"description": "stands, triggered (re-election) or void"})
    election_id = fields.Int(allow_none=True)


ReviewPageQuery = page_query("ReviewPageQuery", "reviews", "newest")


class RollOffSchema(Strict):
    seat_id = fields.Int(strict=True, required=True, metadata={"description": "a seat on the roll that has not voted"})
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=REASON_MAX))


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
            "early_reason": review.early_reason or "", "present_seat_ids": view.present_seats,
            "turnout": view.results.turnout,
            "apart": [{"session_id": a.session_id, "number": a.number, "title": a.title, "decided_by": a.decided_by}
                      for a in view.apart],
            "topics": [{"session_id": t.session_id, "number": t.number, "title": t.title, "counts": t.counts,
                        "no_answer": t.no_answer,
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
    @blp.arguments(ReviewPageQuery, location="query")
    @blp.response(200, ReviewListItemSchema(many=True), headers=NEXT_PAGE_HEADERS)
    def get(self, args):
        """The programme's reviews, newest first, a page at a time (cursor pagination: follow the X-Next-Cursor
        header, or the Link header, until it is absent)."""
        services.advance(g.api_user.programme)
        page, last = services.review_page(g.api_user.programme_id, args["cursor"], args["limit"])
        return ([{"id": r.id, "state": r.state.value, "opened_at": r.opened_at, "closed_at": r.closed_at,
                  "period_start": r.period_start, "period_end": r.period_end, "early_reason": r.early_reason or "",
                  "present": r.present, "oppose": r.oppose, "outcome": r.outcome, "election_id": r.election_id}
                 for r in page], 200, next_page_headers(last and last.id, args["limit"], "api_reviews.Reviews"))

    @blp.arguments(OpenReviewSchema, required=False)
    @blp.response(201, ReviewSchema)
    def post(self, data):
        """Hold the half-year review now (bureau): the ballot opens; attendance makes seats eligible. From 14
        days before it falls due; earlier needs `reason`; one per period (a void one is held again). With no
        topic to judge it needs `confirm_empty` (409 otherwise)."""
        me = require_bureau()
        data = data or {}
        return _out(services.open_review(me.programme, me, reason=data.get("reason", ""),
                                         confirm_empty=data.get("confirm_empty", False)), me)


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


@blp.route("/reviews/<int:review_id>/roll/off")
class ReviewRollOff(MethodView):
    @blp.arguments(RollOffSchema)
    @blp.response(200, ReviewSchema)
    def post(self, data, review_id):
        """Take a seat off the roll with a reason (the bureau or the chair), until that seat has voted (409)."""
        review = _review(review_id)
        services.take_off_roll(review, g.api_user, data["seat_id"], data["reason"])
        return _out(review, g.api_user)


@blp.route("/reviews/<int:review_id>/checkin-token")
class ReviewCheckinToken(MethodView):
    @blp.response(200, CheckinTokenSchema)
    def get(self, review_id):
        """The signed check-in token behind the QR code (the bureau or the chair)."""
        review = _review(review_id)
        if not services.can_take_roll(g.api_user, review):
            raise Forbidden(_("Only the bureau and the chair take the roll."), "review")
        if not services.checkin_open(review):
            raise Conflict(_("Check-in for this review has closed: there is no code to scan."), "review")
        return {"review_id": review.id, "token": services.checkin_token(review),
                "valid_hours": services.checkin_hours(review)}


@blp.route("/reviews/checkin")
class ReviewCheckin(MethodView):
    @blp.arguments(CheckinSchema)
    @blp.response(200, ReviewSchema)
    def post(self, data):
        """Check my seat in with the token from the QR code (once per seat)."""
        programme = g.api_user.programme
        review = services.review_of_token(data["token"], programme.id)
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
                              f"review-{review.id}", fmt, _("Half-year review"),
                              services.export_heading(review, me.programme))
