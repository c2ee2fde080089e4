"""API: the sitting committee, elections (standing, voting, runoff, lot) and committee picks. Ballots are
cast through /polls/<id>/ballot, the engine's, like every poll."""
from __future__ import annotations

from flask import g
from flask_babel import gettext as _
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from salon.accounts.auth import require_bureau
from salon.api import next_page_headers
from salon.committee.models import ElectionState
from salon.errors import Conflict
from salon.exports import EXPORT_DOC, table_response
from salon.api.schemas import NEXT_PAGE_HEADERS, DateTime, Strict, page_query
from salon.schedule import services as schedule
from salon.ballots.schemas import PollSchema, poll_payload
from salon.committee import services
from salon.committee.services import EXTEND_MAX_DAYS
from salon.topics import services as topics
from salon.topics import limits as topic_limits

blp = Blueprint("api_committee", __name__, description="The committee: elections and committee picks")


class MemberSchema(Strict):
    seat_id = fields.Int()
    community = fields.Str()
    name = fields.Str(allow_none=True)


class PlaceSchema(Strict):
    seat_id = fields.Int()
    community = fields.Str()
    name = fields.Str(allow_none=True)
    joined_how = fields.Str(metadata={"description": "elected, moved_up (into a vacancy) or by_election"})
    joined_at = DateTime(allow_none=True)
    replaces = fields.Str(allow_none=True, metadata={"description": "the community whose member's place it filled"})
    left_at = DateTime(allow_none=True)
    left_reason = fields.Str(allow_none=True, metadata={"description": "handover or community_left"})


class CommitteeSchema(Strict):
    sitting = fields.Bool()
    started_at = DateTime(allow_none=True)
    ends_at = DateTime(allow_none=True, metadata={"description": "a fixed term's end (SPEC §4.1); null: until recalled"})
    can_decide = fields.Bool(metadata={"description": "at least 2 members sit (SPEC §4.1)"})
    members = fields.List(fields.Nested(MemberSchema), metadata={"description": "those sitting now"})
    places = fields.List(fields.Nested(PlaceSchema), metadata={
        "description": "every place of the term: who sat, who left and why, who moved up"})
    bureau_decides_because = fields.Str(metadata={"description": "empty while a committee sits"})
    election_id = fields.Int(allow_none=True, metadata={"description": "the election under way, if any"})
    first_election_due = fields.Bool()


class CandidateSchema(Strict):
    seat_id = fields.Int(required=True, strict=True)
    community = fields.Str(dump_only=True)
    name = fields.Str(dump_only=True, allow_none=True)
    stands = fields.Bool(dump_only=True, metadata={"description": "accepted the nomination"})


class LotRowSchema(Strict):
    seat_id = fields.Int()
    public_id = fields.Str(metadata={"description": "the community's name at the draw"})
    digest = fields.Str()
    drawn = fields.Bool()
    command = fields.Str(metadata={"description": "a shell line that recomputes the digest with sha256sum"})


class OpenElectionSchema(Strict):
    reason = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(services.REASONS), metadata={
        "description": "first or recall (no committee sits); term_end, early (needs note) or by_election while one "
                       "sits; by default the first the rules allow"})
    note = fields.Str(load_default="", validate=validate.Length(max=services.NOTE_MAX),
                      metadata={"description": "why an early election is called (shown on the committee page)"})


class ElectionSchema(Strict):
    id = fields.Int()
    state = fields.Str(metadata={"description": "standing, voting, runoff, closed"})
    seats = fields.Int()
    standing_until = DateTime()
    candidates = fields.List(fields.Nested(CandidateSchema))
    poll = fields.Nested(PollSchema, allow_none=True)
    runoff = fields.Nested(PollSchema, allow_none=True)
    runoff_seats = fields.Int()
    elected = fields.List(fields.Nested(MemberSchema))
    reason = fields.Str(metadata={"description": "first, recall, term_end, early, by_election"})
    note = fields.Str(metadata={"description": "the bureau's reason for an early election"})
    lot_seed = fields.Str(allow_none=True, metadata={
        "description": "SHA-256 (hex) of lot_seed_text (SPEC §4.1)"})
    lot_seed_text = fields.Str(metadata={
        "description": "the lines the seed hashes: 'election <id>', the runoff's close (UTC), its sorted receipt codes"})
    lot_candidates = fields.List(fields.Int(), metadata={"description": "tied seat ids"})
    lot = fields.List(fields.Nested(LotRowSchema), metadata={
        "description": "the tied candidates by SHA-256(lot_seed + ':' + public_id), lowest first; the first "
                       "lot_seats are drawn"})
    lot_seats = fields.Int(metadata={
        "description": "seats drawn by lot: runoff_seats less those the runoff settled outright (0 without a lot)"})


class ExtendSchema(Strict):
    days = fields.Int(required=True, strict=True, validate=validate.Range(1, EXTEND_MAX_DAYS))


class OpenVoteSchema(Strict):
    fewer_ok = fields.Bool(load_default=False, metadata={"description": "open with fewer candidates than seats"})


class PickSchema(Strict):
    nomination_id = fields.Int(required=True, strict=True)
    rationale = fields.Str(load_default="", validate=validate.Length(max=topic_limits.RATIONALE.max))
    member = fields.Str(dump_only=True, metadata={"description": "signed by name"})
    picked_at = DateTime(dump_only=True)


class PicksSchema(Strict):
    session_id = fields.Int()
    decider = fields.Str()
    decided_nomination_id = fields.Int(allow_none=True)
    picks = fields.List(fields.Nested(PickSchema))


def _member(m) -> dict:
    return {"seat_id": m.seat_id, "community": m.seat.community.name, "name": m.user.display_name if m.user else None}


def _election_out(election, user) -> dict:
    view = services.election_view(election, user)
    return {"id": election.id, "state": election.state.value, "seats": election.seats,
            "standing_until": election.standing_until,
            "candidates": [{"seat_id": c.seat_id, "community": c.seat.community.name,
                            "name": c.user.display_name if c.user else None, "stands": c.accepted_at is not None}
                           for c in view.candidates],
            "poll": poll_payload(view.poll, user) if view.poll else None,
            "runoff": poll_payload(view.runoff, user) if view.runoff else None,
            "runoff_seats": election.runoff_seats,
            "elected": [_member(m) for m in view.seated],
            "reason": election.reason, "note": election.note or "",
            "lot_seed": election.lot_seed, "lot_seed_text": view.lot_seed_text, "lot_candidates": view.lot_candidates,
            "lot": [vars(row) for row in view.lot_rows], "lot_seats": view.lot_seats}


def _election(election_id):
    return services.get_election(election_id, g.api_user.programme_id)


@blp.route("/committee")
class Committee(MethodView):
    @blp.response(200, CommitteeSchema)
    def get(self):
        """The sitting committee, or why the bureau decides meanwhile."""
        programme = g.api_user.programme
        services.advance(programme)
        standing = services.standing(programme.id)
        return {"sitting": standing.term is not None,
                "started_at": standing.term.started_at if standing.term else None,
                "ends_at": standing.term.ends_at if standing.term else None, "can_decide": standing.can_decide,
                "places": [{**_member(m), "joined_how": m.joined_how, "joined_at": m.joined_at,
                            "replaces": m.replaces.seat.community.name if m.replaces else None,
                            "left_at": m.left_at, "left_reason": m.left_reason}
                           for m in (standing.history if standing.term else [])],
                "members": [_member(m) for m in standing.members], "bureau_decides_because": standing.reason,
                "election_id": standing.election.id if standing.election else None,
                "first_election_due": services.first_election_due(programme)}


class ElectionListItemSchema(Strict):
    id = fields.Int()
    state = fields.Str(metadata={"description": "standing, voting, runoff, closed"})
    reason = fields.Str(metadata={"description": "why it was held: first, recall, term_end"})
    seats = fields.Int()
    standing_until = DateTime()
    created_at = DateTime()
    closed_at = DateTime(allow_none=True)


ElectionPageQuery = page_query("ElectionPageQuery", "elections", "newest")


@blp.route("/elections")
class Elections(MethodView):
    @blp.arguments(ElectionPageQuery, location="query")
    @blp.response(200, ElectionListItemSchema(many=True), headers=NEXT_PAGE_HEADERS)
    def get(self, args):
        """The programme's elections, newest first, a page at a time (cursor pagination: follow the
        X-Next-Cursor header, or the Link header, until it is absent)."""
        services.advance(g.api_user.programme)
        page, last = services.election_page(g.api_user.programme_id, args["cursor"], args["limit"])
        return ([{"id": e.id, "state": e.state.value, "reason": e.reason, "seats": e.seats,
                  "standing_until": e.standing_until, "created_at": e.created_at, "closed_at": e.closed_at}
                 for e in page], 200, next_page_headers(last and last.id, args["limit"], "api_committee.Elections"))

    @blp.arguments(OpenElectionSchema)
    @blp.response(201, ElectionSchema)
    def post(self, data):
        """Open a committee election (bureau); secretaries then stand. While a committee sits: the next one from
        a month before a fixed term ends, an early one with a note, or a by-election for vacant places."""
        me = require_bureau()
        return _election_out(services.open_election(me.programme, me, reason=data["reason"], note=data["note"]), me)


@blp.route("/elections/<int:election_id>")
class ElectionItem(MethodView):
    @blp.response(200, ElectionSchema)
    def get(self, election_id):
        """An election: candidates, its ballot and runoff, the elected, the lot's seed."""
        return _election_out(_election(election_id), g.api_user)


@blp.route("/elections/<int:election_id>/candidates")
class ElectionCandidates(MethodView):
    @blp.arguments(CandidateSchema)
    @blp.response(201, ElectionSchema)
    def post(self, data, election_id):
        """Nominate a secretary (a secretary; your own seat: you stand at once)."""
        election = _election(election_id)
        services.nominate(election, g.api_user, data["seat_id"])
        return _election_out(election, g.api_user)


@blp.route("/elections/<int:election_id>/accept")
class ElectionAccept(MethodView):
    @blp.response(200, ElectionSchema)
    def post(self, election_id):
        """Accept my nomination: I stand."""
        election = _election(election_id)
        services.accept(election, g.api_user)
        return _election_out(election, g.api_user)


@blp.route("/elections/<int:election_id>/extend")
class ElectionExtend(MethodView):
    @blp.arguments(ExtendSchema)
    @blp.response(200, ElectionSchema)
    def post(self, data, election_id):
        """Extend standing (bureau), e.g. when fewer candidates than seats stand."""
        me = require_bureau()
        election = _election(election_id)
        services.extend_standing(election, me, data["days"])
        return _election_out(election, me)


@blp.route("/elections/<int:election_id>/voting/open")
class ElectionVotingOpen(MethodView):
    @blp.arguments(OpenVoteSchema)
    @blp.response(200, ElectionSchema)
    def post(self, data, election_id):
        """Open the approval ballot over those who stand (bureau). 409 with fewer candidates than seats
        unless fewer_ok."""
        me = require_bureau()
        election = _election(election_id)
        services.open_vote(election, me.programme, me, fewer_ok=data["fewer_ok"])
        return _election_out(election, me)


@blp.route("/elections/<int:election_id>/voting/close")
class ElectionVotingClose(MethodView):
    @blp.response(200, ElectionSchema)
    def post(self, election_id):
        """Close the open ballot (or runoff) now and count it (bureau)."""
        me = require_bureau()
        election = _election(election_id)
        services.close_vote(election, me.programme, me)
        return _election_out(election, me)


@blp.route("/elections/<int:election_id>/export.<any(csv, xlsx):fmt>")
class ElectionExport(MethodView):
    @blp.response(200, content_type="text/csv", description=EXPORT_DOC["200"]["description"])
    @blp.doc(responses=EXPORT_DOC)
    def get(self, election_id, fmt):
        """The closed election for the bureau's records as CSV or XLSX (bureau), as on the election page:
        approvals only where SPEC §5 publishes them, the lot's seed, the elected."""
        me = require_bureau()
        election = _election(election_id)
        if election.state != ElectionState.CLOSED:
            raise Conflict(_("Export once the election has closed."), "election")
        return table_response(services.export_rows(services.election_view(election, me)),
                              f"election-{election.id}", fmt, _("Committee election"),
                              services.export_heading(election, me.programme))


def _picks_out(session) -> dict:
    decision = topics.decision_of(session.id)
    return {"session_id": session.id, "decider": topics.decider_for(session, g.api_user.programme),
            "decided_nomination_id": decision.nomination_id if decision else None,
            "picks": [{"nomination_id": p.nomination_id, "rationale": p.rationale, "member": p.user.display_name,
                       "picked_at": p.picked_at} for p in services.picks(session.id)]}


@blp.route("/sessions/<int:session_id>/committee-picks")
class SessionPicks(MethodView):
    @blp.response(200, PicksSchema)
    def get(self, session_id):
        """The committee members' picks for a session, signed by name, and the decision."""
        return _picks_out(schedule.session_for(g.api_user, session_id))

    @blp.arguments(PickSchema)
    @blp.response(201, PicksSchema)
    def post(self, data, session_id):
        """Record my pick (a member of the sitting committee); the first majority decides."""
        session = schedule.session_for(g.api_user, session_id)
        services.record_pick(session, g.api_user, data["nomination_id"], data["rationale"])
        return _picks_out(session)
