"""The committee room (SPEC §4, §3.3): elections (standing, the approval ballot, runoff, lot), terms, vacancies,
and the members' signed picks that decide a session's topic. The other rooms reach the committee room only
through this package (`from salon.committee import services`) and its read module salon.committee.terms (who
sits now), never through its tables or the modules below; each part lives in a module of its own:

- reading.py: an election, its candidates, a term, the programme's elections page by page, whether the first
  election is due, who sits now and why the bureau decides when nobody can (`standing`), `is_member`;
- electing.py: an election step by step: when one may be opened, opening it, nominating and standing, the
  approval ballot opened and closed, the count in its poll's close (`poll_counted`, connected by the room's
  init_app), runoff and lot, the winners seated; a term's end (`end_term`); the election poll's kind, labels
  and title;
- vacancies.py: places falling vacant and the next in line moving up (`reconcile`; `seat_changed`, the
  receiver of the programme room's signals), and `advance`, run lazily by the pages and by `salon tick`;
- result_page.py: an election's result page (`election_view`, the lot's rows) and its export;
- decisions.py: a member's pick, the picks behind a committee decision, and a decision as every place shows it.

Imports among them run one way: reading ← electing ← vacancies ← result_page; decisions reads only the terms.
The ballots are the engine's (salon.ballots, through its services); what pages show follows SPEC §5
(`ballots.results`). Who sits now comes from salon.committee.terms, re-exported here for the room's pages."""
from __future__ import annotations

from salon.committee.models import Election, ElectionState, Term
from salon.committee.terms import last_term, member_seat_ids, sitting_members, sitting_term

from .decisions import (DecisionShown, PickLine, decider_reason_text, decision_picks, picks, record_pick,
                        shown_decision)
from .electing import (EXTEND_MAX_DAYS, LABELS, DECRYPTED_BELOW_MINIMUM, NOTE_MAX, POLL_KIND, QUESTION_CODE, REASONS, RUNOFF_CODE,
                       STANDING_DAYS, VOTING_DAYS, accept, close_vote, count, current_poll, election_openable,
                       end_term, extend_standing, fewer_candidates_alarm, fewer_candidates_than_seats, nominate,
                       open_election, open_vote, poll_counted, poll_title, public_ids)
from .reading import (Standing, candidates, election_page, elections, first_election_due, first_term_start,
                      get_election, get_term, held_bureau_sessions, is_member, running_election, standing,
                      term_seated_by)
from .result_page import ElectionView, LotRow, election_view, export_heading, export_rows, shell_line
from .vacancies import (advance, count_if_closed, next_in_line, published_draw, reconcile, seat_changed,
                        succession_seed)

__all__ = [
    # salon.committee.models and salon.committee.terms, as other rooms and the tests read them here
    "Election", "ElectionState", "Term", "sitting_term", "sitting_members", "last_term", "member_seat_ids",
    # reading.py
    "get_election", "get_term", "first_term_start", "term_seated_by", "running_election", "elections",
    "election_page", "candidates", "held_bureau_sessions", "first_election_due", "Standing", "standing",
    "is_member",
    # electing.py
    "POLL_KIND", "QUESTION_CODE", "RUNOFF_CODE", "STANDING_DAYS", "NOTE_MAX", "REASONS", "VOTING_DAYS",
    "EXTEND_MAX_DAYS", "LABELS", "DECRYPTED_BELOW_MINIMUM", "election_openable", "open_election", "nominate", "accept", "extend_standing",
    "fewer_candidates_than_seats", "fewer_candidates_alarm", "open_vote", "current_poll", "close_vote",
    "poll_counted", "public_ids", "count", "end_term", "poll_title",
    # vacancies.py
    "succession_seed", "published_draw", "next_in_line", "reconcile", "seat_changed", "advance", "count_if_closed",
    # result_page.py
    "ElectionView", "LotRow", "shell_line", "election_view", "export_rows", "export_heading",
    # decisions.py
    "picks", "record_pick", "decision_picks", "PickLine", "DecisionShown", "shown_decision", "decider_reason_text",
]
