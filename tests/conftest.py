"""Fixtures: every database test runs on SQLite and, when a server answers, on PostgreSQL."""
from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from flask.testing import FlaskClient

from salon import create_app
from salon.extensions import db

POSTGRES_URL = os.environ.get("SALON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("SALON_REQUIRE_POSTGRES") == "1"


def _postgres_answers() -> bool:
    url = make_url(POSTGRES_URL)
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=1):
            pass
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False


BACKENDS = ["sqlite"]
if os.environ.get("SALON_TEST_SQLITE_ONLY") != "1" and (REQUIRE_POSTGRES or _postgres_answers()):
    BACKENDS.append("postgresql")


def pytest_configure(config):
    if REQUIRE_POSTGRES and not _postgres_answers():
        raise pytest.UsageError(f"PostgreSQL is required (SALON_REQUIRE_POSTGRES=1) but does not answer at "
                                f"{make_url(POSTGRES_URL).render_as_string(hide_password=True)}")


def pytest_report_header(config):
    return f"salon databases: {', '.join(BACKENDS)}"


def pytest_terminal_summary(terminalreporter):
    skipped_pg = "postgresql" not in BACKENDS
    terminalreporter.write_line(
        f"salon: database tests ran on {' and '.join(BACKENDS)}"
        + (" (PostgreSQL not reachable: skipped)" if skipped_pg else ""))


def create_postgres_database(prefix: str = "salon_test") -> str:
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")
        return
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


def base_config(database_url: str, instance_path: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SALON_PASSWORD_METHOD": "pbkdf2:sha256:1000",
        "SERVER_NAME": "salon.test",
        "SALON_INSTANCE": instance_path,
    }


_schema_ready: set[str] = set()


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context and database session, as in production.

    The test body's session commits first (so SQLite's write lock is free and the request sees the
    set-up) and forgets what it loaded afterwards (so the test sees what the request changed)."""

    def open(self, *args, **kwargs):
        db.session.commit()
        try:
            with self.application.app_context():
                return super().open(*args, **kwargs)
        finally:
            db.session.expire_all()


@pytest.fixture
def app(database_url, tmp_path, request):
    overrides = getattr(request, "param", None) or {}
    app = create_app(base_config(database_url, str(tmp_path)) | overrides)
    app.test_client_class = IsolatedClient
    with app.app_context():
        if database_url not in _schema_ready:
            db.drop_all()
            db.create_all()
            _schema_ready.add(database_url)
        yield app
        db.session.remove()
        _wipe()
        db.engine.dispose()


def _wipe() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    # DELETE beats TRUNCATE on tables this small; ids keep counting up, which no test relies on.
    with db.engine.begin() as conn:
        for table in tables:
            conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


PASSWORD = "correct horse 1"


@dataclass
class World:
    """Two programmes: A (a bureau member and three communities with secretaries) and B (one of each)."""
    programme: object
    bureau: object
    secretaries: list
    communities: list
    other_programme: object
    other_bureau: object
    other_secretary: object
    other_community: object
    extra: dict = field(default_factory=dict)


def build_world() -> World:
    from salon.programmes import services

    programme, bureau = services.create_programme("甲县沙龙", "甲县民政局", "bureau_a", "甲 局", PASSWORD)
    communities, secretaries = [], []
    for i, name in enumerate(["景翼社区", "渭运社区", "陕拖社区"], start=1):
        community = services.add_community(programme, bureau, name)
        user, _ = services.hand_over_seat(community, bureau, f"sec_a{i}", f"{name}书记", PASSWORD)
        communities.append(community)
        secretaries.append(user)
    other, other_bureau = services.create_programme("乙县沙龙", "乙县民政局", "bureau_b", "乙 局", PASSWORD)
    other_community = services.add_community(other, other_bureau, "城东社区")
    other_secretary, _ = services.hand_over_seat(other_community, other_bureau, "sec_b1", "城东书记", PASSWORD)
    db.session.commit()
    return World(programme, bureau, secretaries, communities, other, other_bureau, other_secretary,
                 other_community)


@pytest.fixture
def world(app) -> World:
    return build_world()


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


@pytest.fixture
def as_bureau(client, world):
    login(client, "bureau_a")
    return client


@pytest.fixture
def as_secretary(client, world):
    login(client, "sec_a1")
    return client


def token_for(user) -> str:
    from salon.accounts import services

    _token, raw = services.create_token(user, "test")
    db.session.commit()
    return raw


@pytest.fixture
def api(app, world):
    """A JSON client: api(user).get(...) sends that user's bearer token."""

    class ApiClient:
        def __init__(self, user):
            self.headers = {"Authorization": f"Bearer {token_for(user)}"}
            self.client = app.test_client()

        def __getattr__(self, method):
            def call(path, **kw):
                headers = {**self.headers, **kw.pop("headers", {})}
                return getattr(self.client, method)("/api/v1" + path, headers=headers, **kw)
            return call

    return ApiClient
