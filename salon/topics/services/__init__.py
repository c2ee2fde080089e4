"""A session's topic, step by step (SPEC §3): nominate, vote, decide, agenda and guests. The other rooms reach
the topics room only through this package (`from salon.topics import services`), never through its tables or
the modules below; each part lives in a module of its own:

- sessions.py: a session as the topics room sees it: the session before it, its windows (the rule is
  salon.rules.topics), its topic poll and that poll's title, the next sessions;
- voting.py: the vote opening and closing: `advance` runs the transitions that fall due with time (voting
  opens, voting closes; called lazily by the topic pages, the API, the home page and `salon tick`), the
  bureau's early opening and closing, a cancelled session's vote; the live nominations the poll is built over;
- nominations.py: nominating, editing, withdrawing and carrying a nomination over;
- deciding.py: who decides a session's topic now (the bureau or the sitting committee), the decision and its
  rationale, and the decisions other rooms read;
- agenda_and_guests.py: a decided session's agenda and its guests, and who may edit them;
- pages.py: what the topic pages, the session page and the home page show, each in a fixed number of queries.

The ballot comes from salon.ballots, through its services."""
from __future__ import annotations

from .agenda_and_guests import (TimedItem, add_guest, agenda, can_manage, check_manage, guest_ids_among, guests,
                                remove_guest, replace_agenda)
from .deciding import (awaiting_count, awaiting_count_text, bureau_decisions, committee_decisions, decide,
                       decided_before_count, decided_sessions, decryption_overdue,
                       decided_titles, decider_for, decider_of, deciding_terms, decision_of, prepare_decision,
                       record_decision)
from .nominations import carry_over, check_editable, edit_nomination, get_nomination, nominate, withdraw
from .pages import (SessionParts, SessionTopic, TaskState, TopicList, awaited_trustees_of, overdue_detail,
                    session_parts, session_topic, tasks_state_of, topic_list)
from .sessions import poll_title, topic_poll, windows
from .voting import (POLL_KIND, QUESTION_CODE, active_nominations, advance, build_poll, close_voting,
                     nomination_by_id, nomination_titled, open_voting, session_cancelled)

__all__ = [
    # sessions.py
    "windows", "topic_poll", "poll_title",
    # voting.py
    "POLL_KIND", "QUESTION_CODE", "advance", "open_voting", "build_poll", "close_voting", "session_cancelled",
    "active_nominations", "nomination_by_id", "nomination_titled",
    # nominations.py
    "nominate", "get_nomination", "check_editable", "edit_nomination", "withdraw", "carry_over",
    # deciding.py
    "decider_of", "decider_for", "decide", "prepare_decision", "record_decision", "awaiting_count",
    "awaiting_count_text", "overdue_detail", "decryption_overdue", "decided_before_count",
    "decision_of", "decided_titles", "deciding_terms", "decided_sessions", "committee_decisions",
    "bureau_decisions",
    # agenda_and_guests.py
    "can_manage", "check_manage", "TimedItem", "agenda", "replace_agenda", "guests", "guest_ids_among",
    "add_guest", "remove_guest",
    # pages.py
    "SessionTopic", "session_topic", "SessionParts", "session_parts", "TopicList", "topic_list", "TaskState",
    "tasks_state_of", "awaited_trustees_of",
]
