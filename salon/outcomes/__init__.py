"""The after-session room (SPEC §6): attendance per seat and guest, the minutes summary, numbered resolutions,
and action items with dated updates; overdue items on the home page and the session page."""
