"""The schedule's part of a session's page: date, venue, chair, and the forms the reader may use (edit the
session, swap its chair, ask for a swap). The schedule's own session page shows it, and so does the sessions
room's page, which gathers what each room knows of one session."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user

from salon import clock
from salon.forms import EmptyForm
from salon.i18n import isolate
from salon.programmes import services as programmes
from salon.rules import calendar_rules
from salon.schedule import services
from salon.schedule.forms import AskSwapForm, BureauSwapForm, EditSessionForm
from salon.schedule.models import SessionStatus


def _other_choices(session, now):
    zone = current_user.programme.timezone
    choices = []
    for other in services.sessions(session.programme_id, since=now):
        if other.id == session.id or other.status != SessionStatus.PLANNED or other.starts_at <= now:
            continue
        if other.chair_community_id in (None, session.chair_community_id):
            continue
        label = " · ".join([_("No. %(number)d", number=other.number),
                            calendar_rules.to_local(other.starts_at, zone).strftime("%Y-%m-%d"), isolate(other.chair.name)])
        choices.append((other.id, label))
    return choices


def session_context(session, edit=None, swap=None, ask=None) -> dict:
    """What the schedule part of a session's page shows: date, venue, chair, and the forms for the person."""
    now = clock.utcnow()
    zone = current_user.programme.timezone
    local = calendar_rules.to_local(session.starts_at, zone)
    editable = session.status == SessionStatus.PLANNED and session.starts_at > now
    mine = services.community_of(current_user)
    if edit is None:
        edit = EditSessionForm(formdata=None, date=local.date(), time=local.time().replace(tzinfo=None),
                               venue=session.venue)
    is_chair = mine is not None and mine.id == session.chair_community_id
    wants_choices = editable and (current_user.is_bureau or is_chair)
    choices = _other_choices(session, now) if wants_choices else []
    swap = swap or BureauSwapForm(formdata=None)
    swap.other_session_id.choices = choices
    ask = ask or AskSwapForm(formdata=None)
    ask.other_session_id.choices = choices
    return dict(session=session, edit=edit, swap=swap, ask=ask, editable=editable, is_chair=is_chair, mine=mine,
                button_form=EmptyForm(), now=now, holders=programmes.holders_by_community(session.programme_id))
