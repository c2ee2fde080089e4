"""API: the programme and its settings, communities and seats."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from salon.accounts.auth import require_bureau
from salon.accounts.schemas import InvitationSchema, InviteSchema, invitation_payload
from salon.api.schemas import Strict
from salon.programmes import services
from salon.programmes.models import Community

blp = Blueprint("api_programmes", __name__, description="Programme settings and communities")


def _setting_field(setting):
    if setting.kind is bool:
        return fields.Bool()
    if setting.kind is int:
        return fields.Int(strict=True, validate=validate.Range(setting.low, setting.high))
    return fields.Str(validate=validate.Length(max=setting.high))


ProgrammeSchema = Strict.from_dict(
    {"id": fields.Int(dump_only=True), **{s.name: _setting_field(s) for s in services.SETTINGS}},
    name="ProgrammeSchema",
)


class CommunitySchema(Strict):
    id = fields.Int(dump_only=True)
    name = fields.Str(required=True, validate=validate.Length(min=1, max=80))
    active = fields.Bool(dump_only=True)
    rotation_position = fields.Int(dump_only=True, allow_none=True)
    is_sample = fields.Bool(dump_only=True)
    secretary = fields.Str(dump_only=True, allow_none=True)
    seat_id = fields.Int(dump_only=True, allow_none=True, metadata={
        "description": "the community's seat: what elections (candidates) and a review's roll name"})


class CommunityPatchSchema(Strict):
    name = fields.Str(validate=validate.Length(min=1, max=80))
    active = fields.Bool()


def _community_out(community: Community, holders: dict, seats: dict | None = None) -> dict:
    holder = holders.get(community.id)
    seat_id = (seats or {}).get(community.id)
    if seats is None:
        seat_id = services.seat_ids_by_community(community.programme_id).get(community.id)
    return {"id": community.id, "name": community.name, "active": community.active,
            "rotation_position": community.rotation_position, "is_sample": community.is_sample,
            "secretary": holder.display_name if holder else None, "seat_id": seat_id}


@blp.route("/programme")
class ProgrammeItem(MethodView):
    @blp.response(200, ProgrammeSchema)
    def get(self):
        """My programme and its settings."""
        return g.api_user.programme

    @blp.arguments(ProgrammeSchema)
    @blp.response(200, ProgrammeSchema)
    def patch(self, data):
        """Change settings (bureau). A bad value changes nothing."""
        me = require_bureau()
        services.update_settings(me.programme, me, data)
        return me.programme


@blp.route("/communities")
class Communities(MethodView):
    @blp.response(200, CommunitySchema(many=True))
    def get(self):
        """The programme's communities in rotation order, inactive ones last."""
        pid = g.api_user.programme_id
        holders, seats = services.holders_by_community(pid), services.seat_ids_by_community(pid)
        return [_community_out(c, holders, seats) for c in services.communities(pid)]

    @blp.arguments(CommunitySchema)
    @blp.response(201, CommunitySchema)
    def post(self, data):
        """Add a community (bureau); it joins at the end of the rotation."""
        me = require_bureau()
        return _community_out(services.add_community(me.programme, me, data["name"]), {})


@blp.route("/communities/<int:community_id>")
class CommunityItem(MethodView):
    @blp.response(200, CommunitySchema)
    def get(self, community_id):
        """One community."""
        pid = g.api_user.programme_id
        community = services.get_scoped(Community, community_id, pid, "community_id")
        return _community_out(community, services.holders_by_community(pid))

    @blp.arguments(CommunityPatchSchema)
    @blp.response(200, CommunitySchema)
    def patch(self, data, community_id):
        """Rename, deactivate (active=false) or reactivate (active=true) a community (bureau)."""
        me = require_bureau()
        community = services.get_scoped(Community, community_id, me.programme_id, "community_id")
        if "name" in data:
            services.rename_community(community, me, data["name"])
        if "active" in data and data["active"] != community.active:
            (services.reactivate_community if data["active"] else services.deactivate_community)(community, me)
        return _community_out(community, services.holders_by_community(me.programme_id))


@blp.route("/communities/<int:community_id>/handover")
class CommunityHandover(MethodView):
    @blp.arguments(InviteSchema)
    @blp.response(201, InvitationSchema)
    def post(self, data, community_id):
        """Hand the community's seat to a new secretary (换届); answers their invitation link."""
        me = require_bureau()
        community = services.get_scoped(Community, community_id, me.programme_id, "community_id")
        user, token = services.hand_over_seat(community, me, data["username"], data["display_name"])
        return invitation_payload(user, token)
