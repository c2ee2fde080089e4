"""What the session page and the home page show of the after-session record."""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from salon.home.tasks import Task, TaskContext
from salon.outcomes import services


@dataclass(frozen=True)
class Panel:
    session_id: int
    resolutions: int
    actions: int
    overdue: int
    present: int
    packet: bool


def outcome_panel(session) -> Panel | None:
    """The session page's panel: counts, overdue items, and the packet when the topic is decided."""
    if session is None or session.number is None or not current_user.is_authenticated:
        return None
    from salon.packets import services as packets

    summary = services.summaries(session.programme_id, [session.id],
                                 services.today(current_user.programme))[session.id]
    return Panel(session.id, len(summary.resolutions), len(summary.actions),
                 sum(1 for a in summary.actions if a.overdue), len(summary.present_community_ids),
                 packets.has_packet(session))


def outcome_tasks(context: TaskContext) -> list[Task]:
    """SPEC §6: overdue items for the bureau, and for a community's secretary the ones their community owns."""
    user = context.user
    today = services.today(user.programme, context.now)
    if user.is_bureau:
        overdue = services.overdue_count(user.programme_id, today)
        if overdue:
            return [Task(_("%(n)d action items are overdue.", n=overdue), url_for("outcomes.overdue"), True)]
        return []
    seat = context.seat
    if seat is None:
        return []
    mine, _more = services.overdue_page(user.programme_id, today, community_id=seat.community_id, limit=5)
    return [Task(_("Overdue: %(what)s (session %(n)d, due %(date)s)", what=o.item.what, n=o.session_number,
                   date=o.item.due_on.isoformat()), url_for("outcomes.action", item_id=o.item.id), True)
            for o in mine]
