"""Salon: runs a county's monthly community-governance salon (社区治理主题沙龙)."""
from __future__ import annotations

import os

from flask import Flask

MIGRATIONS = os.environ.get("SALON_MIGRATIONS_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), os.pardir, "migrations")


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("SALON_INSTANCE_PATH") or None,
                instance_relative_config=True)
    _configure(app, test_config)
    _secure_responses(app)
    _bind_extensions(app)
    _register_blueprints(app)
    _register_errors(app)
    _register_commands(app)
    return app


def _configure(app: Flask, test_config: dict | None) -> None:
    from salon import config

    test_config = test_config or {}
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(config.STATIC)
    app.config.update(config.from_environment(app.instance_path, need_secret="SECRET_KEY" not in test_config))
    app.config.update(test_config)


def _bind_extensions(app: Flask) -> None:
    from salon import database, i18n, models  # noqa: F401 - models: the whole schema for Alembic
    from salon.extensions import api, csrf, db, limiter, login, migrate

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    api.init_app(app)
    i18n.init_app(app)
    from salon.accounts import auth

    auth.init_app(app, login)


def _register_blueprints(app: Flask) -> None:
    from salon.accounts.views import bp as accounts_bp
    from salon.api import register as register_api
    from salon.audit.views import bp as audit_bp
    from salon.home import views as home_views
    from salon.programmes.views import bp as programmes_bp
    from salon.schedule.views import bp as schedule_bp
    from salon import committee, reviews, topics

    home_views.init_app(app)
    for bp in (accounts_bp, programmes_bp, audit_bp, schedule_bp):
        app.register_blueprint(bp)
    topics.init_app(app)
    committee.init_app(app)
    reviews.init_app(app)
    register_api(app)
    _init_rooms(app)


def _init_rooms(app: Flask) -> None:
    """Rooms that wire themselves: blueprints, API, home-page tasks, session-page panels, demo additions, ticks."""
    from salon import outcomes, packets
    from salon.ballots import hooks as ballot_hooks
    from salon.schedule import hooks as schedule_hooks
    from salon.sessions import views as session_views

    for room in (schedule_hooks, ballot_hooks, session_views, outcomes, packets):
        room.init_app(app)


def _register_errors(app: Flask) -> None:
    from salon import errors

    errors.register(app)


def _secure_responses(app: Flask) -> None:
    """First, so that its after_request hook runs last: it sees whatever response the others settled on."""
    from salon import security

    security.init_app(app)


def _register_commands(app: Flask) -> None:
    from salon.cli import register

    register(app)
