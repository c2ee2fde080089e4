"""How the ballot engine plugs into the app (salon.create_app calls init_app): its API, its pages and the
bureau's home-page warning about the database's settings (salon.ballots.hooks). The rooms that own kinds of poll name them with services.register_kind."""
from __future__ import annotations

from flask import Flask

from salon import api
from salon.ballots import api as ballots_api
from salon.ballots import hooks, services, views
from salon.home.tasks import provider


def init_app(app: Flask) -> None:
    api.register_blueprint(ballots_api.blp)
    app.register_blueprint(views.bp)
    app.add_template_global(services.sealed_progress, "sealed_progress")
    provider(app, hooks.secrecy_tasks, order=51)
