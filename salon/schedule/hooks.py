"""Where the schedule plugs into the platform: the menu, the home to-do list, the demo and `tick`, wired by
`init_app` (called by the app factory), never at import."""
from __future__ import annotations

from datetime import date, timedelta

from flask import url_for
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import func, select

from salon import cli, clock, demo, navigation
from salon.extensions import db
from salon.i18n import session_time
from salon.home.tasks import Task, provider
from salon.rules import calendar_rules
from salon.schedule import services
from salon.schedule.models import Session, SessionStatus, SwapRequest, SwapStatus

# The source's first three sessions (SPEC §10), all at 14:30 Asia/Shanghai.
DEMO_HELD = [date(2023, 4, 27), date(2023, 5, 25), date(2023, 7, 27)]


def demo_schedule(programme, bureau, secretaries):
    order = services.rotation_order(programme.id)
    for number, (day, community) in enumerate(zip(DEMO_HELD, order), start=1):
        db.session.add(Session(
            programme_id=programme.id, number=number, status=SessionStatus.HELD,
            starts_at=calendar_rules.to_utc(day, 14, 30, programme.timezone),
            duration_minutes=programme.session_duration_minutes, venue=programme.default_venue or "",
            chair_community_id=community.id, sequence=0))
    db.session.flush()
    services.generate(programme, bureau, programme.horizon_months, now=_demo_start(programme, clock.utcnow()))


def _demo_start(programme, now):
    """Start the demo's schedule next month when this month's session is too close to still take
    nominations, so a visitor always finds the next session open for nominations."""
    rule = services.day_rule(programme)
    this_month = calendar_rules.planned_months(now, 1, rule, set(programme.blackout_months or []))
    if this_month and this_month[0][2] - now > timedelta(days=programme.nomination_close_days + 1):
        return now
    year, month = calendar_rules.local_month(now, rule.timezone)
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return calendar_rules.to_utc(date(year, month, 1), 0, 0, rule.timezone)


def schedule_tasks(user) -> list:
    found = []
    now = clock.utcnow()
    if user.is_bureau:
        pending = db.session.scalar(select(func.count(SwapRequest.id)).where(
            SwapRequest.programme_id == user.programme_id, SwapRequest.status == SwapStatus.PENDING))
        if pending:
            found.append(Task(_("%(n)d swap requests are waiting for an answer.", n=pending),
                              url_for("schedule.swaps"), True))
        if not services.has_future_sessions(user.programme_id, now) and services.rotation_order(user.programme_id):
            found.append(Task(_("Generate the schedule of the coming months."), url_for("schedule.manage"), True))
        chairless = db.session.scalar(
            select(Session).where(Session.programme_id == user.programme_id, Session.status == SessionStatus.PLANNED,
                                  Session.chair_community_id.is_(None), Session.starts_at > now)
            .order_by(Session.starts_at).limit(1))
        if chairless is not None:
            found.append(Task(_("Session %(n)d on %(when)s has no chair: add communities or regenerate the "
                                "schedule.", n=chairless.number or 0, when=session_time(chairless.starts_at)),
                              url_for("schedule.manage"), True, due=chairless.starts_at))
        return found
    community = services.community_of(user)
    if community is None:
        return found
    duty = services.next_duty(community.id, now)
    if duty is not None:
        found.append(Task(
            _("%(community)s chairs No. %(number)d on %(when)s.", community=community.name, number=duty.number,
              when=session_time(duty.starts_at)),
            url_for("schedule.index", _anchor=f"session-{duty.id}"), duty.starts_at - now < timedelta(days=30)))
    asking = db.session.scalar(select(func.count(SwapRequest.id)).where(
        SwapRequest.to_community_id == community.id, SwapRequest.status == SwapStatus.PENDING))
    if asking:
        found.append(Task(_("%(n)d chairs ask you to swap sessions.", n=asking), url_for("schedule.swaps"), True))
    return found


def _tick_held(now) -> list[str]:
    return [f"session {s.id} (No. {s.number}) held" for s in services.mark_past_held(None, now)]


_wired = False


def init_app(app) -> None:
    """The menu entry, home-page tasks, demo data and tick; their registries are per process, so filled once."""
    global _wired
    if _wired:
        return
    _wired = True
    navigation.add(_l("Schedule"), "schedule.index", order=10)
    provider(schedule_tasks)
    demo.extension(10)(demo_schedule)
    cli.TICKERS.append(_tick_held)
