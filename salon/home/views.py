"""The home page after log-in: programme, role, and what to do next."""
from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from salon.accounts.auth import login_required
from salon.accounts import services as accounts
from salon import clock, navigation
from salon.extensions import db
from salon.home.tasks import Task, TaskContext, tasks_for
from salon.programmes import services as programmes

bp = Blueprint("home", __name__)


@bp.app_context_processor
def menu():
    from flask_login import current_user as user

    return {"nav_items": lambda: navigation.items_for(user) if user.is_authenticated else []}


def platform_tasks(context: TaskContext) -> list[Task]:
    user = context.user
    if not user.is_bureau:
        return []
    found = []
    active, vacant, pending = db.session.execute(select(
        *programmes.community_counts(user.programme_id), accounts.pending_invitations(user.programme_id, context.now),
    )).one()
    if active == 0:
        found.append(Task(_("Add the communities of your programme."), url_for("programmes.communities"), True))
    if vacant > 0:
        found.append(Task(_("%(n)d communities have no secretary yet: hand their seats over.", n=vacant),
                          url_for("programmes.communities"), True))
    if pending:
        found.append(Task(_("%(n)d invitations are waiting to be accepted.", n=pending),
                          url_for("accounts.people")))
    return found


@bp.route("/")
@login_required
def index():
    seat = programmes.seat_of(current_user) if current_user.is_secretary else None
    return render_template("home/index.html", programme=current_user.programme, seat=seat,
                           tasks=tasks_for(current_user, clock.utcnow(), seat))
