"""How the after-session room plugs into the app (salon.create_app calls init_app): its pages and API, home-page
tasks and the demo's outcomes. Its part of the session page is in the packet room's panel (salon.packets.panel)."""
from __future__ import annotations

from flask import Flask

from salon import api, demo
from salon.home.tasks import provider
from salon.outcomes import api as outcomes_api
from salon.outcomes import demo as outcomes_demo
from salon.outcomes import views
from salon.outcomes.panel import outcome_tasks


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    api.register_blueprint(outcomes_api.blp)
    provider(app, outcome_tasks, order=70)
    demo.step(app, outcomes_demo.ORDER, outcomes_demo.load)
