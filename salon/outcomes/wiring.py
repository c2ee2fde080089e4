"""How the after-session room plugs into the app (salon.create_app calls init_app): its pages and API, the
session page's panel, home-page tasks and the demo's outcomes."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from salon import api, demo
from salon.home.tasks import provider
from salon.outcomes import api as outcomes_api
from salon.outcomes import demo as outcomes_demo
from salon.outcomes import views
from salon.outcomes.panel import outcome_panel, outcome_tasks
from salon.sessions import panels


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    api.register_blueprint(outcomes_api.blp)
    app.add_template_global(outcome_panel, "outcome_panel")
    panels.add(app, "outcome", order=70, template="outcomes/_session_panel.html",
               title=_l("Packet and what it produced"))
    provider(app, outcome_tasks, order=70)
    demo.step(app, outcomes_demo.ORDER, outcomes_demo.load)
