"""The demo's record (issue 7): attendance for sessions 1–3; session 3 carries the source's outcome as a
resolution, with action items for 县医保局 and the insurance company, one of them overdue."""
from datetime import datetime

from sqlalchemy import select

from salon import clock, demo
from salon.extensions import db
from salon.outcomes import services
from salon.schedule.models import Session
from salon.topics.demo import PROMISE


def test_demo_carries_the_sources_outcome(app, monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2026, 11, 23, 4))
    with app.test_request_context():
        programme = demo.load()
        db.session.commit()
    sessions = {s.number: s.id for s in db.session.scalars(
        select(Session).where(Session.programme_id == programme.id, Session.number <= 3))}
    summary = services.summaries(programme.id, sessions.values(), services.today(programme))
    for number in (1, 2, 3):
        assert len(summary[sessions[number]].present_community_ids) >= 15
    third = summary[sessions[3]]
    assert third.resolutions[0].number == 1 and third.resolutions[0].text == PROMISE
    assert len(third.present_guest_ids) == 2
    owners = {a.owner_unit for a in third.actions}
    assert "县医保局" in owners and any("保险公司" in owner for owner in owners)
    overdue = services.overdue_items(programme.id, services.today(programme))
    assert "某保险公司 (示例)" in [o.item.owner_unit for o in overdue]  # the source's item still open
    assert all(o.item.due_on < services.today(programme) and o.item.status not in ("done", "dropped")
               for o in overdue)
