"""The half-year review room (SPEC §4): attendance, the secret review ballot, the re-election rule."""
from __future__ import annotations

_wired = False


def init_app(app) -> None:
    """Wire the room: blueprint, menu entry, home-page tasks and the group's notice, tick, the poll kind it owns."""
    global _wired
    from flask_babel import lazy_gettext as _l

    from salon.ballots import services as ballots
    from salon.reviews import services, views

    app.register_blueprint(views.bp)
    if _wired:
        return
    _wired = True
    from salon import cli, navigation
    from salon import demo as demo_registry
    from salon.reviews import demo
    from salon.home import notices
    from salon.home.tasks import provider

    navigation.add(_l("Reviews"), "reviews.index", order=35)
    cli.TICKERS.append(services.tick)
    demo_registry.extension(40)(demo.load)
    provider(views.review_tasks, catch_up=views.catch_up)
    notices.register(views.CHECKIN_STAGE, views.checkin_notice)
    ballots.register_kind(services.POLL_KIND, services.poll_title, services.LABELS)
