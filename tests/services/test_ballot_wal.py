"""SQLite: after a poll closes, nothing of the voting order is left in the write-ahead log (SPEC §5),
even when another connection was reading at the moment of the close."""
import os
import sqlite3
import threading
import time
from datetime import datetime, timedelta

import pytest

from salon.ballots import services as ballots
from salon.extensions import db
from salon.rules import ballots as rules
from tests.legacy_polls import legacy_opening

NOW = datetime(2026, 3, 1, 8, 0)


@pytest.fixture(autouse=True)
def _opened_before_0013(monkeypatch):
    """This file tests the plain path (counters, receipt codes, the scrub), which only polls opened before
    migration 0013 take: no poll opens plain any more (tests/legacy_polls.py, docs/secrecy.md)."""
    with legacy_opening(monkeypatch):
        yield


def _voted_poll(world):
    """A poll in which every seat of the world has voted, each ballot committed on its own."""
    poll = ballots.create_poll(world.programme.id, "test", "测试", closes_at=NOW + timedelta(days=7),
                               opens_at=NOW, min_published=1)
    question = ballots.add_question(poll, "Q", rules.APPROVAL, 2)
    options = [ballots.add_option(question, f"选项{i}") for i in range(3)]
    seats = [c.seat.id for c in world.communities]
    ballots.open_poll(poll, seats, world.bureau, NOW)
    db.session.commit()
    for seat, option in zip(seats, options):
        ballots.cast(poll.id, seat, [option.id], world.programme.id, NOW)
        db.session.commit()
    return poll


def test_wal_is_emptied_after_close_even_with_a_reader(app, world):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write-ahead log")
    path = db.engine.url.database
    with app.test_request_context():
        poll = _voted_poll(world)
        assert os.path.getsize(path + "-wal") > 0

        reader = sqlite3.connect(path, check_same_thread=False)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM ballot_counters").fetchone()  # holds a read snapshot
        release = threading.Timer(0.5, lambda: (reader.rollback(), reader.close()))
        release.start()
        ballots.close_poll(poll, world.bureau, NOW + timedelta(days=1))
        db.session.commit()  # waits for the reader, then empties the log
        release.join()
    assert os.path.getsize(path + "-wal") == 0


def test_a_reader_that_outlasts_the_close_is_caught_up_by_tick(app, world, monkeypatch):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write-ahead log")
    path = db.engine.url.database
    with app.test_request_context():
        poll = _voted_poll(world)
        reader = sqlite3.connect(path)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM ballot_counters").fetchone()
        monkeypatch.setattr(ballots.truncate_sqlite_wal, "__defaults__", (1, 0.0))
        ballots.close_poll(poll, world.bureau, NOW + timedelta(days=1))
        db.session.commit()
        assert os.path.getsize(path + "-wal") > 0  # the reader kept the log alive
        reader.rollback()
        reader.close()
    monkeypatch.undo()
    result = app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert os.path.getsize(path + "-wal") == 0
    assert db.session.execute(db.text("PRAGMA secure_delete")).scalar() == 1
