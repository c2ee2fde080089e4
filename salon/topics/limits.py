"""Every input limit of the topics room, in one place: the models, the forms, the API schemas and the services
all read these (STYLE: each input limit lives in one place)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    max: int
    required: bool = False


# A nomination (SPEC §3.1).
TITLE = Text(80, True)
PROBLEM = Text(5000, True)
HOPED = Text(2000)
UNITS = Text(500)
RATIONALE = Text(5000)

# The agenda (SPEC §3.4). The items together must fit in the session: their minutes add up to at most the
# session's length, which the bureau sets (setting session_duration_minutes, or the session itself).
AGENDA_TITLE = Text(120, True)
AGENDA_LEAD = Text(120)
AGENDA_NOTE = Text(1000)
AGENDA_ITEMS_MAX = 20
ITEM_MINUTES_MIN = 1
ITEM_MINUTES_MAX = 600

# Guests of a session.
GUEST_NAME = Text(80, True)
GUEST_UNIT = Text(120, True)
GUEST_CONTACT = Text(120)
