"""What the ballot engine tells other rooms (STYLE: cross-room reactions are signals declared by the room that
emits them). Receivers run inside the closing transaction, so whatever they do commits, or fails, with it."""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent by services.close_poll once a poll is closed (every path: a request, the lazy close of due polls, tick),
# with sender=the poll, actor=who closed it (None for time), now=the moment of the close. No room acts on the
# result here: see poll_counted.
poll_closed = _signals.signal("poll-closed")

# Sent once a poll's counts are available (sender=the poll, actor, now): for a plain poll by services.close_poll
# right after poll_closed; for a sealed poll (SPEC §5.1) when the k-th trustee's decryption has been recorded
# (services.record_decryption), possibly long after the close — or in its close, right after poll_closed, when
# fewer ballots than the minimum leave no sum to decrypt (SPEC §5). Rooms that act on a poll's counts listen here.
poll_counted = _signals.signal("poll-counted")
