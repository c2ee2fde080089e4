"""How the trustees room plugs into the app (salon.create_app calls init_app): its pages and API, menu entry,
home-page tasks and their catch-up, tick, demo step, the key provider it offers the ballot engine, and its
answer to the committee room's signal (a seated committee's trustees start their ceremony)."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from salon import api, navigation, registry
from salon.ballots import services as ballots
from salon.ballots import signals as ballot_signals
from salon.committee import signals as committee_signals
from salon.home.tasks import provider
from salon.programmes import services as programmes
from salon.trustees import api as trustees_api
from salon.trustees import demo as trustees_demo
from salon.trustees import services, views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    api.register_blueprint(trustees_api.blp)
    app.add_template_global(views.state_label, "trustee_state_label")
    # Connecting again (another app in the same process) is a no-op in blinker.
    committee_signals.seated.connect(services.committee_seated)
    ballot_signals.poll_closed.connect(trustees_demo.decrypt_closed)  # acts only while the demo loads
    navigation.add(app, _l("Trustees"), "trustees.index", order=38)
    registry.of(app).add_tick(programmes.each_programme(services.advance), order=38)
    provider(app, views.trustee_tasks, catch_up=views.catch_up, order=38)
    ballots.register_key_provider(app, services.key_for)
    trustees_demo.init_app(app)
