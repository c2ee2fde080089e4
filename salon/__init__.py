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
    _wire_rooms(app)
    _register_errors(app)
    _register_commands(app)
    return app


# The factory imports the app's parts when it runs, not when `salon` is imported: `import salon.rules.topics` or
# `salon.sealed` (a unit test, tools/verify_board.py's protocol) must not load Flask's app and every room.

def _configure(app: Flask, test_config: dict | None) -> None:
    from salon import config

    test_config = test_config or {}
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(config.STATIC)
    app.config.update(config.from_environment(app.instance_path, need_secret="SECRET_KEY" not in test_config))
    app.config.update(test_config)


def _bind_extensions(app: Flask) -> None:
    from salon import api, database, i18n, models, registry  # noqa: F401 - models: the whole schema for Alembic
    from salon.extensions import csrf, db, limiter, migrate

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    api.init_app(app)
    i18n.init_app(app)
    registry.init_app(app)


def _wire_rooms(app: Flask) -> None:
    """The rooms, each wired by its own init_app (salon/<room>/wiring.py): pages, API, menu entry, home-page
    tasks, notices, session-page panels, demo steps, ticks and signal receivers, kept on the app's registry
    (salon.registry). A room comes after the rooms whose signals it answers (docs/architecture.md)."""
    from salon.accounts import wiring as accounts
    from salon.audit import wiring as audit
    from salon.ballots import wiring as ballots
    from salon.committee import wiring as committee
    from salon.home import wiring as home
    from salon.outcomes import wiring as outcomes
    from salon.packets import wiring as packets
    from salon.programmes import wiring as programmes
    from salon.reviews import wiring as reviews
    from salon.schedule import wiring as schedule
    from salon.sessions import wiring as sessions
    from salon.topics import wiring as topics
    from salon.trustees import wiring as trustees

    rooms = (accounts, programmes, audit, schedule, ballots, topics, committee, reviews, trustees, outcomes,
             packets, sessions, home)
    for room in rooms:
        room.init_app(app)


def _register_errors(app: Flask) -> None:
    from salon import errors

    errors.register(app)


def _secure_responses(app: Flask) -> None:
    """First, so that its after_request hook runs last: it sees whatever response the others settled on."""
    from salon import security

    security.init_app(app)


def _register_commands(app: Flask) -> None:
    from salon.commands import register

    register(app)
