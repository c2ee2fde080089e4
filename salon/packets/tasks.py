"""The home page offers the packet to the chair (and the bureau) as soon as the topic is decided (SPEC §7)."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from salon import clock
from salon.home.tasks import Task
from salon.packets import services


def packet_tasks(user) -> list[Task]:
    return [Task(_("The packet for session %(n)d is ready: print it, or send guests a link.", n=s.number),
                 url_for("packets.page", session_id=s.id))
            for s in services.ready_for(user, clock.utcnow())]
