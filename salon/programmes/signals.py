"""What the programme room tells other rooms when a seat changes hands, a community joins or leaves, or the
schedule's settings change (STYLE: cross-room reactions are signals declared by the room that emits them).
Receivers run in the same transaction. A receiver of seat_handed_over or community_left may return a list of
sentences for the person who acted (a committee place fell vacant, who moved up): the service hands them to its
caller's `said` list, and the page shows them."""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender=the community, actor=who did it, now=the moment
seat_handed_over = _signals.signal("seat-handed-over")
community_left = _signals.signal("community-left")
# sender=the community (added, or active again), actor=who did it
community_joined = _signals.signal("community-joined")
# sender=the programme, actor=who changed a setting the schedule is generated from (SCHEDULE_SETTINGS)
schedule_settings_changed = _signals.signal("schedule-settings-changed")
