"""How the programme room plugs into the app (salon.create_app calls init_app): its pages and its API. What it
tells other rooms is in signals.py."""
from __future__ import annotations

from flask import Flask

from salon import api
from salon.programmes import api as programmes_api
from salon.programmes import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    api.register_blueprint(programmes_api.blp)
