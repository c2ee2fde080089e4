"""How the packet room plugs into the app (salon.create_app calls init_app): packet pages and guest pages, the
API, the session page's panel "Packet and what it produced", the chair's home-page task and the chat group's
notice."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from salon import api
from salon.home import notices
from salon.home.tasks import provider
from salon.packets import api as packets_api
from salon.packets import views
from salon.packets.panel import outcome_panel
from salon.packets.tasks import STAGE, packet_ready_notice, packet_tasks
from salon.sessions import panels


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    api.register_blueprint(packets_api.blp)
    app.add_template_global(outcome_panel, "outcome_panel")
    panels.add(app, "outcome", order=70, template="outcomes/_session_panel.html",
               title=_l("Packet and what it produced"))
    provider(app, packet_tasks, order=80)
    notices.register(app, STAGE, packet_ready_notice)
