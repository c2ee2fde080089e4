"""The schedule services against a real database (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from salon import clock, demo
from salon.audit.models import AuditEvent
from salon.errors import Conflict, Forbidden, NotFound, ValidationFailed
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules.rotation import runs_with_double_duty
from salon.schedule import ical, services
from salon.schedule.models import Session, SessionStatus, SwapStatus

pytestmark = pytest.mark.rolled_back  # one transaction per test, rolled back; world built once

NOW = datetime(2026, 11, 1, 0, 0)


@pytest.fixture(autouse=True)
def in_request(app):
    """Messages are translated for the person asking, so services run inside a request."""
    with app.test_request_context():
        yield


@pytest.fixture
def frozen(monkeypatch):
    """Set the wall clock the services read: frozen(datetime)."""
    def set_to(moment):
        monkeypatch.setattr(clock, "utcnow", lambda: moment)
        return moment
    set_to(NOW)
    return set_to


def live(programme_id):
    return [s for s in services.sessions(programme_id) if s.status != SessionStatus.CANCELLED]


def actions(programme_id):
    return [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.programme_id == programme_id)
                                                  .order_by(AuditEvent.seq))]


def feed_events(feed):
    body = ical_body(feed)
    return {str(e.get("uid")): e for e in Calendar.from_ical(body).walk("VEVENT")}


def ical_body(feed):
    programme = programmes.get_programme(feed.programme_id)
    chosen = services.sessions(programme.id, feed.community_id)
    return ical.build(programme, chosen, "test")


# --- the "Done when" scenario ----------------------------------------------------------

def test_demo_history_then_the_rotation_continues(app, frozen):
    programme = demo.load()
    sessions = services.sessions(programme.id)
    first = sessions[:3]
    assert [s.number for s in first] == [1, 2, 3]
    assert [s.status for s in first] == [SessionStatus.HELD] * 3
    assert [s.chair.name for s in first] == ["景翼社区", "渭运社区", "陕拖社区"]
    assert first[0].starts_at == datetime(2026, 1, 29, 6, 30)  # ten months before NOW, 14:30 in Shanghai
    assert sessions[3].chair.name == "东华社区" and sessions[3].number == 4
    held = [s for s in sessions if s.status == SessionStatus.HELD]
    assert len(held) == 10 and sessions[10].starts_at > NOW  # January to October held; then 13 months ahead
    assert len(sessions) == 10 + 1 + 12


def test_done_when_24_months_leave_in_month_5_and_a_swap_in_both_feeds(app, frozen):
    programme = demo.load()
    bureau = programmes.communities(programme.id)[0].programme  # noqa: F841 - load the programme
    from salon.accounts.models import User
    bureau_user = db.session.scalar(select(User).where(User.username == "bureau"))

    services.generate(programme, bureau_user, 24)
    generated = [s for s in live(programme.id) if s.status == SessionStatus.PLANNED]
    assert len(generated) == 24
    assert sorted(s.chair_community_id for s in generated[:19]) == sorted(
        c.id for c in programmes.communities(programme.id, active_only=True))

    frozen(generated[4].starts_at - timedelta(days=1))  # month 5: four generated sessions are held
    services.mark_past_held(programme.id)
    held_before = {s.id: (s.chair_community_id, s.number) for s in live(programme.id)
                   if s.status == SessionStatus.HELD}
    leaving = generated[9].chair
    programmes.deactivate_community(leaving, bureau_user)
    chairs = [s.chair_community_id for s in live(programme.id)]
    assert runs_with_double_duty(chairs, 18) == []
    assert leaving.id not in [s.chair_community_id for s in live(programme.id) if s.status == SessionStatus.PLANNED]
    assert {s.id: (s.chair_community_id, s.number) for s in live(programme.id)
            if s.id in held_before} == held_before

    a, b = [s for s in live(programme.id) if s.status == SessionStatus.PLANNED][1:3]
    chair_a, chair_b = a.chair_community_id, b.chair_community_id
    feed_a = services.create_feed(bureau_user, chair_a)
    feed_b = services.create_feed(bureau_user, chair_b)
    sequence_a = a.sequence
    services.bureau_swap(a, b, bureau_user)
    in_a, in_b = feed_events(feed_a), feed_events(feed_b)
    assert ical.uid(b) in in_a and ical.uid(a) not in in_a
    assert ical.uid(a) in in_b and ical.uid(b) not in in_b
    assert int(in_b[ical.uid(a)]["SEQUENCE"]) == sequence_a + 1


# --- generating and regenerating --------------------------------------------------------------

def test_generate_follows_the_day_rule_and_numbers_in_order(app, world, frozen):
    services.generate(world.programme, world.bureau, 3)
    sessions = services.sessions(world.programme.id)
    assert [s.starts_at for s in sessions] == [datetime(2026, 11, 26, 6, 30), datetime(2026, 12, 31, 6, 30),
                                               datetime(2027, 1, 28, 6, 30)]
    assert [s.number for s in sessions] == [1, 2, 3]
    assert [s.chair_community_id for s in sessions] == [c.id for c in world.communities]
    assert "schedule.generate" in actions(world.programme.id)


def test_generate_refuses_bad_months_and_changes_nothing(app, world, frozen):
    for bad, error in [(0, ValidationFailed), (37, ValidationFailed), ("3", ValidationFailed), (True, ValidationFailed)]:
        with pytest.raises(error) as exc:
            services.generate(world.programme, world.bureau, bad)
        assert exc.value.field == "months"
    assert services.sessions(world.programme.id) == []


def test_blackout_cancels_a_planned_month_and_lifting_it_brings_it_back(app, world, frozen):
    services.generate(world.programme, world.bureau, 4)
    services.set_blackouts(world.programme, world.bureau, ["2026-12"])
    sessions = services.sessions(world.programme.id)
    december = sessions[1]
    assert december.status == SessionStatus.CANCELLED and december.number is None
    assert [s.number for s in sessions if s.number] == [1, 2, 3]
    assert sessions[2].chair_community_id == world.communities[1].id  # the rotation moved on
    services.set_blackouts(world.programme, world.bureau, [])
    assert december.status == SessionStatus.PLANNED and december.number == 2
    with pytest.raises(ValidationFailed) as exc:
        services.set_blackouts(world.programme, world.bureau, ["2027-13"])
    assert exc.value.field == "blackout_months"


def test_regenerating_keeps_held_swapped_and_locked_sessions(app, world, frozen):
    services.generate(world.programme, world.bureau, 6)
    s = services.sessions(world.programme.id)
    services.bureau_swap(s[2], s[3], world.bureau)
    services.set_locked(s[4], world.bureau, True)
    frozen(s[1].starts_at + timedelta(days=1))
    kept = {x.id: (x.chair_community_id, x.starts_at) for x in s[:1] + s[2:5]}
    services.reorder(world.programme, world.bureau, [c.id for c in reversed(world.communities)])
    services.generate(world.programme, world.bureau, 12)
    assert {x.id: (x.chair_community_id, x.starts_at) for x in s[:1] + s[2:5]} == kept
    assert s[0].status == SessionStatus.HELD


def test_joining_community_gets_its_turn_after_the_others(app, world, frozen):
    services.generate(world.programme, world.bureau, 6)
    newcomer = programmes.add_community(world.programme, world.bureau, "新社区")
    chairs = [s.chair_community_id for s in services.sessions(world.programme.id)]
    a, b, c = (x.id for x in world.communities)
    assert chairs == [a, b, c, newcomer.id, a, b]


def test_seat_changing_hands_keeps_the_duty(app, world, frozen):
    services.generate(world.programme, world.bureau, 3)
    duty = services.next_duty(world.communities[0].id)
    new_user, _ = programmes.hand_over_seat(world.communities[0], world.bureau, "newsec", "新书记", "pw-123456789")
    assert services.community_of(new_user).id == duty.chair_community_id
    assert services.next_duty(world.communities[0].id).id == duty.id


def test_draw_lots_records_the_seed_and_anyone_can_redo_it(app, world, frozen):
    import random
    seed, order = services.draw_lots(world.programme, world.bureau, seed="f00d")
    expected = sorted(c.id for c in world.communities)
    random.Random("f00d").shuffle(expected)
    assert [c.id for c in order] == expected and world.programme.rotation_seed == "f00d"
    assert [c.id for c in services.rotation_order(world.programme.id)] == expected


def test_reorder_must_name_every_active_community_once(app, world, frozen):
    ids = [c.id for c in world.communities]
    for bad in ([ids[0], ids[0], ids[1]], ids[:2], ids + [world.other_community.id], "1,2,3", [ids[0], "x", ids[2]]):
        with pytest.raises(ValidationFailed) as exc:
            services.reorder(world.programme, world.bureau, bad)
        assert exc.value.field == "order"
    assert [c.id for c in services.rotation_order(world.programme.id)] == ids


# --- single sessions ----------------------------------------------------------------------------

def test_cancel_gives_the_cancelled_chair_the_next_session(app, world, frozen):
    services.generate(world.programme, world.bureau, 4)
    s = services.sessions(world.programme.id)
    chair = s[1].chair_community_id
    sequence = s[2].sequence
    services.cancel_session(s[1], world.bureau)
    assert s[1].status == SessionStatus.CANCELLED and s[1].number is None
    assert s[2].chair_community_id == chair and s[2].number == 2 and s[2].sequence == sequence + 1
    assert "session.cancel" in actions(world.programme.id)
    with pytest.raises(Conflict):
        services.cancel_session(s[1], world.bureau)


def test_edit_moves_a_session_and_bumps_its_sequence(app, world, frozen):
    services.generate(world.programme, world.bureau, 3)
    s = services.sessions(world.programme.id)
    sequence = s[0].sequence
    services.edit_session(s[0], world.bureau, date(2026, 11, 24), time(9, 0), "社区活动室")
    assert s[0].starts_at == datetime(2026, 11, 24, 1, 0) and s[0].venue == "社区活动室" and s[0].edited
    assert s[0].sequence == sequence + 1
    services.generate(world.programme, world.bureau, 3)
    assert s[0].starts_at == datetime(2026, 11, 24, 1, 0)
    with pytest.raises(Conflict) as exc:
        services.edit_session(s[0], world.bureau, date(2026, 12, 2), time(9, 0))
    assert exc.value.field == "date"
    with pytest.raises(ValidationFailed) as exc:
        services.edit_session(s[0], world.bureau, date(2026, 10, 2), time(9, 0))
    assert exc.value.field == "date"
    with pytest.raises(ValidationFailed) as exc:
        services.edit_session(s[0], world.bureau, venue="x" * 201)
    assert exc.value.field == "venue"


def test_a_held_session_never_changes(app, world, frozen):
    services.generate(world.programme, world.bureau, 3)
    s = services.sessions(world.programme.id)
    frozen(s[0].starts_at + timedelta(hours=3))
    services.mark_past_held(world.programme.id)
    for act in (lambda: services.cancel_session(s[0], world.bureau),
                lambda: services.edit_session(s[0], world.bureau, venue="x"),
                lambda: services.bureau_swap(s[0], s[1], world.bureau)):
        with pytest.raises(Conflict):
            act()


# --- swaps -------------------------------------------------------------------------------------

def test_swap_request_accept_decline_withdraw(app, world, frozen):
    services.generate(world.programme, world.bureau, 3)
    s = services.sessions(world.programme.id)
    sec1, sec2, sec3 = world.secretaries
    with pytest.raises(Forbidden):
        services.request_swap(sec2, s[0], s[1])
    request = services.request_swap(sec1, s[0], s[1], "家里有事")
    with pytest.raises(Conflict):
        services.request_swap(sec1, s[0], s[1])
    assert services.inbox(sec2).incoming == [request]
    assert services.inbox(world.bureau).incoming == [request]
    assert services.inbox(sec1).outgoing == [request]
    with pytest.raises(Forbidden):
        services.accept_request(request, sec3)
    services.accept_request(request, sec2)
    assert (s[0].chair_community_id, s[1].chair_community_id) == (world.communities[1].id, world.communities[0].id)
    assert s[0].swapped and s[1].swapped and request.status == SwapStatus.ACCEPTED
    with pytest.raises(Conflict):
        services.decline_request(request, sec2)
    second = services.request_swap(sec3, s[2], s[1])
    services.decline_request(second, world.bureau)
    third = services.request_swap(sec3, s[2], s[0])
    services.withdraw_request(third, sec3)
    assert {"swap.request", "swap.accept", "swap.decline", "swap.withdraw"} <= set(actions(world.programme.id))


def test_a_request_becomes_void_when_the_schedule_changes(app, world, frozen):
    services.generate(world.programme, world.bureau, 3)
    s = services.sessions(world.programme.id)
    request = services.request_swap(world.secretaries[0], s[0], s[1])
    services.bureau_swap(s[1], s[2], world.bureau)
    assert request.status == SwapStatus.VOID
    assert services.inbox(world.bureau).incoming == []


def test_locked_sessions_need_the_bureau_to_swap(app, world, frozen):
    services.generate(world.programme, world.bureau, 3)
    s = services.sessions(world.programme.id)
    services.set_locked(s[1], world.bureau, True)
    with pytest.raises(Conflict):
        services.request_swap(world.secretaries[0], s[0], s[1])
    services.bureau_swap(s[0], s[1], world.bureau)
    assert s[1].chair_community_id == world.communities[0].id


def test_other_programmes_sessions_look_missing(app, world, frozen):
    services.generate(world.other_programme, world.other_bureau, 2)
    other = services.sessions(world.other_programme.id)[0]
    with pytest.raises(NotFound):
        services.get_session(other.id, world.programme.id)
    with pytest.raises(NotFound):
        services.get_session("abc", world.programme.id)


# --- feeds -------------------------------------------------------------------------------------

def test_feed_is_valid_icalendar_with_time_zone_uid_sequence_and_cancellation(app, world, frozen):
    services.generate(world.programme, world.bureau, 3)
    s = services.sessions(world.programme.id)
    services.cancel_session(s[2], world.bureau)
    feed = services.create_feed(world.secretaries[0])
    cal = Calendar.from_ical(ical_body(feed))
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    first = events[ical.uid(s[0])]
    start = first.decoded("DTSTART")
    assert (start.hour, start.minute, str(start.tzinfo)) == (14, 30, "Asia/Shanghai")
    assert str(events[ical.uid(s[2])]["STATUS"]) == "CANCELLED"
    assert int(events[ical.uid(s[2])]["SEQUENCE"]) >= 1
    assert str(first["STATUS"]) == "CONFIRMED"


def test_feed_token_opens_its_feed_until_revoked(app, world, frozen):
    feed = services.create_feed(world.secretaries[0], world.communities[0].id)
    assert services.create_feed(world.secretaries[0], world.communities[0].id) is feed
    token = services.feed_token(feed)
    assert services.open_feed(token) is feed
    services.revoke_feed(feed, world.secretaries[0])
    with pytest.raises(NotFound):
        services.open_feed(token)
    with pytest.raises(NotFound):
        services.open_feed(token[:-2] + "xx")
    with pytest.raises(NotFound):
        services.create_feed(world.secretaries[0], world.other_community.id)
    assert "feed.revoke" in actions(world.programme.id)
