"""API: who am I, my tokens, the bureau's people and invitations."""
from __future__ import annotations

from flask import g
from flask_babel import gettext as _
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy import select

from salon.accounts import services
from salon.accounts.models import User
from salon.accounts.auth import require_bureau
from salon.accounts.schemas import InvitationSchema, InviteSchema, UserSchema, invitation_payload
from salon.api.schemas import DateTime, Strict
from salon.errors import Conflict
from salon.extensions import db
from salon.programmes import services as programmes

blp = Blueprint("api_accounts", __name__, description="Accounts, tokens and invitations")


class MeSchema(UserSchema):
    programme_id = fields.Int()
    programme_name = fields.Function(lambda u: u.programme.name)
    community_id = fields.Method("_community_id")

    def _community_id(self, user):
        seat = programmes.seat_of(user) if user.is_secretary else None
        return seat.community_id if seat else None


class MePatchSchema(Strict):
    locale = fields.Str(required=True, validate=validate.OneOf(services.LOCALES))


class TokenSchema(Strict):
    id = fields.Int(dump_only=True)
    name = fields.Str(required=True, validate=validate.Length(min=1, max=80))
    prefix = fields.Str(dump_only=True)
    created_at = DateTime(dump_only=True)


class NewTokenSchema(TokenSchema):
    token = fields.Str(dump_only=True, metadata={"description": "Shown once; only a hash is stored."})


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self):
        """The account behind the token."""
        return g.api_user

    @blp.arguments(MePatchSchema)
    @blp.response(200, MeSchema)
    def patch(self, data):
        """Change my language."""
        services.set_locale(g.api_user, data["locale"])
        return g.api_user


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.response(200, TokenSchema(many=True))
    def get(self):
        """My active tokens (never the secret itself)."""
        return services.tokens_of(g.api_user)

    @blp.arguments(TokenSchema)
    @blp.response(201, NewTokenSchema)
    def post(self, data):
        """Create a token; the secret is in the answer, once."""
        token, raw = services.create_token(g.api_user, data["name"])
        return {"id": token.id, "name": token.name, "prefix": token.prefix,
                "created_at": token.created_at, "token": raw}


@blp.route("/tokens/<int:token_id>")
class TokenItem(MethodView):
    @blp.response(204)
    def delete(self, token_id):
        """Revoke one of my tokens."""
        services.revoke_token(g.api_user, token_id)


@blp.route("/people")
class People(MethodView):
    @blp.response(200, UserSchema(many=True))
    def get(self):
        """Every account of the programme (bureau)."""
        me = require_bureau()
        return db.session.scalars(select(User).where(User.programme_id == me.programme_id)
                                  .order_by(User.id)).all()

    @blp.arguments(InviteSchema)
    @blp.response(201, InvitationSchema)
    def post(self, data):
        """Invite a colleague to the bureau; answers the invitation link to send them."""
        me = require_bureau()
        user, token = services.invite_colleague(me.programme, me, data["username"], data["display_name"])
        return invitation_payload(user, token)


@blp.route("/people/<int:user_id>/reset")
class PersonReset(MethodView):
    @blp.response(201, InvitationSchema)
    def post(self, user_id):
        """Reset an account: old password, sessions and tokens stop working; a new invitation is issued."""
        me = require_bureau()
        user = programmes.get_scoped(User, user_id, me.programme_id, "user_id")
        if not user.active:
            raise Conflict(_("This account is closed; hand the seat over instead."), "user_id")
        return invitation_payload(user, services.reset_account(user, me))
