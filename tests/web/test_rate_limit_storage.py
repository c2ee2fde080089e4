"""Redis gone while people log in (issue 18; the decision and its reasons: docs/faults.md).

The log-in limits are counted in Redis when SALON_RATELIMIT_STORAGE_URI names it. When Redis stops answering,
Salon neither refuses every log-in (closed: the whole programme locked out by a fault of a counter store) nor
drops the limits (open: guessing passwords unlimited for as long as Redis is down): it goes on counting in each
server process's memory, with the same limits, until Redis answers again.

The test serves Salon with waitress, as production does, on a SQLite database of its own, with the limits
counted in a Redis server it starts on a free port (redis-server from Debian's package) and then kills; without
redis-server, the limits are pointed at a port where nothing listens, which is Redis gone from the start."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from salon import create_app
from salon.extensions import db
from salon.programmes import services as programmes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PASSWORD = "storage-password-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start")
            time.sleep(0.1)


def _stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(15)


def _browser():
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    try:
        from cluster import Browser  # bench/cluster.py: a client with a cookie jar that logs in through the form
    finally:
        sys.path.remove(os.path.join(ROOT, "bench"))
    return Browser


@pytest.fixture
def accounts(tmp_path):
    """A SQLite database with two programmes, each with its bureau account (username, same password)."""
    url = "sqlite:///" + str(tmp_path / "salon.sqlite")
    app = create_app({"SECRET_KEY": "storage", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                      "SALON_PASSWORD_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context(), app.test_request_context():
        db.create_all()
        for name in ("alpha", "beta"):
            programmes.create_programme(f"沙龙{name}", "民政局", f"bureau_{name}", "局长", PASSWORD)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return url


def _serve(tmp_path, database_url: str, storage_uri: str) -> tuple[subprocess.Popen, int, object]:
    port = _free_port()
    env = dict(os.environ, SALON_DATABASE_URL=database_url, SALON_INSTANCE_PATH=str(tmp_path),
               SALON_SECRET_KEY="storage-" + os.urandom(8).hex(), SALON_RATELIMIT_ENABLED="1",
               SALON_RATELIMIT_STORAGE_URI=storage_uri,
               SALON_LOGIN_LIMIT_ACCOUNT="3 per 5 minutes", SALON_LOGIN_LIMIT_ADDRESS="100 per 5 minutes")
    log = open(tmp_path / "waitress.log", "w")
    server = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "waitress-serve"),
                               f"--listen=127.0.0.1:{port}", "--threads=4", "--call", "salon:create_app"],
                              env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return server, port, log


def test_with_redis_gone_the_login_limit_goes_on_in_memory_and_nobody_is_locked_out(tmp_path, accounts):
    Browser = _browser()
    redis_port = _free_port()
    redis = None
    if shutil.which("redis-server"):
        redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no", "--dir", str(tmp_path)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    server, port, log = _serve(tmp_path, accounts, f"redis://127.0.0.1:{redis_port}/0")
    try:
        _wait_for(port, server, "waitress")

        def log_in(username: str, password: str) -> int:
            return Browser(port).log_in(username, password)

        if redis is not None:
            _wait_for(redis_port, redis, "redis-server")
            import redis as redis_client

            assert [log_in("bureau_alpha", "wrong") for _ in range(2)] == [401, 401]
            assert redis_client.Redis(port=redis_port).dbsize() > 0  # the failures were counted in Redis
            _stop(redis)

        # Redis gone: a person with the right password logs in.
        assert log_in("bureau_beta", PASSWORD) == 302
        # Guessing is still limited: three failures of an account, then 429, the right password included.
        assert [log_in("bureau_alpha", "wrong") for _ in range(4)] == [401, 401, 401, 429]
        assert log_in("bureau_alpha", PASSWORD) == 429
        # The other account is not caught by that account's limit.
        assert log_in("bureau_beta", PASSWORD) == 302
        assert server.poll() is None
    finally:
        _stop(server)
        _stop(redis)
        log.close()
    assert "Traceback" not in (tmp_path / "waitress.log").read_text()


def test_a_redis_that_hangs_does_not_hang_the_login(tmp_path, accounts):
    """A Redis host that stops answering without closing connections (a network partition): here a socket
    that listens and never reads. After the storage's one-second timeout the limits go on in memory."""
    Browser = _browser()
    with socket.socket() as black_hole:
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(64)
        server, port, log = _serve(tmp_path, accounts, f"redis://127.0.0.1:{black_hole.getsockname()[1]}/0")
        try:
            _wait_for(port, server, "waitress")
            answers, seconds = [], []
            for username, password in [("bureau_beta", PASSWORD)] + [("bureau_alpha", "wrong")] * 4:
                started = time.monotonic()
                answers.append(Browser(port).log_in(username, password))
                seconds.append(time.monotonic() - started)
            assert answers == [302, 401, 401, 401, 429]
            # One second for Redis to answer (salon/config.py), then memory; and the same one second whenever
            # Flask-Limiter looks whether Redis is back. redis-py's own default waits 5 s (older ones: for ever).
            assert max(seconds) < 4, seconds
        finally:
            _stop(server)
            log.close()
