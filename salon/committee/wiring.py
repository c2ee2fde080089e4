"""How the committee room plugs into the app (salon.create_app calls init_app): its pages and API, menu entry,
template helpers, home-page tasks, tick, demo steps, the poll kind it owns, and its answers to other rooms'
signals: an election is counted in its poll's close (SPEC §4.1); a seat changing hands or a community leaving
vacates a member's place."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from salon import api, demo, navigation, registry
from salon.ballots import services as ballots
from salon.ballots import signals as ballot_signals
from salon.committee import api as committee_api
from salon.committee import demo as committee_demo
from salon.committee import services, views
from salon.home.tasks import provider
from salon.programmes import services as programmes
from salon.programmes import signals as programme_signals


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    api.register_blueprint(committee_api.blp)
    app.add_template_global(views.who_decides, "who_decides")
    app.add_template_global(views.decided_by, "decided_by")
    # Connecting again (another app in the same process) is a no-op in blinker.
    ballot_signals.poll_counted.connect(services.poll_counted)
    programme_signals.seat_handed_over.connect(services.seat_changed)
    programme_signals.community_left.connect(services.seat_changed)
    navigation.add(app, _l("Committee"), "committee.index", order=30)
    registry.of(app).add_tick(programmes.each_programme(services.advance), order=30)
    demo.step(app, 30, committee_demo.load)
    demo.step(app, 35, committee_demo.load_sessions)
    provider(app, views.committee_tasks, catch_up=views.catch_up, order=30)
    ballots.register_kind(app, services.POLL_KIND, services.poll_title, services.LABELS,
                          decrypted_below_minimum=services.DECRYPTED_BELOW_MINIMUM)
