"""Where the ballot engine plugs into the platform: the catch-up that closes due polls, and the bureau's home page
saying when a setting of the database keeps data in its logs, archives or replicas (salon.secrecy)."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from salon import secrecy
from salon.ballots import services
from salon.home.tasks import Task, TaskContext


def close_due_polls(context: TaskContext) -> list:
    """The catch-up every voting room starts with (topics, committee, reviews): the programme's polls whose
    window has ended are closed, once per home page however many rooms ask."""
    return context.shared("ballots.close_due",
                          lambda: services.close_due(context.now, context.user.programme_id))


def secrecy_tasks(context: TaskContext) -> list[Task]:
    if not context.user.is_bureau:
        return []
    warned = [item for item in secrecy.said(secrecy.check()) if item.warning]
    if not warned:
        return []
    return [Task(_("%(n)d settings of the database keep ballot data in its logs, archives or replicas: ask the "
                   "site admin to change them.", n=len(warned)),
                 url_for("programmes.settings", _anchor="secrecy"), True, detail=warned[0].what)]
