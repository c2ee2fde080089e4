"""The connection pool: no ping per request, yet a connection that died while idle never fails a request."""
import pytest
from sqlalchemy import create_engine, text

from salon import config
from salon.extensions import db
from tests.conftest import POSTGRES_URL


def test_no_pre_ping_and_a_pool_as_large_as_the_threads(tmp_path):
    options = config.from_environment(str(tmp_path), need_secret=False)["SQLALCHEMY_ENGINE_OPTIONS"]
    assert not options.get("pool_pre_ping")
    assert options["pool_size"] >= 32  # bench and `make run`: up to 8 threads (or 32 gevent connections) per worker


def _kill_the_pool_connections() -> int:
    """Terminate, from outside, the server processes of this app's idle pooled connections — only those: other
    apps of the suite share the database, and their pools must not lose connections under their feet."""
    held = [db.engine.connect() for _ in range(db.engine.pool.checkedin())]
    pids = [conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() for conn in held]
    for conn in held:
        conn.rollback()
        conn.close()
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                   " WHERE pid = ANY(:pids)"), {"pids": pids}).scalar()
    admin.dispose()
    return killed


@pytest.mark.parametrize("app", [{"SALON_DB_IDLE_CHECK_SECONDS": 0.0}], indirect=True)
def test_a_connection_killed_while_idle_is_replaced_before_a_request_uses_it(app, api, world):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no server to lose the connection")
    bureau = api(world.bureau)
    assert bureau.get("/me").status_code == 200
    db.session.commit()
    db.session.close()  # every connection back in the pool, idle
    assert _kill_the_pool_connections() >= 1
    for _ in range(3):
        assert bureau.get("/me").status_code == 200
