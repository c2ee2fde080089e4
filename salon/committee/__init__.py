"""The committee room (SPEC §4, §3.3): the topic-selection committee, its elections and its members' picks."""
from __future__ import annotations

_wired = False


def init_app(app) -> None:
    """Wire the room: blueprint, menu entry, home-page tasks, tick, the poll kind it owns."""
    global _wired
    from flask_babel import lazy_gettext as _l

    from salon.ballots import services as ballots
    from salon.committee import services, views

    app.register_blueprint(views.bp)
    app.add_template_global(views.who_decides, "who_decides")
    app.add_template_global(views.decided_by, "decided_by")
    # Cross-room reactions (STYLE): an election is counted in its poll's close (SPEC §4.1); a seat changing
    # hands or a community leaving vacates a member's place. Connecting again is a no-op in blinker.
    from salon.ballots import signals as ballot_signals
    from salon.programmes import signals as programme_signals

    ballot_signals.poll_closed.connect(services.poll_closed)
    programme_signals.seat_handed_over.connect(services.seat_changed)
    programme_signals.community_left.connect(services.seat_changed)
    if _wired:
        return
    _wired = True
    from salon import cli, navigation
    from salon import demo as demo_registry
    from salon.committee import demo
    from salon.home.tasks import provider

    navigation.add(_l("Committee"), "committee.index", order=30)
    cli.TICKERS.append(services.tick)
    demo_registry.extension(30)(demo.load)
    demo_registry.extension(35)(demo.load_sessions)
    provider(views.committee_tasks, catch_up=views.catch_up)
    ballots.register_kind(services.POLL_KIND, services.poll_title, services.LABELS)
