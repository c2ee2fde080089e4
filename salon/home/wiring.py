"""How the home room plugs into the app (salon.create_app calls init_app): the home page, the main menu and the
platform's own tasks (communities, seats, invitations). Its task list and notices are what the other rooms fill
(salon.home.tasks, salon.home.notices)."""
from __future__ import annotations

from flask import Flask

from salon.home import views
from salon.home.tasks import provider


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    provider(app, views.platform_tasks, order=0)
