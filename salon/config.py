"""Settings: read from SALON_* environment variables when the app is created, never at import."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def _secret_key(instance_path: str) -> str:
    """SALON_SECRET_KEY, or a key generated once into instance/secret_key (never a fixed fallback)."""
    key = os.environ.get("SALON_SECRET_KEY")
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two workers starting at once must agree on one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


# Bytes. The largest honest body, a full agenda with every character \u-escaped, is about 150 KiB.
MAX_CONTENT_LENGTH = 1024 * 1024


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment(instance_path: str, need_secret: bool = True) -> dict:
    database_url = os.environ.get(
        "SALON_DATABASE_URL", "sqlite:///" + str(Path(instance_path) / "salon.sqlite")
    )
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://"):]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    ratelimit_storage = os.environ.get("SALON_RATELIMIT_STORAGE_URI", "memory://")
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SALON_BASE_URL": os.environ.get("SALON_BASE_URL", ""),
        "RATELIMIT_STORAGE_URI": ratelimit_storage,
        # A Redis that does not answer within a second counts as gone (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED).
        # redis-py's own default waits 5 s (older versions: for ever), and every log-in would wait with it.
        "RATELIMIT_STORAGE_OPTIONS": ({"socket_connect_timeout": 1, "socket_timeout": 1}
                                      if ratelimit_storage.startswith("redis") else {}),
        "RATELIMIT_ENABLED": _bool("SALON_RATELIMIT_ENABLED", True),
        "SALON_LOGIN_LIMIT_ACCOUNT": os.environ.get("SALON_LOGIN_LIMIT_ACCOUNT", "5 per 5 minutes"),
        "SALON_LOGIN_LIMIT_ADDRESS": os.environ.get("SALON_LOGIN_LIMIT_ADDRESS", "20 per 5 minutes"),
        "SESSION_COOKIE_SECURE": _bool("SALON_SECURE_COOKIES", False),
        "REMEMBER_COOKIE_SECURE": _bool("SALON_SECURE_COOKIES", False),
        "SALON_DEFAULT_LOCALE": os.environ.get("SALON_DEFAULT_LOCALE", "zh_Hans"),
        # No pool_pre_ping: salon.database tests only connections that sat idle past SALON_DB_IDLE_CHECK_SECONDS.
        # pool_size: at least as many connections as threads that use them (gunicorn threads, or gevent
        # connections, per worker process), else each request beyond the pool opens and closes a connection
        # of its own. Connections open only when used, so a generous size costs nothing while idle.
        # hide_parameters: a failed statement's values (ballot choices among them) never reach a log (SPEC §5).
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": int(os.environ.get("SALON_DB_POOL_SIZE", "32")),
                                      "max_overflow": 8, "pool_recycle": 1800, "hide_parameters": True},
        "SALON_DB_IDLE_CHECK_SECONDS": float(os.environ.get("SALON_DB_IDLE_CHECK_SECONDS", "10")),
        # The largest request body accepted; beyond it the answer is 413 naming `body`.
        "MAX_CONTENT_LENGTH": int(os.environ.get("SALON_MAX_CONTENT_LENGTH", str(MAX_CONTENT_LENGTH))),
    }
    if need_secret:
        settings["SECRET_KEY"] = _secret_key(instance_path)
    return settings


STATIC = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the signed session cookie
    # The rate limits' storage (Redis) gone: the limits go on, counted in each process's memory, until it
    # answers again; neither open to guessing passwords nor closed to everyone (docs/faults.md). An error
    # while counting a failed log-in after the check is logged, not turned into a 500.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_SWALLOW_ERRORS": True,
    "BABEL_DEFAULT_LOCALE": "zh_Hans",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": ("zh_Hans", "en"),
    "JSON_AS_ASCII": False,
    "API_TITLE": "Salon API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}
        },
        "security": [{"bearer": []}],
    },
}
