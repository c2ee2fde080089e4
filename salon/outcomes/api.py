"""API: what a session produced — attendance, minutes, resolutions, action items and their updates."""
from __future__ import annotations

from datetime import date

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from salon.api import next_page_headers
from salon.api.schemas import NEXT_PAGE_HEADERS, DateTime, Strict
from salon.outcomes import limits, services
from salon.rules import outcomes as rules
from salon.schedule import services as schedule

blp = Blueprint("api_outcomes", __name__, description="After a session: attendance, minutes, resolutions, "
                                                      "action items")

_due = {"validate": validate.Range(min=date(limits.DUE_YEARS[0], 1, 1), max=date(limits.DUE_YEARS[1], 12, 31))}


class AttendeeSchema(Strict):
    id = fields.Int()
    name = fields.Str()
    present = fields.Bool()
    holder = fields.Str(allow_none=True, metadata={"description": "a community's secretary"})
    unit = fields.Str(allow_none=True, metadata={"description": "a guest's unit"})


class AttendanceSchema(Strict):
    communities = fields.List(fields.Nested(AttendeeSchema), dump_only=True)
    guests = fields.List(fields.Nested(AttendeeSchema), dump_only=True)
    community_ids = fields.List(fields.Int(strict=True), load_only=True, required=True,
                                validate=validate.Length(max=1000),
                                metadata={"description": "the communities present"})
    guest_ids = fields.List(fields.Int(strict=True), load_only=True, load_default=list,
                            validate=validate.Length(max=1000), metadata={"description": "the guests present"})


class MinutesSchema(Strict):
    summary = fields.Str(required=True, validate=validate.Length(max=limits.MINUTES_MAX))
    updated_at = DateTime(dump_only=True, allow_none=True)


class ResolutionSchema(Strict):
    id = fields.Int(dump_only=True)
    session_id = fields.Int(dump_only=True)
    number = fields.Int(dump_only=True, metadata={"description": "1, 2, 3 … within the session"})
    text = fields.Str(required=True, validate=validate.Length(min=1, max=limits.RESOLUTION_MAX))


class ActionUpdateSchema(Strict):
    id = fields.Int(dump_only=True)
    at = DateTime(dump_only=True)
    by = fields.Str(dump_only=True, allow_none=True)
    old_status = fields.Str(dump_only=True, allow_none=True)
    new_status = fields.Str(dump_only=True, allow_none=True)
    old_due_on = fields.Date(dump_only=True, allow_none=True)
    new_due_on = fields.Date(dump_only=True, allow_none=True)
    status = fields.Str(load_only=True, validate=validate.OneOf(rules.STATUSES))
    due_on = fields.Date(load_only=True, allow_none=True, **_due)
    note = fields.Str(load_default="", validate=validate.Length(max=limits.UPDATE_NOTE_MAX))


class ActionItemSchema(Strict):
    id = fields.Int(dump_only=True)
    session_id = fields.Int(dump_only=True)
    what = fields.Str(required=True, validate=validate.Length(min=1, max=limits.ACTION_WHAT_MAX))
    owner_unit = fields.Str(required=True, validate=validate.Length(min=1, max=limits.OWNER_UNIT_MAX),
                            metadata={"description": "a community's name or an outside unit"})
    owner_community_id = fields.Int(dump_only=True, allow_none=True)
    due_on = fields.Date(allow_none=True, load_default=None, **_due)
    status = fields.Str(load_default=rules.OPEN, validate=validate.OneOf(rules.STATUSES))
    overdue = fields.Bool(dump_only=True, metadata={"description": "due date passed in the programme's time "
                                                                  "zone, neither done nor dropped"})
    session_number = fields.Int(dump_only=True, allow_none=True)
    updates = fields.List(fields.Nested(ActionUpdateSchema), dump_only=True)


class OutcomeSchema(Strict):
    session_id = fields.Int()
    number = fields.Int(allow_none=True)
    attendance = fields.Nested(AttendanceSchema)
    minutes = fields.Nested(MinutesSchema, allow_none=True)
    resolutions = fields.List(fields.Nested(ResolutionSchema))
    action_items = fields.List(fields.Nested(ActionItemSchema))
    can_write = fields.Bool()



def _attendance_out(view) -> dict:
    return {"communities": [vars(r) for r in view.communities], "guests": [vars(r) for r in view.guests]}


def _item_out(item, today, number=None, with_updates=False) -> dict:
    out = {"id": item.id, "session_id": item.session_id, "what": item.what, "owner_unit": item.owner_unit,
           "owner_community_id": item.owner_community_id, "due_on": item.due_on, "status": item.status,
           "overdue": rules.is_overdue(item.due_on, item.status, today), "session_number": number}
    if with_updates:
        out["updates"] = [_update_out(u) for u in services.updates(item.id)]
    return out


def _update_out(u) -> dict:
    return {"id": u.id, "at": u.at, "by": u.by.display_name if u.by else None, "old_status": u.old_status,
            "new_status": u.new_status, "old_due_on": u.old_due_on, "new_due_on": u.new_due_on, "note": u.note}


@blp.route("/sessions/<int:session_id>/outcome")
class SessionOutcome(MethodView):
    @blp.response(200, OutcomeSchema)
    def get(self, session_id):
        """What the session produced: attendance, minutes, resolutions, action items."""
        record = services.session_record(schedule.session_for(g.api_user, session_id), g.api_user)
        minutes = record.minutes
        return {"session_id": record.session.id, "number": record.session.number,
                "attendance": _attendance_out(record.attendance),
                "minutes": {"summary": minutes.summary, "updated_at": minutes.updated_at} if minutes else None,
                "resolutions": record.resolutions, "can_write": record.can_write,
                "action_items": [_item_out(a, record.today, record.session.number) for a in record.actions]}


@blp.route("/sessions/<int:session_id>/attendance")
class SessionAttendance(MethodView):
    @blp.response(200, AttendanceSchema)
    def get(self, session_id):
        """Who was present: every active community (with its secretary) and every guest."""
        return _attendance_out(services.attendance(schedule.session_for(g.api_user, session_id)))

    @blp.arguments(AttendanceSchema)
    @blp.response(200, AttendanceSchema)
    def put(self, data, session_id):
        """Replace the attendance (the bureau and the session's chair, once the session has begun)."""
        session = schedule.session_for(g.api_user, session_id)
        view = services.record_attendance(session, g.api_user, data["community_ids"], data["guest_ids"])
        return _attendance_out(view)


@blp.route("/sessions/<int:session_id>/minutes")
class SessionMinutes(MethodView):
    @blp.arguments(MinutesSchema)
    @blp.response(200, MinutesSchema)
    def put(self, data, session_id):
        """Write the minutes summary (the bureau and the session's chair)."""
        return services.set_minutes(schedule.session_for(g.api_user, session_id), g.api_user, data["summary"])


@blp.route("/sessions/<int:session_id>/resolutions")
class SessionResolutions(MethodView):
    @blp.response(200, ResolutionSchema(many=True))
    def get(self, session_id):
        """The session's resolutions, numbered."""
        return services.resolutions(schedule.session_for(g.api_user, session_id).id)

    @blp.arguments(ResolutionSchema)
    @blp.response(201, ResolutionSchema)
    def post(self, data, session_id):
        """Add a resolution; it takes the next number (the bureau and the session's chair)."""
        return services.add_resolution(schedule.session_for(g.api_user, session_id), g.api_user, data["text"])


@blp.route("/resolutions/<int:resolution_id>")
class ResolutionItem(MethodView):
    @blp.response(204)
    def delete(self, resolution_id):
        """Remove a resolution; the later ones move up (the bureau and the session's chair)."""
        services.remove_resolution(services.get_resolution(resolution_id, g.api_user.programme_id), g.api_user)


@blp.route("/sessions/<int:session_id>/action-items")
class SessionActionItems(MethodView):
    @blp.response(200, ActionItemSchema(many=True))
    def get(self, session_id):
        """The session's action items with status and whether overdue."""
        session = schedule.session_for(g.api_user, session_id)
        today = services.today(g.api_user.programme)
        return [_item_out(a, today, session.number) for a in services.actions(session.id)]

    @blp.arguments(ActionItemSchema)
    @blp.response(201, ActionItemSchema)
    def post(self, data, session_id):
        """Add an action item (the bureau and the session's chair)."""
        session = schedule.session_for(g.api_user, session_id)
        item = services.add_action(session, g.api_user, data)
        return _item_out(item, services.today(g.api_user.programme), session.number, with_updates=True)


@blp.route("/action-items/<int:item_id>")
class ActionItemOne(MethodView):
    @blp.response(200, ActionItemSchema)
    def get(self, item_id):
        """One action item with its dated updates, newest first."""
        item = services.get_action(item_id, g.api_user.programme_id)
        session = schedule.session_for(g.api_user, item.session_id)
        return _item_out(item, services.today(g.api_user.programme), session.number, with_updates=True)


@blp.route("/action-items/<int:item_id>/updates")
class ActionItemUpdates(MethodView):
    @blp.arguments(ActionUpdateSchema)
    @blp.response(201, ActionUpdateSchema)
    def post(self, data, item_id):
        """Record a dated update: a new status, a new due date (null clears it), a note — at least one."""
        item = services.get_action(item_id, g.api_user.programme_id)
        payload = dict(data)
        if "due_on" in data and data["due_on"] is None:
            payload["clear_due"] = True
        return _update_out(services.update_action(item, g.api_user, payload))


class OverduePageQuery(Strict):
    cursor = fields.Str(load_default=None, validate=validate.Length(max=20),
                        metadata={"description": "from the X-Next-Cursor header of the previous page; "
                                                 "omit for the first page"})
    limit = fields.Int(load_default=services.OVERDUE_PAGE, validate=validate.Range(1, 200),
                       metadata={"description": "items per page (1–200)"})


@blp.route("/action-items/overdue")
class OverdueItems(MethodView):
    @blp.arguments(OverduePageQuery, location="query")
    @blp.response(200, ActionItemSchema(many=True), headers=NEXT_PAGE_HEADERS)
    def get(self, args):
        """The programme's overdue action items: due before today (the programme's time zone), neither done
        nor dropped, oldest first, a page at a time (cursor pagination: follow the X-Next-Cursor header, or the
        Link header, until it is absent)."""
        today = services.today(g.api_user.programme)
        page, following = services.overdue_page(g.api_user.programme_id, today, cursor=args["cursor"],
                                                limit=args["limit"])
        return ([_item_out(o.item, today, o.session_number) for o in page], 200,
                next_page_headers(following, args["limit"], "api_outcomes.OverdueItems"))
