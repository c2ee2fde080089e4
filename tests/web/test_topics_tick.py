"""`salon tick` opening and closing a topic vote."""
from __future__ import annotations

from datetime import timedelta

from salon import clock
from salon.extensions import db
from tests.web.test_topics import nominate, sessions  # noqa: F401 - the fixture


def test_tick_opens_and_closes(app, api, world, sessions, monkeypatch):
    s2 = sessions[1]
    nominate(api(world.secretaries[0]), s2)
    from salon.topics import services

    monkeypatch.setattr(clock, "utcnow", lambda: s2.starts_at - timedelta(days=10))
    result = app.test_cli_runner().invoke(args=["tick"])
    assert result.exception is None, repr(result.exception)
    said = result.output
    assert f"第{s2.number}期投票已开始" in said or f"Voting opened for session {s2.number}." in said
    assert services.topic_poll(s2.id).state.value == "open"
    monkeypatch.setattr(clock, "utcnow", lambda: s2.starts_at - timedelta(days=1))
    app.test_cli_runner().invoke(args=["tick"])
    db.session.expire_all()
    assert services.topic_poll(s2.id).state.value == "closed"
