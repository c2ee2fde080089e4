"""The after-session room (SPEC §6): attendance per seat and guest, the minutes summary, numbered resolutions,
and action items with dated updates; overdue items on the home page and the session page."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    """Wire the room: pages, API, the session page's panel, home-page tasks and the demo's outcomes."""
    from salon import demo
    from salon.api import PREFIX
    from salon.extensions import api, csrf
    from salon.home import tasks
    from salon.outcomes import api as outcomes_api
    from salon.outcomes import demo as outcomes_demo
    from salon.outcomes import views
    from salon.outcomes.panel import outcome_panel, outcome_tasks
    from salon.sessions import panels

    app.register_blueprint(views.bp)
    csrf.exempt(outcomes_api.blp)
    api.register_blueprint(outcomes_api.blp, url_prefix=PREFIX)
    app.add_template_global(outcome_panel, "outcome_panel")
    panels.add("outcome", order=70, template="outcomes/_session_panel.html",
               title=_l("Packet and what it produced"))
    tasks.provider(outcome_tasks)
    if (outcomes_demo.ORDER, outcomes_demo.load) not in demo.EXTENSIONS:
        demo.EXTENSIONS.append((outcomes_demo.ORDER, outcomes_demo.load))
