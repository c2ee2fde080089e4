"""How the accounts room plugs into the app (salon.create_app calls init_app): log-in by cookie, the API's
bearer-token guard, its pages and its API."""
from __future__ import annotations

from flask import Flask

from salon import api
from salon.accounts import api as accounts_api
from salon.accounts import auth, views
from salon.extensions import login


def init_app(app: Flask) -> None:
    auth.init_app(app, login)
    app.register_blueprint(views.bp)
    api.register_blueprint(accounts_api.blp)
    app.before_request(auth.authenticate_api)
