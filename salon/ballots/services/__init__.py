"""The ballot engine: running a poll (draft → open → closed), casting a ballot, and what a closed poll
publishes. The other rooms reach the engine only through this package (`from salon.ballots import services`),
never through its tables or the modules below; each part lives in a module of its own:

- polls.py: building a poll (questions, options), opening it with its eligible seats, a check-in's change to
  the roll of an open poll;
- closing.py: the close (by hand, or `close_due` once the window has ended; `close_unopened` for a poll whose
  window passed before it could open);
- casting.py: casting a sealed ballot in one short transaction, checking choices before the confirmation step,
  and reading a receipt as typed;
- open_polls.py: what this process keeps of the polls open (their shape, by their seal);
- sealing.py: sealed polls (SPEC §5.1): the trustee key a poll opens with (`register_key_provider`), the seal
  spec, checking or sealing a ballot before it is cast, the encrypted tally, the trustees' decryptions
  (`polls_to_decrypt`, `decryption_request`, `record_decryption`, `decryption_status`) and the bulletin board;
- reading.py: eligibility, whether a seat has voted, the turnout, receipts, results and the full tally;
- overview.py: what rooms ask about several polls at once (states, summaries);
- labels.py: the titles and labels of each kind of poll, registered by the room that owns it.

Secrecy is described in salon/ballots/__init__.py."""
from __future__ import annotations

from salon.ballots.models import PollState  # the engine's vocabulary: rooms compare a poll's state with it

from .casting import cast, check_choices, normalise_receipt
from .closing import close_due, close_poll, close_unopened
from .labels import option_label, poll_title, question_text, register_kind
from .open_polls import cached_shape
from .overview import PollSummary, get, states, summaries
from .polls import (add_eligible, add_option, add_question, create_poll, key_ready, open_poll, remove_eligible,
                    require_key)
from .sealing import (SEAL_SPEC_FORMAT, PollKey, awaited_names, board, counted_at, poll_key, board_sealed_by, decryption_request, decryption_status,
                      get_sealed_poll, is_counted, nothing_to_decrypt, overdue_polls, polls_to_decrypt, published_board, sealed_progress, record_decryption, register_key_provider,
                      seal_spec)
from .reading import Results, Tally, get_poll, has_voted, is_eligible, receipts, results, tally, turnout

__all__ = [
    "PollState",
    # polls.py
    "create_poll", "add_question", "add_option", "key_ready", "require_key", "open_poll", "add_eligible", "remove_eligible",
    # closing.py
    "close_poll", "close_unopened", "close_due",
    # casting.py
    "cast", "check_choices", "normalise_receipt",
    # open_polls.py
    "cached_shape",
    # reading.py
    "get_poll", "has_voted", "is_eligible", "turnout", "receipts", "Results", "results", "Tally", "tally",
    # sealing.py (SPEC §5.1)
    "PollKey", "poll_key", "register_key_provider", "seal_spec", "SEAL_SPEC_FORMAT", "polls_to_decrypt", "decryption_request",
    "record_decryption", "decryption_status", "overdue_polls", "is_counted", "counted_at", "awaited_names", "nothing_to_decrypt", "sealed_progress", "board", "published_board", "board_sealed_by", "get_sealed_poll",
    # overview.py
    "get", "states", "PollSummary", "summaries",
    # labels.py
    "register_kind", "poll_title", "question_text", "option_label",
]
