"""The session page: what the schedule and the topics rooms know of one session, and the other rooms' panels."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from salon import clock
from salon.accounts.auth import login_required
from salon.forms import EmptyForm
from salon.schedule import services as schedule
from salon.schedule.session_part import session_context
from salon.sessions import panels
from salon.topics import services as topics

bp = Blueprint("sessions", __name__)


@bp.route("/sessions/<int:session_id>")
@login_required
def page(session_id):
    session = schedule.session_for(current_user, session_id)
    view = topics.session_topic(session, current_user)
    return render_template("topics/session.html", view=view, now=clock.utcnow(), button_form=EmptyForm(),
                           schedule=session_context(session),
                           parts=topics.session_parts(view), panels=panels.for_session(session, current_user))
