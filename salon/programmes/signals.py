"""What the programme room tells other rooms when a seat changes hands or a community leaves (STYLE:
cross-room reactions are signals declared by the room that emits them). Receivers run in the same transaction."""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender=the community, actor=who did it, now=the moment
seat_handed_over = _signals.signal("seat-handed-over")
community_left = _signals.signal("community-left")
