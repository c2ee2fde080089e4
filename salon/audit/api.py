"""API: the audit log, for the bureau."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy import select

from salon.accounts.auth import require_bureau
from salon.api.schemas import DateTime, Strict
from salon.audit import services
from salon.audit.models import AuditEvent
from salon.database import MAX_ID
from salon.extensions import db

blp = Blueprint("api_audit", __name__, description="Audit log")


class EventSchema(Strict):
    seq = fields.Int()
    created_at = DateTime()
    actor_name = fields.Str()
    action = fields.Str()
    object_type = fields.Str()
    object_id = fields.Str()
    details = fields.Dict()
    hash = fields.Str()


class AuditQuery(Strict):
    before = fields.Int(load_default=None, validate=validate.Range(1, MAX_ID), metadata={
        "description": "cursor: only events older than this seq; pass the previous page's next_cursor"})
    limit = fields.Int(load_default=50, validate=validate.Range(1, 500))
    verify = fields.Bool(load_default=False, metadata={
        "description": "also walk the whole hash chain (its cost grows with the log, so only on request)"})


class AuditSchema(Strict):
    events = fields.List(fields.Nested(EventSchema))
    next_cursor = fields.Int(allow_none=True, metadata={
        "description": "pass as `before` for the next (older) page; null on the last page"})
    chain_ok = fields.Bool(allow_none=True, metadata={"description": "null unless verify=true"})
    checked = fields.Int(allow_none=True, metadata={"description": "null unless verify=true"})


@blp.route("/audit")
class Audit(MethodView):
    @blp.arguments(AuditQuery, location="query")
    @blp.response(200, AuditSchema)
    def get(self, args):
        """Newest events first, a page at a time (cursor pagination: follow next_cursor until it is null);
        with verify=true, also whether the programme's chain verifies (bureau)."""
        me = require_bureau()
        query = select(AuditEvent).where(AuditEvent.programme_id == me.programme_id)
        if args["before"]:
            query = query.where(AuditEvent.seq < args["before"])
        found = db.session.scalars(query.order_by(AuditEvent.seq.desc()).limit(args["limit"] + 1)).all()
        events = found[:args["limit"]]
        body = {"events": events, "next_cursor": events[-1].seq if len(found) > args["limit"] else None,
                "chain_ok": None, "checked": None}
        if args["verify"]:
            checked, broken = services.verify(me.programme_id)
            body.update(chain_ok=broken is None, checked=checked)
        return body
