"""How the half-year review room plugs into the app (salon.create_app calls init_app): its pages and API, menu
entry, home-page tasks and the check-in notice for the chat group, tick, demo step, the poll kind it owns, and its
answer to the ballot engine's signal: a review's rule is applied in its poll's close (SPEC §4.1)."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from salon import api, demo, navigation, registry
from salon.ballots import services as ballots
from salon.ballots import signals as ballot_signals
from salon.home import notices
from salon.home.tasks import provider
from salon.programmes import services as programmes
from salon.reviews import api as reviews_api
from salon.reviews import demo as reviews_demo
from salon.reviews import services, views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    api.register_blueprint(reviews_api.blp)
    # Connecting again (another app in the same process) is a no-op in blinker.
    ballot_signals.poll_counted.connect(services.poll_counted)
    navigation.add(app, _l("Reviews"), "reviews.index", order=35)
    registry.of(app).add_tick(programmes.each_programme(services.advance), order=35)
    demo.step(app, 40, reviews_demo.load)
    provider(app, views.review_tasks, catch_up=views.catch_up, order=35)
    notices.register(app, views.CHECKIN_STAGE, views.checkin_notice)
    ballots.register_kind(app, services.POLL_KIND, services.poll_title, services.LABELS,
                          decrypted_below_minimum=services.NEEDED_BELOW_MINIMUM,
                          published_below_minimum=services.NEEDED_BELOW_MINIMUM)
    ballot_signals.poll_counted.connect(services.poll_counted)  # the rule, once the ballot is counted
