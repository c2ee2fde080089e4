"""The audit log: every administrative action chained; tampering shows up at the first broken link."""
import pytest
from sqlalchemy import select, text, update

from salon.audit import services
from salon.audit.models import AuditEvent
from salon.extensions import db

pytestmark = pytest.mark.rolled_back  # one transaction per test, rolled back; world built once


def test_the_world_is_audited_and_the_chain_holds(world):
    checked, broken = services.verify()
    assert broken is None
    count = db.session.scalar(select(db.func.count(AuditEvent.id)))
    assert checked == count >= 10
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.programme_id == world.programme.id).order_by(AuditEvent.seq)).all()
    assert actions[:3] == ["programme.create", "account.create", "community.add"]
    assert "seat.handover" in actions


def test_editing_an_entry_breaks_the_chain_there(world):
    target = db.session.scalar(select(AuditEvent).where(AuditEvent.programme_id == world.programme.id,
                                                        AuditEvent.seq == 4))
    db.session.execute(update(AuditEvent).where(AuditEvent.id == target.id).values(actor_name="someone_else"))
    db.session.commit()
    _checked, broken = services.verify(world.programme.id)
    assert (broken.programme_id, broken.seq) == (world.programme.id, 4)
    assert "hash" in broken.reason
    assert services.verify(world.other_programme.id)[1] is None


def test_removing_an_entry_breaks_the_chain(world):
    db.session.execute(text("DELETE FROM audit_events WHERE programme_id = :p AND seq = 3"),
                       {"p": world.programme.id})
    db.session.commit()
    _checked, broken = services.verify(world.programme.id)
    assert broken.seq == 4


def test_rehashing_an_edited_entry_still_breaks_the_next_link(world):
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.programme_id == world.programme.id,
                                                       AuditEvent.seq == 2))
    event.details = {"forged": True}
    event.hash = services._digest(event)
    db.session.commit()
    _checked, broken = services.verify(world.programme.id)
    assert broken.seq == 3
