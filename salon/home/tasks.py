"""The to-do list on the home page. Each feature registers a provider: (user) -> list of Task.

A task links straight to where it is done. It may carry a stage and a copy-ready notice for the county's chat
group (salon.home.notices), a due time, and a line of detail."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable


@dataclass(frozen=True)
class Task:
    text: str
    url: str | None = None
    urgent: bool = False
    detail: str | None = None  # one more line under the task (counts, who is waiting)
    due: datetime | None = None  # naive UTC: when it must be done (sorts the list)
    stage: str | None = None  # a stage of salon.home.notices, when there is something to tell the group
    notice: str | None = None  # the copy-ready text for the chat group


_providers: list[Callable] = []


def provider(func: Callable) -> Callable:
    if func not in _providers:  # a room's init_app runs once per app; register its provider once
        _providers.append(func)
    return func


def tasks_for(user) -> list[Task]:
    found: list[Task] = []
    for func in _providers:
        found.extend(func(user))
    return sorted(found, key=lambda t: (not t.urgent, t.due is None, t.due or datetime.min))
