"""How the packet room plugs into the app (salon.create_app calls init_app): packet pages and guest pages, the
API, the chair's home-page task and the chat group's notice."""
from __future__ import annotations

from flask import Flask

from salon import api
from salon.home import notices
from salon.home.tasks import provider
from salon.packets import api as packets_api
from salon.packets import views
from salon.packets.tasks import STAGE, packet_ready_notice, packet_tasks


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    api.register_blueprint(packets_api.blp)
    provider(app, packet_tasks, order=80)
    notices.register(app, STAGE, packet_ready_notice)
