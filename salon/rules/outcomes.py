"""Rules of what a session produced (SPEC §6): action-item statuses and when an item is overdue."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

OPEN = "open"
IN_PROGRESS = "in_progress"
DONE = "done"
DROPPED = "dropped"
STATUSES = (OPEN, IN_PROGRESS, DONE, DROPPED)
FINISHED = frozenset({DONE, DROPPED})


def local_today(now: datetime, tz: str) -> date:
    """The calendar day in the programme's time zone at the naive-UTC moment `now`."""
    return now.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz)).date()


def is_overdue(due_on: date | None, status: str, today: date) -> bool:
    """SPEC §6: an item is overdue once its due date has passed (due today is not yet overdue) and it is
    neither done nor dropped. An item without a due date is never overdue."""
    return due_on is not None and status not in FINISHED and due_on < today
