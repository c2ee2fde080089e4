"""How the schedule room plugs into the app (salon.create_app calls init_app): its pages and API, the menu
entry, home-page tasks, demo steps and tick (salon.schedule.hooks), and its answers to the programme room's
signals: the schedule follows the communities and the settings (SPEC §2)."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from salon import api, demo, navigation, registry
from salon.home.tasks import provider
from salon.programmes import signals as programme_signals
from salon.schedule import api as schedule_api
from salon.schedule import hooks, services, views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    api.register_blueprint(schedule_api.blp)
    navigation.add(app, _l("Schedule"), "schedule.index", order=10)
    provider(app, hooks.schedule_tasks, order=40)
    demo.step(app, 10, hooks.demo_schedule)
    demo.step(app, 90, hooks.demo_present)
    registry.of(app).add_tick(hooks.tick_held, order=90)
    # Connecting again (another app in the same process) is a no-op in blinker.
    programme_signals.community_joined.connect(services.community_joined)
    programme_signals.community_left.connect(services.community_left)
    programme_signals.schedule_settings_changed.connect(services.regenerate)
