"""The one place that reads the wall clock. Rules take `now` as an argument; services ask here."""
from datetime import datetime, timezone


def utcnow() -> datetime:
    """Naive UTC, the form every timestamp column holds."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
