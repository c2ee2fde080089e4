"""Schemas shared by several API modules."""
from marshmallow import Schema, fields


class ErrorSchema(Schema):
    status = fields.Int()
    message = fields.Str()
    fields = fields.Dict(keys=fields.Str(), values=fields.List(fields.Str()))


class Strict(Schema):
    """Unknown fields are an error naming the field (marshmallow's default, stated on purpose)."""

    class Meta:
        unknown = "raise"
