"""The one place that reads the wall clock. Rules take `now` as an argument; services ask here."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone

_fixed: datetime | None = None


def utcnow() -> datetime:
    """Naive UTC, the form every timestamp column holds."""
    if _fixed is not None:
        return _fixed
    return datetime.now(timezone.utc).replace(tzinfo=None)


@contextmanager
def frozen(at: datetime):
    """Services see `at` as now inside the block (`salon demo --as-of`: the demo as it stood on that day)."""
    global _fixed
    before, _fixed = _fixed, at
    try:
        yield at
    finally:
        _fixed = before
