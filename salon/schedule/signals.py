"""What the schedule tells other rooms (STYLE: cross-room reactions are signals declared by the room that emits
them). Receivers run in the same transaction as the change."""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent by services.cancel_session once a session is cancelled, with sender=the session, actor=who cancelled it,
# now=the moment (the topics room closes the session's vote).
session_cancelled = _signals.signal("session-cancelled")
