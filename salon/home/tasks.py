"""The to-do list on the home page. Each feature registers a provider: (user) -> list of Task."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Task:
    text: str
    url: str | None = None
    urgent: bool = False


_providers: list[Callable] = []


def provider(func: Callable) -> Callable:
    if func not in _providers:  # a room's init_app runs once per app; register its provider once
        _providers.append(func)
    return func


def tasks_for(user) -> list[Task]:
    found: list[Task] = []
    for func in _providers:
        found.extend(func(user))
    return sorted(found, key=lambda t: not t.urgent)
