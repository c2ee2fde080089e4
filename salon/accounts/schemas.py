"""A person's account and their invitation as the API shows them: what the accounts room answers when it invites
someone (a colleague, a reset account) and what the programmes API answers when the bureau hands a community's
seat to a new secretary, whose account and invitation the accounts room makes (accounts.services.invite)."""
from __future__ import annotations

from flask import url_for
from marshmallow import fields, validate

from salon.accounts.models import User
from salon.api.schemas import Strict


class UserSchema(Strict):
    id = fields.Int(dump_only=True)
    username = fields.Str()
    display_name = fields.Str()
    role = fields.Function(lambda u: u.role.value)
    active = fields.Bool()
    locale = fields.Str(allow_none=True)


class InviteSchema(Strict):
    username = fields.Str(required=True, validate=validate.Length(min=3, max=40))
    display_name = fields.Str(required=True, validate=validate.Length(min=1, max=80))


class InvitationSchema(Strict):
    user = fields.Nested(UserSchema)
    invitation_url = fields.Str()


def invitation_payload(user: User, token: str) -> dict:
    return {"user": user, "invitation_url": url_for("accounts.accept_invitation", token=token, _external=True)}
