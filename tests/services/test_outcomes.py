"""What a session produced (SPEC §6): attendance per seat, numbered resolutions, action items with dated updates,
overdue items at the boundary in the programme's time zone, and the read functions other rooms use."""
from datetime import date, datetime, timedelta

import pytest
from flask import current_app
from sqlalchemy import event, func, select, update

from salon.errors import Conflict, Forbidden, ValidationFailed
from salon.extensions import db
from salon.outcomes import limits, services
from salon.outcomes.models import ActionItem, ActionUpdate, Attendance
from salon.programmes import services as programmes
from salon.programmes.models import SeatHolding
from salon.schedule.models import SessionStatus
from tests.outcome_helpers import decided_session, record

NOW = datetime(2026, 11, 23, 4, 0)  # 12:00 in Shanghai


@pytest.fixture
def held(world):
    """Session 1, held a month ago, chaired by the first community (its secretary is secretaries[0]).
    The secretaries have held their seats since 2020."""
    db.session.execute(update(SeatHolding).values(started_at=datetime(2020, 1, 1)))
    return decided_session(world.programme, world.bureau, world.communities[0], 1, NOW - timedelta(days=30),
                           "如何破解社区万能章", world.communities, world.secretaries,
                           guests=[("王科长", "县医保局"), ("李经理", "某保险公司")])


@pytest.fixture
def ctx(app):
    with current_app.test_request_context():
        yield


def test_attendance_is_kept_per_seat_with_who_held_it(world, held, ctx):
    guest_ids = [g.id for g in services.topics.guests(held.id)]
    services.record_attendance(held, world.secretaries[0], [world.communities[0].id, world.communities[2].id],
                               guest_ids[:1], now=NOW)
    rows = db.session.scalars(select(Attendance).where(Attendance.session_id == held.id)).all()
    seats = {r.seat_id for r in rows if r.seat_id}
    assert seats == {world.communities[0].seat.id, world.communities[2].seat.id}
    assert {r.holder_id for r in rows if r.seat_id} == {world.secretaries[0].id, world.secretaries[2].id}
    assert [r.guest_id for r in rows if r.guest_id] == guest_ids[:1]
    view = services.attendance(held)
    assert view.present_communities == 2 and view.present_guests == 1
    # Recording again replaces: absence is no row.
    services.record_attendance(held, world.bureau, [world.communities[1].id], [], now=NOW)
    assert db.session.scalar(select(func.count(Attendance.id)).where(Attendance.session_id == held.id)) == 1


def test_attendance_keeps_the_holder_at_the_session_after_a_handover(world, held, ctx):
    programmes.hand_over_seat(world.communities[2], world.bureau, "sec_new", "新书记", "correct horse 1")
    services.record_attendance(held, world.bureau, [world.communities[2].id], [], now=NOW)
    row = db.session.scalar(select(Attendance).where(Attendance.session_id == held.id))
    assert row.holder_id == world.secretaries[2].id  # held the seat on the day, not the new secretary


def test_bad_attendance_names_the_field_and_changes_nothing(world, held, ctx):
    with pytest.raises(ValidationFailed) as error:
        services.record_attendance(held, world.bureau, [world.other_community.id], [], now=NOW)
    assert error.value.field == "community_ids"
    with pytest.raises(ValidationFailed) as error:
        services.record_attendance(held, world.bureau, ["x"], [], now=NOW)
    assert error.value.field == "community_ids"
    assert db.session.scalar(select(func.count(Attendance.id))) == 0


def test_only_the_bureau_and_the_chair_write(world, held, ctx):
    with pytest.raises(Forbidden):
        services.add_resolution(held, world.secretaries[1], "不是主席", now=NOW)
    assert services.add_resolution(held, world.secretaries[0], "主席可以", now=NOW).number == 1
    assert services.add_resolution(held, world.bureau, "民政局可以", now=NOW).number == 2


def test_nothing_is_recorded_before_the_session_begins_or_for_a_cancelled_one(world, held, ctx):
    with pytest.raises(Conflict):
        services.add_resolution(held, world.bureau, "太早", now=held.starts_at - timedelta(minutes=1))
    held.status = SessionStatus.CANCELLED
    with pytest.raises(Conflict):
        services.set_minutes(held, world.bureau, "取消了", now=NOW)


def test_resolutions_are_numbered_and_close_up_when_one_is_removed(world, held, ctx):
    made = [services.add_resolution(held, world.bureau, f"决议{i}", now=NOW) for i in range(1, 4)]
    services.remove_resolution(made[0], world.bureau, now=NOW)
    assert [(r.number, r.text) for r in services.resolutions(held.id)] == [(1, "决议2"), (2, "决议3")]
    assert services.add_resolution(held, world.bureau, "决议4", now=NOW).number == 3


def test_input_limits_come_from_one_place(world, held, ctx):
    with pytest.raises(ValidationFailed) as error:
        services.add_resolution(held, world.bureau, "决" * (limits.RESOLUTION_MAX + 1), now=NOW)
    assert error.value.field == "text"
    for data, field in [({"what": "", "owner_unit": "县医保局"}, "what"),
                        ({"what": "x", "owner_unit": "单" * (limits.OWNER_UNIT_MAX + 1)}, "owner_unit"),
                        ({"what": "x", "owner_unit": "y", "due_on": "2026-13-01"}, "due_on"),
                        ({"what": "x", "owner_unit": "y", "due_on": "1999-12-31"}, "due_on"),
                        ({"what": "x", "owner_unit": "y", "status": "finished"}, "status")]:
        with pytest.raises(ValidationFailed) as error:
            services.add_action(held, world.bureau, data, now=NOW)
        assert error.value.field == field
    assert db.session.scalar(select(func.count(ActionItem.id))) == 0


def test_action_item_updates_are_dated_and_say_what_changed(world, held, ctx):
    item = services.add_action(held, world.bureau, {"what": "印发通知", "owner_unit": "陕拖社区",
                                                    "due_on": date(2026, 12, 1)}, now=NOW)
    assert item.owner_community_id == world.communities[2].id  # named like a community: that community owns it
    later = NOW + timedelta(days=3)
    services.update_action(item, world.secretaries[0], {"status": "in_progress", "due_on": date(2026, 12, 15),
                                                         "note": "已起草"}, now=later)
    update = db.session.scalar(select(ActionUpdate))
    assert (update.at, update.by_id, update.old_status, update.new_status, update.old_due_on, update.new_due_on,
            update.note) == (later, world.secretaries[0].id, "open", "in_progress", date(2026, 12, 1),
                             date(2026, 12, 15), "已起草")
    with pytest.raises(ValidationFailed) as error:
        services.update_action(item, world.bureau, {"status": "in_progress"}, now=later)
    assert error.value.field == "note"  # nothing changed and no note
    with pytest.raises(Forbidden):
        services.update_action(item, world.secretaries[1], {"status": "done"}, now=later)


def test_overdue_at_the_boundary_in_the_programmes_time_zone(world, held, ctx):
    record(held, world.bureau, actions=[("今天到期", "县医保局", date(2026, 11, 23), "open"),
                                        ("昨天到期", "县医保局", date(2026, 11, 22), "in_progress"),
                                        ("昨天到期但已完成", "县医保局", date(2026, 11, 22), "done"),
                                        ("昨天到期但已取消", "县医保局", date(2026, 11, 22), "dropped"),
                                        ("社区的", "渭运社区", date(2026, 11, 1), "open")])
    # 15:59 UTC on the 23rd is 23:59 in Shanghai: still the 23rd. 16:00 UTC is already the 24th there.
    today = services.today(world.programme, datetime(2026, 11, 23, 15, 59))
    assert today == date(2026, 11, 23)
    assert [o.item.what for o in services.overdue_items(world.programme.id, today)] == ["社区的", "昨天到期"]
    tomorrow = services.today(world.programme, datetime(2026, 11, 23, 16, 0))
    assert [o.item.what for o in services.overdue_items(world.programme.id, tomorrow)] == \
        ["社区的", "昨天到期", "今天到期"]
    mine = services.overdue_items(world.programme.id, today, community_id=world.communities[1].id)
    assert [o.item.what for o in mine] == ["社区的"]
    assert services.overdue_items(world.other_programme.id, tomorrow) == []


def test_summaries_in_a_fixed_number_of_queries(app, world, held, ctx):
    second = decided_session(world.programme, world.bureau, world.communities[1], 2, NOW - timedelta(days=5),
                             "第二期议题", world.communities[1:], world.secretaries)
    record(held, world.bureau, resolutions=["一", "二"], actions=[("甲", "县医保局", date(2026, 1, 1), "open")])
    record(second, world.bureau, resolutions=["三"], actions=[("乙", "县医保局", None, "done"),
                                                            ("丙", "县医保局", date(2030, 1, 1), "open")])

    programme_id = world.programme.id

    def count_queries(ids):
        seen = []
        def listener(conn, cursor, statement, *args):
            if statement.lstrip().upper().startswith("SELECT"):
                seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            result = services.summaries(programme_id, ids, date(2026, 11, 23))
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return result, len(seen)

    one, queries_one = count_queries([held.id])
    both, queries_both = count_queries([held.id, second.id])
    assert queries_one == queries_both == 4
    assert [r.text for r in both[held.id].resolutions] == ["一", "二"]
    assert [(a.what, a.status, a.overdue) for a in both[held.id].actions] == [("甲", "open", True)]
    assert [(a.what, a.overdue) for a in both[second.id].actions] == [("乙", False), ("丙", False)]
    assert both[second.id].count_by_status() == {"open": 1, "in_progress": 0, "done": 1, "dropped": 0}
    # Another programme's session ids give nothing of this one.
    assert services.summaries(world.other_programme.id, [held.id], date(2026, 11, 23))[held.id].resolutions == []


def test_the_owning_communitys_secretary_reports_progress_on_its_own_items_only(world, held, ctx):
    """Issue 15: 渭运社区's secretary (not the chair) updates 渭运社区's item — status and note, not the due date
    — and no other community's."""
    own = services.add_action(held, world.bureau, {"what": "入户走访", "owner_unit": "渭运社区",
                                                   "due_on": date(2026, 12, 1)}, now=NOW)
    others = services.add_action(held, world.bureau, {"what": "印发通知", "owner_unit": "陕拖社区"}, now=NOW)
    unit = services.add_action(held, world.bureau, {"what": "核对名单", "owner_unit": "县医保局"}, now=NOW)
    owner, third = world.secretaries[1], world.secretaries[2]
    assert services.can_report(owner, own, held) and not services.can_write(owner, held)
    later = NOW + timedelta(days=2)
    update = services.update_action(own, owner, {"status": "in_progress", "note": "已走访12户"}, now=later)
    assert (update.by_id, update.new_status, own.status) == (owner.id, "in_progress", "in_progress")
    with pytest.raises(Forbidden) as due:
        services.update_action(own, owner, {"due_on": date(2027, 1, 1), "note": "延期"}, now=later)
    assert due.value.field == "due_on" and own.due_on == date(2026, 12, 1)
    for item in (others, unit):
        assert not services.can_report(owner, item, held)
        with pytest.raises(Forbidden):
            services.update_action(item, owner, {"status": "done"}, now=later)
    assert services.can_report(third, others, held)
    with pytest.raises(Forbidden):
        services.update_action(own, third, {"status": "done"}, now=later)
