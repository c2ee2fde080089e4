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
