"""The to-do list on the home page. Each feature registers a provider: (TaskContext) -> list of Task, and may
register a catch-up step that brings its time-based state up to date first.

A task links straight to where it is done. It may carry a stage and a copy-ready notice for the county's chat
group (salon.home.notices), a due time, and a line of detail.

The list is built in two steps so that the programme's state is read once however many rooms look at it
(issue 18: the bureau's home page ran 39 queries, every room re-reading the same rows): first every room's
catch-up (closing polls whose window ended, counting an election, …), then every provider, reading state that
no longer changes during the request. Facts that several rooms read (the next sessions, the sitting committee,
the polls due to close) are computed once through `TaskContext.shared`, by the room that owns them."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, TypeVar

from flask import Flask

from salon import registry

T = TypeVar("T")


@dataclass(frozen=True)
class Task:
    text: str
    url: str | None = None
    urgent: bool = False
    detail: str | None = None  # one more line under the task (counts, who is waiting)
    due: datetime | None = None  # naive UTC: when it must be done (sorts the list)
    stage: str | None = None  # a stage of salon.home.notices, when there is something to tell the group
    notice: str | None = None  # the copy-ready text for the chat group


@dataclass
class TaskContext:
    """One home page's question: who asks, at what moment, and what several rooms' task functions share."""
    user: Any
    now: datetime
    seat: Any = None  # the secretary's seat (salon.programmes), read once by the page
    _shared: dict = field(default_factory=dict, repr=False)

    @property
    def programme(self):
        return self.user.programme

    def shared(self, key: str, compute: Callable[[], T]) -> T:
        """compute() the first time `key` is asked for during this page, its answer afterwards. The key is
        named by the room that owns the fact ("committee.sitting_term")."""
        if key not in self._shared:
            self._shared[key] = compute()
        return self._shared[key]

    def forget(self, key: str) -> None:
        """The fact changed (a catch-up step wrote it): the next shared(key, …) computes it again."""
        self._shared.pop(key, None)


def provider(app: Flask, func: Callable[[TaskContext], list[Task]],
             catch_up: Callable[[TaskContext], object] | None = None, order: int = 50) -> Callable:
    """Register a room's task function, and the step that brings its state up to date before any task is read
    (on the app's registry, from the room's init_app; a repeat is ignored). Both run by `order`, which also
    orders tasks of equal urgency and due time."""
    wired = registry.of(app)
    if all(f is not func for _o, f in wired.tasks):
        wired.tasks.append((order, func))
        wired.tasks.sort(key=lambda item: item[0])
    if catch_up is not None and all(c is not catch_up for _o, c in wired.catch_ups):
        wired.catch_ups.append((order, catch_up))
        wired.catch_ups.sort(key=lambda item: item[0])
    return func


def tasks_for(user, now: datetime, seat=None) -> list[Task]:
    context = TaskContext(user, now, seat)
    wired = registry.of()
    for _order, step in wired.catch_ups:
        step(context)
    found: list[Task] = []
    for _order, func in wired.tasks:
        found.extend(func(context))
    return sorted(found, key=lambda t: (not t.urgent, t.due is None, t.due or datetime.min))
