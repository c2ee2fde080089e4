"""What the committee room tells other rooms (STYLE: cross-room reactions are signals declared by the room that
emits them). Receivers run inside the sender's transaction."""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent when an election's winners are seated (a new term, or a by-election's winners joining the sitting term),
# with sender=the committee Term, actor=who closed the election (None for time), now=the moment of seating.
seated = _signals.signal("committee-seated")
