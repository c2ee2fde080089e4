"""What the home page shows of the after-session record (the session page's panel, which also shows the
packet, is the packet room's: salon.packets.panel)."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from salon.home.tasks import Task, TaskContext
from salon.outcomes import services


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
