"""How the topics room plugs into the app (salon.create_app calls init_app): its pages and API, menu entry,
home-page tasks and chat-group notices, tick, demo step, the poll kind it owns, and its answer to a session
being cancelled (its vote closes)."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from salon import api, demo, navigation, registry
from salon.ballots import services as ballots
from salon.home.tasks import provider
from salon.programmes import services as programmes
from salon.schedule import signals as schedule_signals
from salon.topics import api as topics_api
from salon.topics import demo as topics_demo
from salon.topics import notices, services, views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    api.register_blueprint(topics_api.blp)
    navigation.add(app, _l("Topics"), "topics.index", order=20)
    registry.of(app).add_tick(programmes.each_programme(services.advance), order=20)
    schedule_signals.session_cancelled.connect(services.session_cancelled)
    provider(app, views.topic_tasks, catch_up=views.catch_up, order=20)
    notices.init_app(app)
    demo.step(app, 20, topics_demo.load_topics)
    # Below the publication minimum a topic vote's outcome needs no count (SPEC §5: the decider had no tally to
    # follow), so a sealed one decrypts nothing and is counted at its close.
    ballots.register_kind(app, services.POLL_KIND, services.poll_title,
                          {services.QUESTION_CODE: _l("Which topics do you approve?")}, decrypted_below_minimum=())
