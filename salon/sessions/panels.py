"""Panels of the session page. A room adds its part from its init_app (or its wiring module):

    panels.add(app, "packet", order=60, template="packets/_session_panel.html", title=_l("Packet"), context=packet_context)

`context(session, user)` returns the variables its template needs, or None to leave the panel out for this person.
The page includes each panel's template in order, after the schedule and topic parts (order < 60 is theirs)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Flask

from salon import registry


@dataclass(frozen=True)
class Panel:
    key: str
    order: int
    template: str
    context: Callable | None = None  # (session, user) -> dict | None
    title: object = None  # the step's name in the page's list of steps (a lazy string)


def add(app: Flask, key: str, order: int, template: str, context: Callable | None = None, title=None) -> None:
    registry.of(app).panels[key] = Panel(key, order, template, context, title)


def for_session(session, user) -> list[tuple[Panel, dict]]:
    shown = []
    for panel in sorted(registry.of().panels.values(), key=lambda p: p.order):
        extra = panel.context(session, user) if panel.context else {}
        if extra is not None:
            shown.append((panel, extra))
    return shown
