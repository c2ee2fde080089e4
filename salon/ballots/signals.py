"""What the ballot engine tells other rooms (STYLE: cross-room reactions are signals declared by the room that
emits them). Receivers run inside the closing transaction, so whatever they do commits, or fails, with it."""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent by services.close_poll once a poll is closed (every path: a request, the lazy close of due polls, tick),
# with sender=the poll, actor=who closed it (None for time), now=the moment of the close. No room acts on the
# result here: see poll_counted.
poll_closed = _signals.signal("poll-closed")

# Sent by services.close_poll right after poll_closed, in the same transaction and with the same arguments: the
# poll's results are available (`tally` counts it). A room that acts on the result (an election's count, a
# review's rule) listens here, not to poll_closed. Today every poll's results are available at its close, so
# both are sent together; a poll of sealed ballots (SPEC §5.1) will send it later, once its trustees have
# decrypted the tally, in the transaction that records the decryption.
poll_counted = _signals.signal("poll-counted")
