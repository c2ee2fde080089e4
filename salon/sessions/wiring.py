"""How the session room plugs into the app (salon.create_app calls init_app): the session page. The other rooms
add their panels to it (salon.sessions.panels)."""
from __future__ import annotations

from flask import Flask

from salon.sessions import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
