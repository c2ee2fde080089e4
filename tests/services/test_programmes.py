"""Programme management: settings, communities joining and leaving, seats changing hands."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from salon.accounts import services as accounts
from salon.errors import Conflict, ValidationFailed
from salon.extensions import db
from salon.programmes import services
from salon.programmes.models import Programme, SeatHolding
from tests.conftest import PASSWORD

pytestmark = pytest.mark.rolled_back  # one transaction per test, rolled back; world built once


def test_settings_have_the_spec_defaults(world):
    p = world.programme
    assert (p.nominations_per_community, p.approvals_max, p.bureau_sessions, p.committee_size) == (2, 3, 3, 3)
    assert (p.review_period_months, p.review_threshold_pct, p.review_quorum) == (6, 60, True)
    assert (p.session_weekday, p.session_week, p.session_hour, p.session_minute) == (3, -1, 14, 30)
    assert (p.nomination_close_days, p.vote_open_days, p.vote_close_days) == (14, 14, 7)
    assert (p.min_ballots_published, p.guest_link_days, p.horizon_months, p.timezone) == (3, 7, 12, "Asia/Shanghai")


@pytest.mark.parametrize("values, field", [
    ({"approvals_max": 0}, "approvals_max"),
    ({"approvals_max": "3"}, "approvals_max"),
    ({"review_threshold_pct": 100}, "review_threshold_pct"),
    ({"review_quorum": "yes"}, "review_quorum"),
    ({"name": ""}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"timezone": "Mars/Base"}, "timezone"),
    ({"session_week": 0}, "session_week"),
    ({"vote_close_days": 14}, "vote_close_days"),
    ({"no_such_setting": 1}, "no_such_setting"),
    ({"horizon_months": 24, "committee_size": 99}, "committee_size"),
    ({"committee_size": 1}, "committee_size"),  # a committee of one could never decide (SPEC §4.1)
])
def test_a_bad_setting_names_its_field_and_changes_nothing(world, values, field):
    with pytest.raises(ValidationFailed) as exc:
        services.update_settings(world.programme, world.bureau, values)
    assert exc.value.field == field
    db.session.rollback()
    fresh = db.session.get(Programme, world.programme.id)
    assert (fresh.horizon_months, fresh.approvals_max, fresh.name) == (12, 3, "甲县沙龙")


def test_settings_change_is_audited_with_what_changed(world):
    from salon.audit.models import AuditEvent

    changed = services.update_settings(world.programme, world.bureau, {"approvals_max": 4, "committee_size": 3})
    assert changed == ["approvals_max"]
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()))
    assert event.action == "programme.settings" and event.details == {"changed": {"approvals_max": 4}}


def test_joining_goes_to_the_end_and_leaving_frees_the_place(world):
    first, second, third = world.communities
    assert [c.rotation_position for c in world.communities] == [1, 2, 3]
    services.deactivate_community(second, world.bureau)
    assert second.rotation_position is None
    newcomer = services.add_community(world.programme, world.bureau, "新社区")
    assert newcomer.rotation_position == 4
    services.reactivate_community(second, world.bureau)
    assert second.rotation_position == 5
    assert [c.name for c in services.communities(world.programme.id, active_only=True)] == \
        ["景翼社区", "陕拖社区", "新社区", "渭运社区"]
    with pytest.raises(Conflict):
        services.reactivate_community(second, world.bureau)


def test_community_names_are_unique_within_a_programme_only(world):
    with pytest.raises(Conflict) as exc:
        services.add_community(world.programme, world.bureau, " 景翼社区 ")
    assert exc.value.field == "name"
    services.add_community(world.other_programme, world.other_bureau, "景翼社区")
    with pytest.raises(Conflict):
        services.rename_community(world.communities[1], world.bureau, "景翼社区")


@pytest.mark.parametrize("name", ["", "   ", "社" * 81])
def test_bad_community_names(world, name):
    with pytest.raises(ValidationFailed) as exc:
        services.add_community(world.programme, world.bureau, name)
    assert exc.value.field == "name"


def test_handover_keeps_history_and_closes_the_old_account(world):
    community, old = world.communities[0], world.secretaries[0]
    new, token = services.hand_over_seat(community, world.bureau, "new_sec", "新书记")
    db.session.commit()
    assert token and not old.active
    assert accounts.authenticate(old.username, PASSWORD) is None
    history = services.seat_history(community)
    assert [h.user.username for h in history] == ["new_sec", old.username]
    assert history[1].ended_at is not None and history[0].ended_at is None
    assert services.seat_of(new).community_id == community.id
    assert services.seat_of(old) is None
    assert services.holders_by_community(world.programme.id)[community.id] == new
    assert db.session.scalar(select(SeatHolding).where(SeatHolding.user_id == old.id)).ended_at


def test_get_scoped_hides_other_programmes(world):
    from salon.errors import NotFound
    from salon.programmes.models import Community

    with pytest.raises(NotFound):
        services.get_scoped(Community, world.other_community.id, world.programme.id)
    with pytest.raises(NotFound):
        services.get_scoped(Community, "not-a-number", world.programme.id)
    assert services.get_scoped(Community, str(world.communities[0].id), world.programme.id)


def test_each_programme_runs_a_rooms_step_for_every_programme_and_names_it(world):
    """The ticks' one loop over the programmes (salon tick): every programme in id order, inside a request
    context (what a step says is translated), each line it says under its programme's name."""
    from flask import has_request_context
    from flask_babel import gettext as _

    seen = []

    def step(programme, now):
        assert has_request_context()
        seen.append(programme.id)
        return [_("Review closed."), "two"] if programme.id == world.programme.id else []

    said = services.each_programme(step)(datetime(2027, 3, 1, tzinfo=timezone.utc))
    assert seen == sorted(seen) and world.programme.id in seen and len(seen) >= 2
    assert said == [f"{world.programme.name}: {_('Review closed.')}", f"{world.programme.name}: two"]
