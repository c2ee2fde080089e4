"""How the audit room plugs into the app (salon.create_app calls init_app): its pages and its API."""
from __future__ import annotations

from flask import Flask

from salon import api
from salon.audit import api as audit_api
from salon.audit import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    api.register_blueprint(audit_api.blp)
