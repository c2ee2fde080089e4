"""Every input limit of the after-session record (SPEC §6), read by the forms, the API schemas and the services."""
from __future__ import annotations

MINUTES_MAX = 10000          # the minutes summary
RESOLUTION_MAX = 1000        # one resolution's text
RESOLUTIONS_PER_SESSION = 30
ACTION_WHAT_MAX = 300        # what is to be done
OWNER_UNIT_MAX = 120         # who follows up (a community's name or an outside unit)
ACTIONS_PER_SESSION = 60
UPDATE_NOTE_MAX = 1000
UPDATES_PER_ITEM = 200
GUEST_LINK_LABEL_MAX = 80    # who a packet link was made for
GUEST_LINKS_PER_SESSION = 50
DUE_YEARS = (2000, 2100)     # a due date outside these years is a typing mistake
