"""Schemas shared by every API room: the error body, the date-time field, strict input.

Reuse these in a new room's api.py:
- `DateTime`: every timestamp, in and out. Out: always with an offset (UTC, `+00:00`); in: an offset is
  required and the value is stored as naive UTC, as the models keep it.
- `Strict`: base class of every schema (unknown fields are an error naming the field).
- `ErrorSchema`: the one error body, `{"error": {"status", "message", "fields"}}`. It is the document's
  `Error` component and every error answer of the API has this shape (salon.errors.json_error builds it).
"""
from __future__ import annotations

import datetime as dt

from marshmallow import Schema, ValidationError, fields, validate

UTC = dt.timezone.utc


PAGE_DEFAULT = 20  # rows in a page of a cursor-paginated list, unless `limit` asks for another number
PAGE_MAX = 200

# The headers of a cursor-paginated list (SPEC §9: a list over the years comes a page at a time).
NEXT_PAGE_HEADERS = {
    "X-Next-Cursor": {"description": "pass as `cursor` to get the next page; absent on the last page",
                      "schema": {"type": "string"}},
    "Link": {"description": 'the next page as `<url>; rel="next"`; absent on the last page',
             "schema": {"type": "string"}},
}


# How many items a page of a cursor-paginated list holds unless ?limit= says otherwise, and at most.
PAGE_DEFAULT = 20
PAGE_MAX = 200


class Strict(Schema):
    """Unknown fields are an error naming the field (marshmallow's default, stated on purpose)."""

    class Meta:
        unknown = "raise"


class DateTime(fields.DateTime):
    """A timestamp with its time-zone offset. Naive values are UTC (the models store naive UTC)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            raise ValidationError("Not a valid datetime.")
        return parsed.astimezone(UTC).replace(tzinfo=None)


class ErrorDetail(Schema):
    status = fields.Int(required=True, metadata={"description": "the HTTP status code"})
    message = fields.Str(required=True, metadata={"description": "in the caller's language"})
    fields = fields.Dict(
        keys=fields.Str(), values=fields.List(fields.Str()),
        metadata={"description": "the inputs at fault, each with its messages; nested inputs as a.0.b; "
                                 "`body` when the body as a whole is at fault"})


class ErrorSchema(Schema):
    """Every API error: `{"error": {"status": 404, "message": "…", "fields": {"name": ["…"]}}}`."""

    error = fields.Nested(ErrorDetail, required=True)


def page_query(name: str, items: str, first: str) -> type[Strict]:
    """The query of a cursor-paginated list (?cursor=, ?limit=; the answer's NEXT_PAGE_HEADERS): `items` names
    what a page holds ("sessions"), `first` which page comes without a cursor ("oldest", "newest")."""
    return type(name, (Strict,), {
        "cursor": fields.Str(load_default=None, validate=validate.Length(max=20),
                             metadata={"description": "from the X-Next-Cursor header of the previous page; "
                                                      f"omit for the first ({first}) page"}),
        "limit": fields.Int(load_default=PAGE_DEFAULT, validate=validate.Range(1, PAGE_MAX),
                            metadata={"description": f"{items} per page (1–{PAGE_MAX})"}),
    })


class ResolutionLineSchema(Strict):
    """A session's resolution as the other rooms' documents show it (the packet's previous session, a review's
    topics): salon.outcomes.services.ResolutionState."""
    number = fields.Int()
    text = fields.Str()


class ActionLineSchema(Strict):
    """A session's action item and how far it got, as the packet and the review show it
    (salon.outcomes.services.ActionState)."""
    what = fields.Str()
    owner_unit = fields.Str()
    due_on = fields.Date(allow_none=True)
    status = fields.Str(metadata={"description": "open, in_progress, done or dropped"})
    overdue = fields.Bool(metadata={"description": "due date passed in the programme's time zone, neither done "
                                                   "nor dropped"})


class MemberPickSchema(Strict):
    """A committee member's signed pick behind a decision, as the topic's decision and the packet show it."""
    community = fields.Str()
    member = fields.Str()
    title = fields.Str()
    rationale = fields.Str()
    with_decision = fields.Bool(metadata={"description": "picked the decided nomination"})
