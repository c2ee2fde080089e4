"""The topics room (SPEC §3): nominations for a session, the secret approval vote over them, the decision,
the agenda and the guests."""
from __future__ import annotations

_wired = False


def init_app(app) -> None:
    """Wire the room: its blueprint, menu entry, home-page tasks, tick, cancel hook, demo data and the
    poll kind it owns. The menu, task, tick and demo registries are per process, so they are filled once."""
    global _wired
    from flask_babel import lazy_gettext as _l

    from salon.ballots import services as ballots
    from salon.topics import services, views

    app.register_blueprint(views.bp)
    if _wired:
        return
    _wired = True
    from salon import cli, navigation
    from salon import demo as demo_registry
    from salon.home.tasks import provider
    from salon.schedule import services as schedule_services
    from salon.topics import demo

    navigation.add(_l("Topics"), "topics.index", order=20)
    cli.TICKERS.append(services.tick)
    schedule_services.CANCEL_HOOKS.append(services.session_cancelled)
    provider(views.topic_tasks, catch_up=views.catch_up)
    demo_registry.extension(20)(demo.load_topics)
    ballots.register_kind(services.POLL_KIND, services.poll_title,
                          {services.QUESTION_CODE: _l("Which topics do you approve?")})
