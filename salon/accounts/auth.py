"""Who is asking: session cookies for pages, bearer tokens for the API, and role guards for both."""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required  # noqa: F401 - re-exported

from salon.accounts.models import Role, RoleChecks, User
from salon.accounts.services import (TOKEN_JOIN_SQL, TOKEN_VALID_SQL, bearer_token, hash_token, load_session_user,
                                     token_query, well_formed_token)
from salon.api import PREFIX, PUBLIC_ENDPOINTS
from salon.errors import Forbidden, json_error
from salon.extensions import db
from salon.programmes.services import SEAT_HELD_SQL, with_seat_held


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per key instead of on every
    request (Flask builds it each time; on the ballot path that was 5% of the request's CPU)."""

    def get_signing_serializer(self, app: Flask):
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = self.__dict__.get("_serializer")
        if cached is None or cached[0] != key:
            cached = self._serializer = (key, super().get_signing_serializer(app))
        return cached[1]


def init_app(app: Flask, login: LoginManager) -> None:
    app.session_interface = CookieSessions()
    login.init_app(app)
    login.login_view = "accounts.login"
    login.login_message = _l("Please log in to see this page.")
    login.login_message_category = "info"
    login.session_protection = "basic"
    login.user_loader(load_session_user)


# --- who a bearer token speaks for, and the seat they hold now: the token rule of accounts.services with the seat
# of programmes.services, in one statement ------------------------------------------------------------------
_token_query = None


def user_and_seat_for_token(raw: str) -> tuple[User | None, int | None]:
    """The token's user and, for a secretary, the seat they hold now (as seat_of), in one query."""
    global _token_query
    if not well_formed_token(raw):
        return None, None
    if _token_query is None:  # built once: every API request runs it
        _token_query = with_seat_held(token_query(User), User.id, User.role == Role.SECRETARY)
    row = db.session.execute(_token_query, {"token_hash": hash_token(raw)}).first()
    return (row[0], row[1]) if row is not None else (None, None)


@dataclass(slots=True)
class TokenHolder(RoleChecks):
    """Who a bearer token speaks for, as plain values rather than a loaded User: all an endpoint needs when
    it acts only through the caller's seat (casting a ballot). It answers the questions the request's
    plumbing asks of a user (authenticated? which language? which role?)."""
    id: int
    programme_id: int
    role: Role
    locale: str | None
    seat_id: int | None  # the seat a secretary holds now, as seat_of

    is_authenticated = True


_holder_query = None
_HOLDER_SQL = (
    f"SELECT u.id, u.programme_id, u.role, u.locale, h.seat_id FROM {TOKEN_JOIN_SQL}"
    f" LEFT OUTER JOIN {SEAT_HELD_SQL} AND u.role = %(secretary)s"
    f" WHERE {TOKEN_VALID_SQL} LIMIT 1")


def token_holder(raw: str) -> TokenHolder | None:
    """The token's holder and seat in one Core query (same rules as user_and_seat_for_token), without
    building an ORM object: on the ballot path that was a seventh of the request's CPU."""
    global _holder_query
    if not well_formed_token(raw):
        return None
    if _holder_query is None:  # built once: every ballot runs it
        _holder_query = with_seat_held(token_query(User.id, User.programme_id, User.role, User.locale), User.id,
                                       User.role == Role.SECRETARY)
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # The same query as plain SQL on the DB-API cursor of the session's connection (same transaction):
        # SQLAlchemy's execution layer cost more than the query itself. Enums are stored by name.
        cursor = connection.connection.cursor()
        try:
            cursor.execute(_HOLDER_SQL, {"token_hash": hash_token(raw), "secretary": Role.SECRETARY.name})
            found = cursor.fetchone()
        finally:
            cursor.close()
        return TokenHolder(found[0], found[1], Role[found[2]], found[3], found[4]) if found else None
    row = connection.execute(_holder_query, {"token_hash": hash_token(raw)}).first()
    return TokenHolder(*row) if row is not None else None


def authenticate_api():
    """The API's guard (a before_request hook, installed by the accounts room): every /api/v1 request but the
    public ones carries a valid bearer token; g.api_user and g.api_seat_id say whose."""
    if not request.path.startswith(PREFIX + "/") or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    view_class = getattr(current_app.view_functions.get(request.endpoint), "view_class", None)
    raw = bearer_token(request.headers.get("Authorization")) or ""
    if getattr(view_class, "seat_only", False):
        # The view acts only through the caller's seat (see salon.ballots.api.PollBallot): no User object.
        holder = token_holder(raw)
        user, seat_id = holder, (holder.seat_id if holder is not None else None)
    else:
        user, seat_id = user_and_seat_for_token(raw)
    if user is None:
        response = json_error(401, _("A valid bearer token is required (Authorization: Bearer …)."))
        response[0].headers["WWW-Authenticate"] = "Bearer"
        return response
    g.api_user = user  # a User, or a TokenHolder for a seat-only view
    g.api_seat_id = seat_id  # the seat the user holds now (a secretary's), read with the token
    return None


def require_bureau():
    """The API: the bureau of the token's programme only."""
    if not g.api_user.is_bureau:
        raise Forbidden(_("Only the bureau can do this."))
    return g.api_user


def bureau_required(view):
    """Pages: the bureau of the current programme only (log-in first)."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_bureau:
            raise Forbidden(str(_l("Only the bureau can do this.")))
        return view(*args, **kwargs)

    return wrapped


def actor():
    """The person behind this request: the token's owner on the API, the session's on pages."""
    return g.get("api_user") or (current_user if current_user.is_authenticated else None)


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: no scheme, no host, no '//' or backslash tricks."""
    if not target or len(target) > 500:
        return None
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def client_address() -> str:
    return request.remote_addr or "unknown"
