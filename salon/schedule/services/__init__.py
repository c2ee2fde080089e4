"""The schedule room's services: the monthly sessions and the rotating chair (SPEC §2). The other rooms reach the
schedule only through this package (`from salon.schedule import services`), never through its tables or the
modules below; services only flush, the request commits. Each part lives in a module of its own:

- reading.py: a programme's sessions (or one community's duties), a session by its number or id, the planned
  sessions ahead, the session before or after one, selects of sessions for other rooms to join their rows to, the secretary's community and its
  next duty, the pending swap requests;
- history.py: reading whose cost does not grow with the years (SPEC §9): a calendar feed's sessions (the past
  year and the future) and the pages of past sessions by keyset;
- upkeep.py: keeping the schedule right: past sessions marked held, generating the coming months, refilling
  every free future session (day rule, blackouts, rotation, numbering) after any change;
- order.py: the rotation order (by hand or by lot) and the blackout months;
- single_sessions.py: the one session lookup of every room (`get_session`, `session_for`), the session row lock
  (`lock_session`, step 3 of the lock order in salon/database.py), moving, cancelling and locking one session;
- swaps.py: the bureau's swap of two chairs, a chair's request to another and its answer, each chair's inbox;
- communities.py: a community joining or leaving (receivers of the programme room's signals, connected in
  salon.schedule.wiring);
- feeds.py: calendar feeds: subscriptions, their signed tokens, revoking and opening one."""
from __future__ import annotations

from salon.schedule.models import SessionStatus

from .communities import community_joined, community_left
from .feeds import create_feed, feed_token, feeds_of, get_feed, open_feed, revoke_feed
from .history import PAST_PAGE, feed_sessions, session_page
from .order import MAX_BLACKOUTS, draw_lots, reorder, rotation_order, set_blackouts
from .reading import (chair_of_next, coming_with_previous, community_of, first_held_since, held_between,
                      held_numbered_upto, in_order, next_duty, next_numbered, next_planned, not_cancelled, numbered,
                      numbered_session, numbers, past_numbered, planned_after, planned_numbered, previous_session,
                      session_by_id, sessions, sessions_by_id, starting_between)
from .single_sessions import cancel_session, edit_session, get_session, lock_session, session_for, set_locked
from .swaps import accept_request, bureau_swap, decline_request, get_request, inbox, request_swap, withdraw_request
from .upkeep import MAX_MONTHS, generate, mark_past_held, regenerate

__all__ = [
    # a session's states, for the rooms that compare with them (salon.schedule.models)
    "SessionStatus",
    # reading.py
    "sessions", "numbered_session", "planned_after", "first_held_since", "community_of", "next_duty", "next_planned",
    "session_by_id", "sessions_by_id", "in_order", "starting_between", "held_between", "not_cancelled",
    "chair_of_next", "held_numbered_upto", "numbers", "numbered", "planned_numbered", "past_numbered",
    "coming_with_previous", "previous_session", "next_numbered",
    # history.py
    "PAST_PAGE", "feed_sessions", "session_page",
    # upkeep.py
    "MAX_MONTHS", "mark_past_held", "generate", "regenerate",
    # order.py
    "MAX_BLACKOUTS", "rotation_order", "reorder", "draw_lots", "set_blackouts",
    # single_sessions.py
    "get_session", "session_for", "lock_session", "edit_session", "cancel_session", "set_locked",
    # swaps.py
    "bureau_swap", "request_swap", "get_request", "accept_request", "decline_request", "withdraw_request", "inbox",
    # communities.py
    "community_joined", "community_left",
    # feeds.py
    "feeds_of", "create_feed", "feed_token", "get_feed", "revoke_feed", "open_feed",
]
