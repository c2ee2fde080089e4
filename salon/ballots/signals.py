"""What the ballot engine tells other rooms (STYLE: cross-room reactions are signals declared by the room that
emits them). Receivers run inside the closing transaction, so whatever they do commits, or fails, with it."""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent by services.close_poll once a poll is closed (every path: a request, the lazy close of due polls, tick),
# with sender=the poll, actor=who closed it (None for time), now=the moment of the close.
poll_closed = _signals.signal("poll-closed")
