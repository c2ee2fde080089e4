"""Who is asking: session cookies for pages, bearer tokens for the API, and role guards for both."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required  # noqa: F401 - re-exported

from salon.errors import Forbidden


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
    from salon.accounts.services import load_session_user

    app.session_interface = CookieSessions()
    login.init_app(app)
    login.login_view = "accounts.login"
    login.login_message = _l("Please log in to see this page.")
    login.login_message_category = "info"
    login.session_protection = "basic"
    login.user_loader(load_session_user)


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
