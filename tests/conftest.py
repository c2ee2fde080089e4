"""Fixtures: every database test runs on SQLite and, when a server answers, on PostgreSQL."""
from __future__ import annotations

import os
import socket
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker

from flask.testing import FlaskClient

from salon import create_app
from salon.extensions import db
from tests import sealed_doubles

# The ballot engine's sealed-ballot interfaces the trustees room uses, doubled where this branch lacks them
# (tests/sealed_doubles.py; a no-op once the engine provides them).
sealed_doubles.install()

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


# Every database test runs on each of BACKENDS: SQLite always, PostgreSQL when it answers (or is required).
# SALON_TEST_SQLITE_ONLY=1 keeps SQLite alone; SALON_TEST_POSTGRES_ONLY=1 keeps PostgreSQL alone where it answers
# (the Makefile's year-ahead run: the boundary-date runs cover SQLite).
BACKENDS = ["sqlite"]
if os.environ.get("SALON_TEST_SQLITE_ONLY") != "1" and (REQUIRE_POSTGRES or _postgres_answers()):
    BACKENDS.append("postgresql")
    if os.environ.get("SALON_TEST_POSTGRES_ONLY") == "1":
        BACKENDS.remove("sqlite")


# SALON_TEST_CLOCK moves Python's clock for the whole run, ticking from there, so CI proves the suite does not
# depend on the day it runs: "+365d" (a year ahead) or a moment with its offset ("2028-02-29T10:00:00+08:00").
# Python's clock only, not the process's: a faked process clock also moves the deadlines of timed waits.
TEST_CLOCK = os.environ.get("SALON_TEST_CLOCK", "")
_travel = None


def _travel_destination(value: str) -> datetime:
    if value.startswith("+") and value.endswith("d"):
        return datetime.now(timezone.utc) + timedelta(days=int(value[1:-1]))
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise pytest.UsageError("SALON_TEST_CLOCK needs a UTC offset, e.g. 2028-12-31T23:59:00+08:00")
    return moment


def pytest_configure(config):
    global _travel
    if TEST_CLOCK:
        import time_machine

        _travel = time_machine.travel(_travel_destination(TEST_CLOCK), tick=True)
        _travel.start()
    if REQUIRE_POSTGRES and not _postgres_answers():
        raise pytest.UsageError(f"PostgreSQL is required (SALON_REQUIRE_POSTGRES=1) but does not answer at "
                                f"{make_url(POSTGRES_URL).render_as_string(hide_password=True)}")


def pytest_unconfigure(config):
    if _travel is not None:
        _travel.stop()


def pytest_report_header(config):
    clock_line = f"; Python's clock moved to {datetime.now(timezone.utc).isoformat()}" if TEST_CLOCK else ""
    return f"salon databases: {', '.join(BACKENDS)}{clock_line}"


LAYERS = ("unit", "services", "web", "e2e")
_layer_seconds: dict[str, float] = defaultdict(float)
_layer_tests: dict[str, int] = defaultdict(int)
_started = time.monotonic()


def _layer(nodeid: str) -> str:
    parts = nodeid.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" and parts[1] in LAYERS else "other"


def pytest_runtest_logreport(report):
    # Set-up, call and tear-down of each test, summed per layer (module-scoped fixtures count where they run).
    layer = _layer(report.nodeid)
    _layer_seconds[layer] += report.duration
    if report.when == "call" or (report.when == "setup" and report.skipped):
        _layer_tests[layer] += 1


_worker_axe_pages: set[str] = set()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """A pytest-xdist worker ended: keep the page states its browser journeys checked with axe-core."""
    _worker_axe_pages.update(getattr(node, "workeroutput", {}).get("axe_pages", ()))


def pytest_terminal_summary(terminalreporter):
    if _layer_tests.get("e2e"):
        from tests.e2e import conftest as e2e  # its constants; importing it at the top would be a cycle

        e2e.summary(terminalreporter, _worker_axe_pages)
    skipped_pg = "postgresql" not in BACKENDS
    if _layer_seconds:
        parts = [f"{layer} {_layer_seconds[layer]:.0f} s ({_layer_tests[layer]})"
                 for layer in (*LAYERS, "other") if layer in _layer_seconds]
        workers = getattr(terminalreporter.config.option, "numprocesses", None)
        summed = f" summed over {workers} workers" if workers else ""
        terminalreporter.write_line(f"salon: time per layer (tests{summed}): {', '.join(parts)}; "
                                    f"whole run {time.monotonic() - _started:.0f} s, load average "
                                    + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    note = ("" if BACKENDS == ["sqlite", "postgresql"]
            else " (SALON_TEST_POSTGRES_ONLY=1)" if not skipped_pg
            else " (SALON_TEST_SQLITE_ONLY=1)" if os.environ.get("SALON_TEST_SQLITE_ONLY") == "1"
            else " (PostgreSQL not reachable: skipped)")
    terminalreporter.write_line(f"salon: database tests ran on {' and '.join(BACKENDS)}{note}")


def create_postgres_database(prefix: str = "salon_test", template: str | None = None) -> str:
    """A new database; with template (a URL), a copy of that database (which nobody may be connected to)."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
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
        "SALON_DEMO_TRUSTEE_BACKUPS": os.path.join(instance_path, "demo-trustees"),
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


@pytest.fixture(scope="session")
def shared_apps():
    """One app per database for every test that needs no special settings: building the app (routes,
    OpenAPI document) costs more than most tests. Each test gets its configuration back afterwards."""
    apps: dict[str, object] = {}
    yield apps
    for app in apps.values():
        with app.app_context():
            db.engine.dispose()


# --- every poll sealed (SPEC §5.1) -------------------------------------------------------------------------------
# No poll opens without a trustees' key. A test's polls open with the trustees' real key when its programme has one
# (the demo, the trustees tests); otherwise with TEST_KEY, whose trustees the suite holds: they decrypt at once when
# such a poll closes (in the closing transaction, at the close's moment), so a test reads counts right after a
# close, as the trustees would give them later. A test that wants no key at all uses
# tests.sealed_keys.key_provider(app, None).
TEST_KEY_TERM = "tests-all"
_test_key: list = []


def test_key():
    from tests.sealed_keys import make_key
    if not _test_key:
        _test_key.append(make_key(TEST_KEY_TERM))
    return _test_key[0]


def _trustees_decrypt(poll, now=None, **_kw):
    """The TEST_KEY trustees, at a poll's close (a poll_closed receiver, connected once for the suite)."""
    from salon.ballots import services as ballots
    from salon.ballots.models import SealedKey
    from tests.sealed_keys import factors_of
    snapshot = db.session.get(SealedKey, poll.id) if poll.sealed else None
    if snapshot is not None and snapshot.term == TEST_KEY_TERM:
        if ballots.nothing_to_decrypt(poll):
            return  # below the minimum with nothing to decrypt: the close counts it right after this signal
        key = test_key()
        for trustee in range(1, key.threshold + 1):
            ballots.record_decryption(poll, trustee, factors_of(poll, key, trustee), now=now)


def seal_every_poll(app) -> None:
    """Wrap the app's key provider once: its real key when there is one, else TEST_KEY."""
    from salon.ballots import services as ballots
    from salon.ballots import signals
    if app.extensions.get("salon_test_sealing"):
        return
    app.extensions["salon_test_sealing"] = True
    signals.poll_closed.connect(_trustees_decrypt, weak=False)
    real = app.extensions.get("salon_ballot_key_provider")

    def provide(programme_id, kind, now):
        found = real(programme_id, kind, now) if real is not None else None
        return found if found is not None else test_key().poll_key()

    ballots.register_key_provider(app, provide)


def _app_for(database_url: str, overrides: dict, shared: dict, instance_path: str):
    if overrides:
        app = create_app(base_config(database_url, instance_path) | overrides)
    else:
        if database_url not in shared:
            shared[database_url] = create_app(base_config(database_url, instance_path))
        app = shared[database_url]
    app.test_client_class = IsolatedClient
    seal_every_poll(app)
    with app.app_context():
        if database_url not in _schema_ready:
            db.drop_all()
            db.create_all()
            _schema_ready.add(database_url)
    return app


@contextmanager
def _restored(app, owned: bool):
    from salon.extensions import limiter

    # The extension is one object whose switch the last app bound to it set: put this app's back.
    limiter.enabled = app.config["RATELIMIT_ENABLED"]
    config = dict(app.config)
    try:
        yield
    finally:
        app.config.clear()
        app.config.update(config)
        if limiter.enabled:
            limiter.reset()
        if owned:
            with app.app_context():
                db.engine.dispose()


# Worlds committed once per database and shared by the tests marked rolled_back (their ids, per database).
_shared_worlds: dict[str, "World"] = {}


def _shared_world(database_url: str) -> "World":
    """The shared world's ids, built and committed first if missing (a plain test wiped it, or none yet)."""
    from salon.programmes.models import Programme

    ids = _shared_worlds.get(database_url)
    if ids is None or db.session.get(Programme, ids.programme[1]) is None:
        db.session.remove()
        _wipe()
        ids = _shared_worlds[database_url] = world_ids(build_world())
    db.session.remove()
    return ids


@pytest.fixture
def app(database_url, tmp_path_factory, shared_apps, request):
    """The app, in an app context. A plain test starts on an empty database and everything it wrote is
    deleted afterwards. A test marked `rolled_back` runs in one transaction that is rolled back (see
    rolled_back()), and its `world` is built once per database and shared: for tests without threads,
    second connections or the VACUUM/checkpoint after a poll's close."""
    overrides = getattr(request, "param", None) or {}
    app = _app_for(database_url, overrides, shared_apps, str(tmp_path_factory.getbasetemp()))
    rolled = not overrides and request.node.get_closest_marker("rolled_back") is not None
    with _restored(app, owned=bool(overrides)):
        if rolled:
            with app.app_context():
                ids = _shared_world(database_url) if "world" in request.fixturenames else None
            app.extensions["salon_test_world"] = ids
            try:
                with rolled_back(app):
                    yield app
            finally:
                app.extensions.pop("salon_test_world", None)
            return
        with app.app_context():
            if _shared_worlds.pop(database_url, None) is not None:
                _wipe()  # a plain test starts on an empty database
            yield app
            db.session.remove()
            _wipe()


def _wipe() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    # DELETE beats TRUNCATE on tables this small; ids keep counting up, which no test relies on.
    with db.engine.begin() as conn:
        for table in tables:
            conn.execute(table.delete())


class _JoinedSession(FlaskSession):
    """A session on the connection it was given (Flask-SQLAlchemy's own picks the engine)."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind or self.bind or super().get_bind(mapper, clause, **kwargs)


@contextmanager
def rolled_back(app):
    """Run a test in one transaction that is rolled back at the end: every session (the test body's and
    each request's, each in its own app context) joins it, and its commit releases a SAVEPOINT instead.

    SQLAlchemy's "joining a session into an external transaction" recipe. On SQLite this relies on
    salon/database.py taking BEGIN from pysqlite (isolation_level None, BEGIN IMMEDIATE), so SAVEPOINT
    works. Not for tests that use threads, several connections, or the VACUUM/checkpoint after a close
    (they see no committed data; the close's compaction is skipped with a warning)."""
    with app.app_context():
        connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = scoped_session(
        sessionmaker(db=db, class_=_JoinedSession, query_cls=db.Query, bind=connection,
                     join_transaction_mode="create_savepoint"),
        scopefunc=original.registry.scopefunc)
    try:
        with app.app_context():
            yield
            db.session.remove()
    finally:
        db.session = original
        outer.rollback()
        connection.close()


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


def world_ids(world: World) -> World:
    """The same world with each row replaced by (model, id): what outlives a rolled-back transaction."""
    def strip(value):
        if isinstance(value, db.Model):
            return (type(value), value.id)
        if isinstance(value, list):
            return [strip(v) for v in value]
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()}
        return value

    return World(**{name: strip(getattr(world, name)) for name in World.__dataclass_fields__})


def load_world(ids: World) -> World:
    """A world of rows loaded in the current session from world_ids()."""
    def load(value):
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], type):
            return db.session.get(*value)
        if isinstance(value, list):
            return [load(v) for v in value]
        if isinstance(value, dict):
            return {k: load(v) for k, v in value.items()}
        return value

    return World(**{name: load(getattr(ids, name)) for name in World.__dataclass_fields__})


@pytest.fixture
def world(app) -> World:
    ids = app.extensions.get("salon_test_world")
    return load_world(ids) if ids is not None else build_world()


@pytest.fixture
def at(monkeypatch):
    """at(moment): from now on in the test, every service and page sees `moment` as now (salon.clock); answers it.
    For rules at a boundary of time (a deadline, one second before): dates are built from a moment the test took."""
    from salon import clock

    def move(moment):
        monkeypatch.setattr(clock, "_fixed", moment)
        return moment
    return move


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


