"""Who is asking: session cookies for pages, bearer tokens for the API, and role guards for both."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required  # noqa: F401 - re-exported

from salon.accounts.services import bearer_token, load_session_user, token_holder, user_and_seat_for_token
from salon.api import PREFIX, PUBLIC_ENDPOINTS
from salon.errors import Forbidden, json_error


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


def authenticate_api():
    """The API's guard (a before_request hook, installed by the accounts room): every /api/v1 request but the
    public ones carries a valid bearer token; g.api_user and g.api_seat_id say whose."""
    if not request.path.startswith(PREFIX + "/") or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    view_class = getattr(current_app.view_functions.get(request.endpoint), "view_class", None)
    fast_path = getattr(view_class, "fast_path", None)
    if fast_path is not None:
        # The view may answer the whole request itself (the ballot: salon.ballots.fast); None means it
        # declined, having changed nothing, and the request goes on down the regular path.
        answered = fast_path(**request.view_args)
        if answered is not None:
            return answered
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
