"""API: the audit log, for the bureau."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy import select

from salon.api import require_bureau
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
    before = fields.Int(load_default=None, validate=validate.Range(1, MAX_ID),
                        metadata={"description": "events with a lower seq"})
    limit = fields.Int(load_default=100, validate=validate.Range(1, 500))


class AuditSchema(Strict):
    events = fields.List(fields.Nested(EventSchema))
    chain_ok = fields.Bool()
    checked = fields.Int()


@blp.route("/audit")
class Audit(MethodView):
    @blp.arguments(AuditQuery, location="query")
    @blp.response(200, AuditSchema)
    def get(self, args):
        """Newest events first, and whether the programme's chain verifies (bureau)."""
        me = require_bureau()
        query = select(AuditEvent).where(AuditEvent.programme_id == me.programme_id)
        if args["before"]:
            query = query.where(AuditEvent.seq < args["before"])
        events = db.session.scalars(query.order_by(AuditEvent.seq.desc()).limit(args["limit"])).all()
        checked, broken = services.verify(me.programme_id)
        return {"events": events, "chain_ok": broken is None, "checked": checked}
