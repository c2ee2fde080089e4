"""What the rooms plug into the platform, kept on the app (`app.extensions["salon"]`), not in module globals:
each room's `init_app` fills it, and two apps in one process (the tests make many) never share an entry.

    menu        main-menu entries (salon.navigation)
    tasks       home-page task functions, and catch_ups: the steps run before them, by order (salon.home.tasks)
    notices     copy-ready texts for the county's chat group, by stage (salon.home.notices)
    panels      parts of the session page (salon.sessions.panels)
    demo_steps  what each room adds to the demo programme, by order (salon.demo)
    ticks       time-based transitions run by `salon tick`, by order: callables (now) -> list of strings said
    poll_titles, poll_labels   how the ballot engine names the polls and codes a room owns (salon.ballots)
    poll_needs  what each kind of sealed poll still decrypts below the publication minimum (salon.ballots)

It imports nothing from salon: every room may import it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from flask import Flask, current_app

KEY = "salon"


@dataclass
class Registry:
    menu: list = field(default_factory=list)
    tasks: list = field(default_factory=list)
    catch_ups: list = field(default_factory=list)
    notices: dict = field(default_factory=dict)
    panels: dict = field(default_factory=dict)
    demo_steps: list = field(default_factory=list)
    ticks: list = field(default_factory=list)
    poll_titles: dict = field(default_factory=dict)
    poll_labels: dict = field(default_factory=dict)
    poll_needs: dict = field(default_factory=dict)

    def add_tick(self, tick: Callable[[datetime], list[str]], order: int) -> None:
        """A room's time-based transitions, run by `order` (topics 20, committee 30, reviews 35, schedule 90)."""
        if all(t is not tick for _o, t in self.ticks):
            self.ticks.append((order, tick))
            self.ticks.sort(key=lambda item: item[0])

    def run_ticks(self, now: datetime) -> list[str]:
        """The tick loop (its one home): every room's due transitions at `now`; what each said. The caller
        commits (`salon tick`)."""
        said: list[str] = []
        for _order, tick in self.ticks:
            said.extend(tick(now))
        return said


def init_app(app: Flask) -> None:
    app.extensions[KEY] = Registry()


def of(app: Flask | None = None) -> Registry:
    """The registry of `app`, or of the current app."""
    return (app if app is not None else current_app).extensions[KEY]
