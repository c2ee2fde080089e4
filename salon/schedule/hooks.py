"""What the schedule gives the platform: its home-page tasks, its demo steps and its tick, wired by
salon.schedule.wiring, never at import."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from salon import clock
from salon.extensions import db
from salon.i18n import bdi, session_time, with_names
from salon.home.tasks import Task, TaskContext
from salon.rules import calendar_rules
from salon.schedule import services
from salon.schedule.models import Session, SessionStatus, SwapRequest, SwapStatus

# The demo lies on a timeline relative to the day it is loaded (issue 9): its first session was HISTORY_MONTHS
# ago, so the source's three sessions, the first election, six months of the committee's sessions and its first
# review are all history, and the months ahead follow on without a gap.
HISTORY_MONTHS = 10


def demo_history_start(programme, now: datetime) -> datetime:
    """Midnight, local time, on the first day of the month HISTORY_MONTHS before now's."""
    year, month = calendar_rules.local_month(now, programme.timezone)
    year, month = calendar_rules.add_months(year, month, -HISTORY_MONTHS)
    return calendar_rules.to_utc(date(year, month, 1), 0, 0, programme.timezone)


def demo_schedule(programme, bureau, secretaries):
    """The bureau generated the schedule when the programme began; the sessions stay planned here and are
    held as the other rooms' demo steps walk through the months (demo_present brings it to today)."""
    start = demo_history_start(programme, clock.utcnow())
    services.generate(programme, bureau, HISTORY_MONTHS + programme.horizon_months + 1, now=start)


def demo_present(programme, bureau, secretaries):
    """Last of the demo's steps: every session that has ended by now was held."""
    services.mark_past_held(programme.id, clock.utcnow())


def schedule_tasks(context: TaskContext) -> list:
    user, now = context.user, context.now
    found = []
    if user.is_bureau:
        pending = db.session.scalar(select(func.count(SwapRequest.id)).where(
            SwapRequest.programme_id == user.programme_id, SwapRequest.status == SwapStatus.PENDING))
        if pending:
            found.append(Task(_("%(n)d swap requests are waiting for an answer.", n=pending),
                              url_for("schedule.swaps"), True))
        coming = services.next_planned(user.programme_id, now, chairless_first=True)
        if coming is None and services.rotation_order(user.programme_id):
            found.append(Task(_("Generate the schedule of the coming months."), url_for("schedule.manage"), True))
        if coming is not None and coming.chair_community_id is None:
            found.append(Task(_("Session %(n)d on %(when)s has no chair: add communities or regenerate the "
                                "schedule.", n=coming.number or 0, when=session_time(coming.starts_at)),
                              url_for("schedule.manage"), True, due=coming.starts_at))
        return found
    community = context.seat.community if context.seat is not None else None
    if community is None:
        return found
    duty = services.next_duty(community.id, now)
    if duty is not None:
        found.append(Task(
            with_names(_("%(community)s chairs No. %(number)d on %(when)s."), community=bdi(community.name),
                       number=duty.number, when=session_time(duty.starts_at)),
            url_for("schedule.index", _anchor=f"session-{duty.id}"), duty.starts_at - now < timedelta(days=30)))
    asking = db.session.scalar(select(func.count(SwapRequest.id)).where(
        SwapRequest.to_community_id == community.id, SwapRequest.status == SwapStatus.PENDING))
    if asking:
        found.append(Task(_("%(n)d chairs ask you to swap sessions.", n=asking), url_for("schedule.swaps"), True))
    return found


def tick_held(now) -> list[str]:
    return [f"session {s.id} (No. {s.number}) held" for s in services.mark_past_held(None, now)]
