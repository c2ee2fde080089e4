"""API: the schedule, the rotation order, swaps and calendar feeds — the same services as the pages."""
from __future__ import annotations

from flask import g, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from salon import clock
from salon.accounts.auth import require_bureau
from salon.api import next_page_headers
from salon.api.schemas import NEXT_PAGE_HEADERS, DateTime, Strict, page_query
from salon.programmes import services as programmes
from salon.rules.calendar_rules import to_local
from salon.schedule import services

blp = Blueprint("api_schedule", __name__, description="The schedule and the rotating chair")


class SessionSchema(Strict):
    id = fields.Int(dump_only=True)
    number = fields.Int(dump_only=True, allow_none=True, metadata={"description": "第N期; null when cancelled"})
    starts_at = DateTime(dump_only=True, metadata={"description": "UTC"})
    local_start = fields.Str(dump_only=True, metadata={"description": "in the programme's time zone"})
    duration_minutes = fields.Int(dump_only=True)
    venue = fields.Str(dump_only=True)
    chair_community_id = fields.Int(dump_only=True, allow_none=True)
    chair = fields.Str(dump_only=True, allow_none=True)
    status = fields.Str(dump_only=True)
    locked = fields.Bool(dump_only=True)
    swapped = fields.Bool(dump_only=True)
    edited = fields.Bool(dump_only=True)
    sequence = fields.Int(dump_only=True)


SessionPageQuery = page_query("SessionPageQuery", "sessions", "oldest")


class SessionPatchSchema(Strict):
    date = fields.Date(metadata={"description": "local date, YYYY-MM-DD"})
    time = fields.Time(metadata={"description": "local time, HH:MM"})
    venue = fields.Str(validate=validate.Length(max=200))
    locked = fields.Bool()


class GenerateSchema(Strict):
    months = fields.Int(strict=True, validate=validate.Range(1, services.MAX_MONTHS),
                        metadata={"description": "default: the programme's horizon"})


class RotationSchema(Strict):
    order = fields.List(fields.Int(strict=True), required=True, validate=validate.Length(max=500),
                        metadata={"description": "active community ids, first chairs first"})
    seed = fields.Str(dump_only=True, allow_none=True)
    communities = fields.List(fields.Dict(), dump_only=True)


class BlackoutSchema(Strict):
    blackout_months = fields.List(fields.Str(validate=validate.Length(max=7)), required=True,
                                  validate=validate.Length(max=services.MAX_BLACKOUTS))


class SwapPairSchema(Strict):
    session_id = fields.Int(strict=True, required=True)
    other_session_id = fields.Int(strict=True, required=True)
    message = fields.Str(load_default="", validate=validate.Length(max=300))


class SwapRequestSchema(Strict):
    id = fields.Int()
    session_id = fields.Int()
    other_session_id = fields.Int()
    from_community = fields.Str()
    to_community = fields.Str()
    message = fields.Str()
    status = fields.Str()
    created_at = DateTime()


class InboxSchema(Strict):
    incoming = fields.List(fields.Nested(SwapRequestSchema))
    outgoing = fields.List(fields.Nested(SwapRequestSchema))
    recent = fields.List(fields.Nested(SwapRequestSchema))


class FeedSchema(Strict):
    id = fields.Int(dump_only=True)
    community_id = fields.Int(strict=True, allow_none=True, load_default=None)
    url = fields.Str(dump_only=True)
    created_at = DateTime(dump_only=True)


def session_out(session, zone: str) -> dict:
    return {"id": session.id, "number": session.number, "starts_at": session.starts_at,
            "local_start": to_local(session.starts_at, zone).isoformat(),
            "duration_minutes": session.duration_minutes, "venue": session.venue,
            "chair_community_id": session.chair_community_id, "chair": session.chair.name if session.chair else None,
            "status": session.status.value, "locked": session.locked, "swapped": session.swapped,
            "edited": session.edited, "sequence": session.sequence}


def _sessions_out(items) -> list[dict]:
    zone = g.api_user.programme.timezone
    return [session_out(s, zone) for s in items]


def _request_out(r) -> dict:
    return {"id": r.id, "session_id": r.session_id, "other_session_id": r.other_session_id,
            "from_community": r.from_community.name, "to_community": r.to_community.name,
            "message": r.message, "status": r.status.value, "created_at": r.created_at}


def _feed_out(feed) -> dict:
    return {"id": feed.id, "community_id": feed.community_id, "created_at": feed.created_at,
            "url": url_for("schedule.feed", token=services.feed_token(feed), _external=True)}


def _rotation_out(programme) -> dict:
    order = services.rotation_order(programme.id)
    return {"order": [c.id for c in order], "seed": programme.rotation_seed,
            "communities": [{"id": c.id, "name": c.name, "position": c.rotation_position} for c in order]}


@blp.route("/sessions")
class Sessions(MethodView):
    @blp.arguments(SessionPageQuery, location="query")
    @blp.response(200, SessionSchema(many=True), headers=NEXT_PAGE_HEADERS)
    def get(self, args):
        """The programme's sessions, past and future, in date order, a page at a time (cursor pagination:
        follow the X-Next-Cursor header, or the Link header, until it is absent)."""
        services.mark_past_held(g.api_user.programme_id)
        page, last = services.session_page(g.api_user.programme_id, args["cursor"], args["limit"])
        return _sessions_out(page), 200, next_page_headers(last and last.id, args["limit"], "api_schedule.Sessions")


@blp.route("/sessions/generate")
class Generate(MethodView):
    @blp.arguments(GenerateSchema, required=False)
    @blp.response(200, SessionSchema(many=True))
    def post(self, data):
        """Generate the next N months (bureau). Held, swapped and locked sessions stay. Answers the coming
        sessions (from now on), not the history."""
        me = require_bureau()
        services.generate(me.programme, me, data.get("months"))
        return _sessions_out(services.sessions(me.programme_id, since=clock.utcnow()))


@blp.route("/sessions/<int:session_id>")
class SessionItem(MethodView):
    @blp.response(200, SessionSchema)
    def get(self, session_id):
        """One session."""
        return session_out(services.get_session(session_id, g.api_user.programme_id),
                           g.api_user.programme.timezone)

    @blp.arguments(SessionPatchSchema)
    @blp.response(200, SessionSchema)
    def patch(self, data, session_id):
        """Move a session, change its venue, or lock/unlock it (bureau). Its SEQUENCE increases."""
        me = require_bureau()
        session = services.get_session(session_id, me.programme_id)
        if {"date", "time", "venue"} & data.keys():
            services.edit_session(session, me, data.get("date"), data.get("time"), data.get("venue"))
        if "locked" in data:
            services.set_locked(session, me, data["locked"])
        return session_out(session, me.programme.timezone)


@blp.route("/sessions/<int:session_id>/cancel")
class SessionCancel(MethodView):
    @blp.response(200, SessionSchema)
    def post(self, session_id):
        """Cancel a future session (bureau); its chair takes the next session."""
        me = require_bureau()
        session = services.get_session(session_id, me.programme_id)
        services.cancel_session(session, me)
        return session_out(session, me.programme.timezone)


@blp.route("/sessions/swap")
class BureauSwap(MethodView):
    @blp.arguments(SwapPairSchema)
    @blp.response(200, SessionSchema(many=True))
    def post(self, data):
        """Exchange the chairs of two future sessions directly (bureau)."""
        me = require_bureau()
        a = services.get_session(data["session_id"], me.programme_id, "session_id")
        b = services.get_session(data["other_session_id"], me.programme_id, "other_session_id")
        return _sessions_out(services.bureau_swap(a, b, me))


@blp.route("/communities/<int:community_id>/duties")
class Duties(MethodView):
    @blp.arguments(SessionPageQuery, location="query")
    @blp.response(200, SessionSchema(many=True), headers=NEXT_PAGE_HEADERS)
    def get(self, args, community_id):
        """A community's chair duties, past and future, in date order, a page at a time (cursor pagination:
        follow the X-Next-Cursor header, or the Link header, until it is absent)."""
        community = programmes.get_community(community_id, g.api_user.programme_id)
        page, last = services.session_page(g.api_user.programme_id, args["cursor"], args["limit"],
                                           community_id=community.id)
        return _sessions_out(page), 200, next_page_headers(last and last.id, args["limit"], "api_schedule.Duties",
                                                           community_id=community.id)


@blp.route("/rotation")
class Rotation(MethodView):
    @blp.response(200, RotationSchema)
    def get(self):
        """The rotation order of the active communities, and the seed of the last draw."""
        return _rotation_out(g.api_user.programme)

    @blp.arguments(RotationSchema)
    @blp.response(200, RotationSchema)
    def put(self, data):
        """Set the rotation order (bureau): every active community id once. The future follows it."""
        me = require_bureau()
        services.reorder(me.programme, me, data["order"])
        return _rotation_out(me.programme)


@blp.route("/rotation/draw")
class RotationDraw(MethodView):
    @blp.response(200, RotationSchema)
    def post(self):
        """Draw a new order by lot (bureau); the seed is recorded and returned."""
        me = require_bureau()
        services.draw_lots(me.programme, me)
        return _rotation_out(me.programme)


@blp.route("/blackouts")
class Blackouts(MethodView):
    @blp.response(200, BlackoutSchema)
    def get(self):
        """Months without a session."""
        return {"blackout_months": g.api_user.programme.blackout_months or []}

    @blp.arguments(BlackoutSchema)
    @blp.response(200, BlackoutSchema)
    def put(self, data):
        """Replace the blackout months (bureau), as YYYY-MM; planned sessions in them are cancelled."""
        me = require_bureau()
        return {"blackout_months": services.set_blackouts(me.programme, me, data["blackout_months"])}


@blp.route("/swaps")
class Swaps(MethodView):
    @blp.response(200, InboxSchema)
    def get(self):
        """Swap requests: asked of me, asked by me, answered. The bureau sees every pending one."""
        inbox = services.inbox(g.api_user)
        return {"incoming": [_request_out(r) for r in inbox.incoming],
                "outgoing": [_request_out(r) for r in inbox.outgoing],
                "recent": [_request_out(r) for r in inbox.recent]}

    @blp.arguments(SwapPairSchema)
    @blp.response(201, SwapRequestSchema)
    def post(self, data):
        """As the chair of session_id, ask the chair of other_session_id to swap."""
        pid = g.api_user.programme_id
        a = services.get_session(data["session_id"], pid, "session_id")
        b = services.get_session(data["other_session_id"], pid, "other_session_id")
        return _request_out(services.request_swap(g.api_user, a, b, data.get("message", "")))


def _swap_action(request_id, action):
    swap_request = services.get_request(request_id, g.api_user.programme_id)
    return _request_out(action(swap_request, g.api_user))


@blp.route("/swaps/<int:request_id>/accept")
class SwapAccept(MethodView):
    @blp.response(200, SwapRequestSchema)
    def post(self, request_id):
        """Accept (the chair asked, or the bureau): the two chairs are exchanged."""
        return _swap_action(request_id, services.accept_request)


@blp.route("/swaps/<int:request_id>/decline")
class SwapDecline(MethodView):
    @blp.response(200, SwapRequestSchema)
    def post(self, request_id):
        """Decline (the chair asked, or the bureau)."""
        return _swap_action(request_id, services.decline_request)


@blp.route("/swaps/<int:request_id>/withdraw")
class SwapWithdraw(MethodView):
    @blp.response(200, SwapRequestSchema)
    def post(self, request_id):
        """Withdraw my own request."""
        return _swap_action(request_id, services.withdraw_request)


@blp.route("/feeds")
class Feeds(MethodView):
    @blp.response(200, FeedSchema(many=True))
    def get(self):
        """My calendar subscription links."""
        return [_feed_out(f) for f in services.feeds_of(g.api_user)]

    @blp.arguments(FeedSchema, required=False)
    @blp.response(201, FeedSchema)
    def post(self, data):
        """A calendar link: the whole programme (community_id null) or one community's chair duties."""
        return _feed_out(services.create_feed(g.api_user, data.get("community_id")))


@blp.route("/feeds/<int:feed_id>")
class FeedItem(MethodView):
    @blp.response(204)
    def delete(self, feed_id):
        """Revoke a calendar link: calendars using it stop updating."""
        services.revoke_feed(services.get_feed(feed_id, g.api_user), g.api_user)
        return ""
