"""The database unreachable, or a connection cut: 503 with Retry-After, the API's JSON error or a page, never a
500, and nothing of the request kept (docs/faults.md). The real restart is tests/web/test_database_restart.py."""
from __future__ import annotations

import socket
from datetime import timedelta

import psycopg
import pytest
from flask import has_request_context
from sqlalchemy import event, exc
from sqlalchemy.orm import Session as OrmSession

from salon import clock, create_app
from salon.ballots import services as ballots
from salon.errors import RETRY_AFTER_SECONDS
from salon.extensions import db
from salon.rules import ballots as rules


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


@pytest.fixture
def unreachable(tmp_path):
    """An app whose PostgreSQL does not answer (no server on its port)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "unreachable", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "SALON_INSTANCE": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/salon"})
    yield app
    with app.app_context():
        db.engine.dispose()


def _is_unavailable(response) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)


def test_the_api_answers_503_with_retry_after_and_its_json_error(unreachable):
    client = unreachable.test_client()
    token = {"Authorization": "Bearer sln_" + "x" * 43}
    for response in (client.post("/api/v1/polls/1/ballot", json={"choices": [1]}, headers=token),
                     client.get("/api/v1/me", headers=token)):
        _is_unavailable(response)
        error = response.get_json()["error"]
        assert error["status"] == 503 and error["message"] == "服务暂时不可用，请几秒钟后再试。"
    english = client.get("/api/v1/me", headers={**token, "Accept-Language": "en"})
    _is_unavailable(english)
    assert english.get_json()["error"]["message"].startswith("The service is briefly unavailable")


def test_a_page_answers_503_with_retry_after_and_says_to_try_again(unreachable):
    response = unreachable.test_client().post("/login", data={"username": "sec_a1", "password": "secret-password"})
    _is_unavailable(response)
    assert response.mimetype == "text/html"
    assert "服务暂时不可用，请几秒钟后再试。" in response.get_data(as_text=True)


@pytest.fixture
def poll(app, world):
    with app.test_request_context():
        poll = ballots.create_poll(world.programme.id, "test", "测试", closes_at=clock.utcnow() + timedelta(days=1),
                                   opens_at=clock.utcnow())
        question = ballots.add_question(poll, "Q", rules.APPROVAL, 2)
        options = [ballots.add_option(question, f"选项{i}").id for i in range(3)]
        ballots.open_poll(poll, [c.seat.id for c in world.communities], world.bureau)
        db.session.commit()
        return poll.id, options


@pytest.fixture
def commit_cut_once(app):
    """The next commit at the end of a request fails as when the database ends the connection under it."""
    cut = []
    # An error raised after the view (the commit) reaches Flask's last-resort handler, which re-raises it in
    # tests; in production it answers through the app's handlers, as here (the app's config is put back).
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def cut_the_connection(_session):
        if has_request_context() and not cut:
            cut.append(True)
            raise exc.OperationalError("COMMIT", None, psycopg.OperationalError("server closed the connection"))

    event.listen(OrmSession, "before_commit", cut_the_connection)
    yield cut
    event.remove(OrmSession, "before_commit", cut_the_connection)


def test_a_ballot_whose_commit_fails_is_not_counted_and_can_be_cast_again(app, world, api, poll, commit_cut_once):
    poll_id, options = poll
    secretary = api(world.secretaries[0])
    refused = secretary.post(f"/polls/{poll_id}/ballot", json={"choices": options[:1]})
    assert commit_cut_once, "the fault was not injected"
    _is_unavailable(refused)
    assert refused.get_json()["error"]["status"] == 503
    assert ballots.turnout(poll_id) == 0
    again = secretary.post(f"/polls/{poll_id}/ballot", json={"choices": options[:1]})
    assert again.status_code == 201 and again.get_json()["receipt"]
    assert ballots.turnout(poll_id) == 1


# --- every place a restart can strike, on a sealed poll (issue 18; docs/faults.md "Every place a restart can strike")
# Each fault is what the driver or SQLAlchemy raises when PostgreSQL goes away at that moment, injected once (or, for
# the teardown, every time) without restarting anything; the ballot must then be answered 503 with Retry-After and
# the API's JSON error, nothing of it kept, and the same ballot sent again counted.

def _cut(statement: str = "", driver_error: bool = False):
    """The error of a connection the server ended: the driver's own (raised by code that uses the driver's cursor,
    as the token check does on PostgreSQL) or as SQLAlchemy wraps it."""
    dbapi = db.engine.dialect.loaded_dbapi
    error = dbapi.OperationalError("terminating connection due to administrator command")
    return error if driver_error else exc.OperationalError(statement, None, error)


@pytest.fixture
def faults(app, monkeypatch):
    """fail(where, times): the next `times` requests meet the fault at `where`. Answers a list of the faults met."""
    met = []
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production (see commit_cut_once)
    listeners = []

    def listen(target, name, listener):
        event.listen(target, name, listener)
        listeners.append((target, name, listener))

    def fail(where: str, times: int = 1):
        left = [times]

        def due() -> bool:
            if not has_request_context() or left[0] <= 0:
                return False
            left[0] -= 1
            met.append(where)
            return True

        def on_statement(match):
            def listener(_conn, _cursor, statement, _params, _context, _many):
                if match in statement and due():
                    raise _cut(statement)
            return listener

        if where == "checkout":  # no connection can be had: the pool's next connect fails
            db.engine.dispose()

            def refuse(*_args):
                if due():
                    raise db.engine.dialect.loaded_dbapi.OperationalError("connection refused")
            listen(db.engine, "do_connect", refuse)
        elif where == "token check":
            from salon.accounts import auth
            real = auth.token_holder

            def token_holder(raw):
                if due():  # PostgreSQL: the driver's error, unwrapped (the check runs on its cursor)
                    raise _cut(driver_error=db.engine.dialect.name == "postgresql")
                return real(raw)
            monkeypatch.setattr(auth, "token_holder", token_holder)
        elif where == "sealed cast":  # inside the cast's transaction, storing the sealed ballot
            if db.engine.dialect.name == "postgresql":
                # The writes are one statement on the driver's cursor (casting.CAST_SQL): the connection is cut
                # once it has run (written, not committed), and the driver's error arrives unwrapped.
                from salon.ballots.services import casting
                real_cast = casting._cast_postgresql

                def cast_then_cut(cursor, *args):
                    answer = real_cast(cursor, *args)
                    if due():
                        assert answer[2:] == (1, len(args[-1].alphas), 1)  # seat, ciphertexts, ballot written
                        raise _cut(driver_error=True)
                    return answer
                monkeypatch.setattr(casting, "_cast_postgresql", cast_then_cut)
            else:
                listen(db.engine, "before_cursor_execute", on_statement("INSERT INTO ballot_sealed "))
        elif where == "commit":
            def commit(_session):
                if due():
                    raise _cut("COMMIT")
            listen(OrmSession, "before_commit", commit)
        elif where in ("after request", "teardown"):  # the rollback after a refusal, or after a failed commit
            dialect = db.engine.dialect
            real_rollback = dialect.do_rollback

            def do_rollback(dbapi_connection):
                if due():
                    raise _cut(driver_error=True)  # SQLAlchemy wraps what do_rollback raises
                return real_rollback(dbapi_connection)
            monkeypatch.setattr(dialect, "do_rollback", do_rollback)
        elif where == "session lookup":  # a page's user, loaded from the session cookie
            listen(db.engine, "before_cursor_execute", on_statement("FROM users"))
        else:
            raise AssertionError(where)

    yield fail, met
    for target, name, listener in listeners:
        event.remove(target, name, listener)


def _is_the_json_503(response) -> None:
    _is_unavailable(response)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["status"] == 503 and error["message"] == "服务暂时不可用，请几秒钟后再试。"


def _sealed_body(secretary, poll_id, choices, plain: bool) -> dict:
    """A client seals with salon/sealed/client.py from the poll's seal spec (the API's poll JSON)."""
    from salon.sealed import client
    if plain:
        return {"choices": choices}
    spec = client.spec_from_json(secretary.get(f"/polls/{poll_id}").get_json())
    return client.request_body(client.seal_ballot(spec, spec.answers_for_options(choices)))


@pytest.mark.parametrize("where", ["checkout", "token check", "sealed cast", "commit", "teardown"])
@pytest.mark.parametrize("sealed_by", ["voter", "server"])
def test_a_sealed_ballot_meeting_the_database_gone_is_answered_503_and_can_be_cast_again(app, world, api, poll,
                                                                                         faults, where, sealed_by):
    fail, met = faults
    poll_id, options = poll
    assert ballots.get_sealed_poll(poll_id, world.programme.id).sealed
    secretary = api(world.secretaries[0])
    body = _sealed_body(secretary, poll_id, options[:2], plain=sealed_by == "server")
    if where == "teardown":  # the commit fails, and so does every rollback after it
        fail("commit")
        fail("teardown", times=3)
    else:
        fail(where)
    refused = secretary.post(f"/polls/{poll_id}/ballot", json=body)
    assert met and met[0] == ("commit" if where == "teardown" else where), "the fault was not injected"
    assert where != "teardown" or "teardown" in met, "no rollback failed"
    _is_the_json_503(refused)
    assert ballots.turnout(poll_id) == 0
    again = secretary.post(f"/polls/{poll_id}/ballot", json=body)
    assert again.status_code == 201, again.get_json()
    if sealed_by == "voter":
        from salon.sealed import client
        assert again.get_json()["receipt"] == client.fingerprint(body["sealed"])
    assert ballots.turnout(poll_id) == 1


def test_a_refused_ballot_whose_rollback_fails_is_answered_503_then_refused_again(app, world, api, poll, faults):
    fail, met = faults
    poll_id, options = poll
    secretary = api(world.secretaries[0])
    assert secretary.post(f"/polls/{poll_id}/ballot", json={"choices": options[:1]}).status_code == 201
    fail("after request")
    second = secretary.post(f"/polls/{poll_id}/ballot", json={"choices": options[1:2]})
    assert met == ["after request"]
    _is_the_json_503(second)
    again = secretary.post(f"/polls/{poll_id}/ballot", json={"choices": options[1:2]})
    assert again.status_code == 409 and again.get_json()["error"]["fields"] == {"seat": [again.get_json()["error"]
                                                                                         ["message"]]}
    assert ballots.turnout(poll_id) == 1


def test_a_page_whose_user_cannot_be_loaded_says_to_try_again(app, world, client, faults):
    from tests.conftest import login
    fail, met = faults
    assert login(client, "sec_a1").status_code == 302
    fail("session lookup")
    page = client.get("/")
    assert met == ["session lookup"]
    _is_unavailable(page)
    assert page.mimetype == "text/html" and "服务暂时不可用，请几秒钟后再试。" in page.get_data(as_text=True)
    assert client.get("/").status_code == 200  # still logged in


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": True, "SALON_LOGIN_LIMIT_ACCOUNT": "2 per 5 minutes",
                                  "SALON_LOGIN_LIMIT_ADDRESS": "20 per 5 minutes"}], indirect=True)
def test_log_ins_the_database_could_not_answer_do_not_use_up_the_limit(app, world, faults):
    from salon.extensions import limiter
    from tests.conftest import PASSWORD, login
    fail, met = faults
    limiter.reset()
    client = app.test_client()
    fail("session lookup", times=3)  # the log-in's look-up of the account
    for _ in range(3):
        _is_unavailable(login(client, "sec_a1"))
    assert met == ["session lookup"] * 3
    assert login(client, "sec_a1", PASSWORD).status_code == 302  # not 429: no password was refused
    limiter.reset()


@pytest.mark.parametrize("sealed_by", ["voter", "server"])
def test_a_sealed_ballot_on_a_pooled_connection_the_restart_ended_is_answered_503_then_counted(app, world, api, poll,
                                                                                               sealed_by):
    """Not injected: the server really ended the pooled connections (as a restart does) while they sat idle for
    less than the idle check's 10 s, so the next request takes one of them and meets the driver's own error."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no server to lose the connection")
    from tests.services.test_connection_pool import _kill_the_pool_connections
    app.config["PROPAGATE_EXCEPTIONS"] = False
    poll_id, options = poll
    secretary = api(world.secretaries[0])
    body = _sealed_body(secretary, poll_id, options[:1], plain=sealed_by == "server")
    db.session.commit()
    db.session.close()
    assert _kill_the_pool_connections() >= 1
    refused = secretary.post(f"/polls/{poll_id}/ballot", json=body)
    _is_the_json_503(refused)
    assert ballots.turnout(poll_id) == 0
    assert secretary.post(f"/polls/{poll_id}/ballot", json=body).status_code == 201  # the pool renewed itself
    assert ballots.turnout(poll_id) == 1
