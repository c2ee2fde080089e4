"""The demo (SPEC §10): whatever day it is loaded, a visitor finds the next session taking nominations."""
from datetime import datetime

import pytest
from sqlalchemy import select

from salon import clock, demo
from salon.extensions import db
from salon.schedule.models import Session, SessionStatus
from salon.topics import services as topics
from salon.topics.models import Nomination


@pytest.mark.parametrize("today", [datetime(2026, 11, 21, 2), datetime(2026, 11, 1, 2), datetime(2027, 2, 10, 2),
                                   datetime(2026, 12, 20, 2)])
def test_next_session_takes_nominations_on_any_day(app, monkeypatch, today):
    monkeypatch.setattr(clock, "utcnow", lambda: today)
    with app.test_request_context():
        programme = demo.load()
        db.session.commit()
    sessions = db.session.scalars(select(Session).where(Session.programme_id == programme.id)
                                  .order_by(Session.number)).all()
    assert [s.status for s in sessions[:3]] == [SessionStatus.HELD] * 3
    fourth, third = sessions[3], sessions[2]
    assert fourth.number == 4 and fourth.starts_at > today
    assert topics.windows(fourth, programme, third).nominating(today)
    titles = db.session.scalars(select(Nomination.title).where(Nomination.session_id == fourth.id)).all()
    assert len(titles) == 3 and any(t.startswith("网格员负担过重") for t in titles)
