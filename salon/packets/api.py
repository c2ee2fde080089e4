"""API: a session's packet (its content as JSON, and the PDF) and its guest links."""
from __future__ import annotations

from flask import Response, g, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from salon import clock
from salon.api.schemas import ActionLineSchema, DateTime, MemberPickSchema, ResolutionLineSchema, Strict
from salon.outcomes import limits
from salon.packets import services
from salon.packets.document import packet_pdf
from salon.schedule import services as schedule

blp = Blueprint("api_packets", __name__, description="The session packet and its guest links")


class AgendaLineSchema(Strict):
    starts = fields.Str(metadata={"description": "HH:MM in the programme's time zone"})
    ends = fields.Str()
    title = fields.Str()
    lead = fields.Str()
    note = fields.Str()


class TallyLineSchema(Strict):
    title = fields.Str()
    community = fields.Str()
    approvals = fields.Int(allow_none=True, metadata={"description": "null when counts are withheld"})
    chosen = fields.Bool()


class SigninLineSchema(Strict):
    name = fields.Str()
    person = fields.Str()
    kind = fields.Str(metadata={"description": "community, guest or blank"})


class GuestLineSchema(Strict):
    name = fields.Str()
    unit = fields.Str()


class PacketSchema(Strict):
    session_id = fields.Int()
    number = fields.Int()
    programme = fields.Str()
    bureau = fields.Str()
    date = fields.Str()
    time = fields.Str()
    venue = fields.Str()
    chair = fields.Str()
    chair_secretary = fields.Str()
    title = fields.Str()
    problem = fields.Str()
    hoped_result = fields.Str()
    outside_units = fields.Str()
    nominating_community = fields.Str()
    tally = fields.List(fields.Nested(TallyLineSchema))
    turnout = fields.Int()
    eligible = fields.Int()
    counts_published = fields.Bool()
    decided_by = fields.Str(metadata={"description": "the bureau's user, or the committee as a whole"})
    decider = fields.Str(metadata={"description": "bureau or committee"})
    decided_why = fields.Str(metadata={"description": "why the bureau decided (SPEC §4.1), empty for the committee"})
    member_picks = fields.List(fields.Nested(MemberPickSchema),
                               metadata={"description": "a committee decision: each member's signed pick"})
    tally_note = fields.Str(metadata={"description": "not_most_approved (counts published), no_tally, or empty"})
    rationale = fields.Str()
    followed_tally = fields.Bool()
    agenda = fields.List(fields.Nested(AgendaLineSchema))
    guests = fields.List(fields.Nested(GuestLineSchema))
    signin = fields.List(fields.Nested(SigninLineSchema))
    previous_number = fields.Int(allow_none=True)
    previous_title = fields.Str()
    previous_resolutions = fields.List(fields.Nested(ResolutionLineSchema))
    previous_actions = fields.List(fields.Nested(ActionLineSchema))
    pdf_url = fields.Str()


class GuestLinkSchema(Strict):
    id = fields.Int(dump_only=True)
    session_id = fields.Int(dump_only=True)
    label = fields.Str(load_default="", validate=validate.Length(max=limits.GUEST_LINK_LABEL_MAX),
                       metadata={"description": "who the link is for"})
    created_at = DateTime(dump_only=True)
    expires_at = DateTime(dump_only=True)
    revoked_at = DateTime(dump_only=True, allow_none=True)
    state = fields.Str(dump_only=True, metadata={"description": "active, expired or revoked"})
    url = fields.Str(dump_only=True, allow_none=True, metadata={"description": "while active"})



def _link_out(link, now) -> dict:
    state = services.link_state(link, now)
    return {"id": link.id, "session_id": link.session_id, "label": link.label, "created_at": link.created_at,
            "expires_at": link.expires_at, "revoked_at": link.revoked_at, "state": state,
            "url": url_for("packets.guest", token=services.link_token(link), _external=True)
            if state == "active" else None}


@blp.route("/sessions/<int:session_id>/packet")
class SessionPacket(MethodView):
    @blp.response(200, PacketSchema)
    def get(self, session_id):
        """The packet's content (404 until the topic is decided); `pdf_url` is the same as a PDF."""
        session = schedule.session_for(g.api_user, session_id)
        content = services.packet(session, g.api_user.programme)
        out = dict(vars(content))
        out["guests"] = [{"name": name, "unit": unit} for name, unit in content.guests]
        out["pdf_url"] = url_for("api_packets.SessionPacketPdf", session_id=session.id, _external=True)
        return out


@blp.route("/sessions/<int:session_id>/packet.pdf")
class SessionPacketPdf(MethodView):
    @blp.response(200, content_type="application/pdf",
                  description="The packet as an A4 PDF with its Chinese font embedded")
    @blp.doc(responses={"200": {"description": "The packet as an A4 PDF with its Chinese font embedded",
                                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self, session_id):
        """The packet as a PDF."""
        content = services.packet(schedule.session_for(g.api_user, session_id), g.api_user.programme)
        return Response(packet_pdf(content), mimetype="application/pdf",
                        headers={"Content-Disposition": f"inline; filename=packet-{content.number}.pdf"})


@blp.route("/sessions/<int:session_id>/guest-links")
class SessionGuestLinks(MethodView):
    @blp.response(200, GuestLinkSchema(many=True))
    def get(self, session_id):
        """The session's guest links (the bureau and the session's chair)."""
        session = schedule.session_for(g.api_user, session_id)
        services.check_share(g.api_user, session)
        now = clock.utcnow()
        return [_link_out(link, now) for link in services.links(session.id)]

    @blp.arguments(GuestLinkSchema)
    @blp.response(201, GuestLinkSchema)
    def post(self, data, session_id):
        """Create a guest link: it opens this session's packet without an account until it expires (the
        programme's guest_link_days, default 7) or is revoked."""
        link = services.create_link(schedule.session_for(g.api_user, session_id), g.api_user, data["label"])
        return _link_out(link, clock.utcnow())


@blp.route("/guest-links/<int:link_id>")
class GuestLinkItem(MethodView):
    @blp.response(200, GuestLinkSchema)
    def delete(self, link_id):
        """Revoke a guest link (the bureau and the session's chair)."""
        link = services.revoke_link(services.get_link(link_id, g.api_user.programme_id), g.api_user)
        return _link_out(link, clock.utcnow())
