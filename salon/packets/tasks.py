"""The home page offers the packet to the chair (and the bureau) as soon as the topic is decided (SPEC §7), and
the bureau a notice for the county's chat group that the packet is ready (salon.home.notices)."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from salon.home import notices
from salon.home.tasks import Task, TaskContext
from salon.i18n import session_time
from salon.packets import services
from salon.topics import services as topics

STAGE = "packet_ready"


def packet_ready_notice(programme, session, link, deadline) -> str:
    """The group's notice: the packet of a session is ready to read and print before `deadline` (its start)."""
    return _("[%(programme)s] The packet for session %(n)d (%(when)s, %(venue)s) is ready: topic, agenda, guests "
             "and sign-in sheet. Please read it and print it before %(deadline)s: %(link)s",
             programme=programme.name, n=session.number, when=session_time(session.starts_at),
             venue=session.venue or _("the usual venue"), deadline=session_time(deadline), link=link)


def packet_tasks(context: TaskContext) -> list[Task]:
    user = context.user
    found = []
    for s in services.ready_for(user, topics.tasks_state_of(context), context.seat):
        notice = None
        if user.is_bureau:
            notice = notices.notice(STAGE, programme=user.programme, session=s, deadline=s.starts_at,
                                    link=url_for("packets.page", session_id=s.id, _external=True))
        found.append(Task(_("The packet for session %(n)d is ready: print it, or send guests a link.", n=s.number),
                          url_for("packets.page", session_id=s.id), due=s.starts_at,
                          stage=STAGE if notice else None, notice=notice))
    return found

