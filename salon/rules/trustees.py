"""Rules of the trustees of sealed ballots (SPEC §5.1; docs/sealed-ballots.md, "Trustees and their key ceremony").

How many trustees hold a key and how many decrypt, which key a new poll takes, when a drawn term ends and when the
next one is announced, how long a retired key is still asked about. Pure: no Flask, no database; time is passed
in. A *term* here is anything with the attributes `kind`, `state`, `retired_at`, `ends_at` and
`committee_term_id` (the trustees room's rows, or a test's plain object)."""
from __future__ import annotations

from datetime import datetime, timedelta

from salon.rules.committee import add_months

# The kinds of term: the bureau and the sitting committee's members (topic polls while it sits), or the bureau
# and secretaries drawn by lot (reviews, elections, and topic polls otherwise).
COMMITTEE, DRAWN = "committee", "drawn"
# The ceremony, step by step: a drawn term's seed is published (announced) before the draw; then every trustee
# deals (dealing), sends each other trustee their share, encrypted (sharing), checks the shares they received
# and confirms the joint key (checking); when all have confirmed, the key is ready. A term whose upheld complaints
# left fewer than MIN_TRUSTEES trustees has failed: it never holds a key.
ANNOUNCED, DEALING, SHARING, CHECKING, READY = "announced", "dealing", "sharing", "checking", "ready"
FAILED = "failed"
STATES = (ANNOUNCED, DEALING, SHARING, CHECKING, READY, FAILED)
# The one kind of poll a sitting committee's key may serve (reviews and elections judge or choose the committee).
TOPIC = "topic"

# SPEC §5.1: the bureau and three secretaries drawn by lot; a drawn term serves half a year.
DRAWN_SECRETARIES = 3
DRAWN_TERM_MONTHS = 6
# A new drawn term may be announced this many days before the ready one ends (so it is ready in time).
ANNOUNCE_BEFORE_END_DAYS = 30
# k = n - 1 (one trustee may be missing) and k >= 2 (no single trustee decrypts), so at least three trustees.
MIN_TRUSTEES = 3
# Each step of the ceremony (dealing, sharing, checking) must be done by every trustee within this many days of
# the moment the step began (the draw or seating, the last trustee's previous step, a restart). Past it, those who
# have not done it are dropped, as an upheld complaint drops a dealer, and the rest restart (or the term fails):
# one trustee who never acts does not stall the key for good (docs/sealed-ballots.md, "Deadlines").
STEP_DAYS = 3
# A retired key still decrypts the polls opened under it; the home page asks the ballot engine about it for this
# many days after it retired (a poll's window is days long), so its cost does not grow with the years.
DECRYPT_WINDOW_DAYS = 120
# A closed sealed poll's trustees should decrypt its sums within this many days of its close. Past it the
# decryption is overdue (docs/sealed-ballots.md, "When the trustees do not decrypt in time"): a topic vote may be
# decided without its tally, as below the minimum; an election or review still waits (its outcome needs the
# counts), and the bureau and the awaited trustees are told. A count that comes later is still published.
# Two days: a topic vote closes `vote_close_days` (7 by default) before its session, so the committee's
# `decision_deadline_days` (3) and then the bureau still fall before the session; a trustee asked on a phone decrypts
# in one click the next time they open the site.
DECRYPT_DAYS = 2


class TooFewTrustees(ValueError):
    """Fewer than MIN_TRUSTEES trustees: no key can be made that one missing trustee does not block."""


def holds_a_key(trustees: int) -> bool:
    """Whether n trustees may hold a key: n ≥ 3, so that k = n − 1 ≥ 2."""
    return trustees >= MIN_TRUSTEES


def threshold(trustees: int) -> int:
    """k, the trustees needed to decrypt: n − 1 (one may be missing), never fewer than 2. Refuses n < 3."""
    if not holds_a_key(trustees):
        raise TooFewTrustees(f"{trustees} trustees: at least {MIN_TRUSTEES} hold a key (k = n - 1 >= 2)")
    return trustees - 1


def may_draw(secretaries_holding_a_seat: int) -> bool:
    """A draw needs enough secretaries that they and the bureau member drawing hold a key."""
    return holds_a_key(secretaries_holding_a_seat + 1)


def drawn_term_end(drawn_at: datetime) -> datetime:
    """A drawn term serves new polls from its draw until this moment (excluded): half a year on."""
    return add_months(drawn_at, DRAWN_TERM_MONTHS)


def serves_new_polls(term, now: datetime, sitting_term_id: int | None = None) -> bool:
    """A ready key that a poll opened now would use: not retired; a drawn term before its end (its last moment
    serves, its end does not); a committee's term while that committee sits."""
    if term is None or term.state != READY or term.retired_at is not None:
        return False
    if term.kind == DRAWN:
        return term.ends_at is None or now < term.ends_at
    return sitting_term_id is not None and term.committee_term_id == sitting_term_id


def key_term_for(kind: str, now: datetime, committee_term, drawn_term, sitting_term_id: int | None):
    """SPEC §5.1: the term whose key a poll of `kind` opened at `now` takes. A topic poll while a committee sits
    takes the committee's key if it serves, else the drawn one; reviews and elections (which judge or choose the
    committee) always the drawn one. None: no key serves, the poll is not sealed. `committee_term`: the sitting
    committee's term of trustees (or None); `drawn_term`: the newest ready drawn term not retired (or None)."""
    if kind == TOPIC and serves_new_polls(committee_term, now, sitting_term_id):
        return committee_term
    if serves_new_polls(drawn_term, now):
        return drawn_term
    return None


def announce_due(current_drawn, now: datetime) -> bool:
    """The bureau may (and is prompted to) announce a drawn term: none under way (or the last one failed), and
    the ready one, if any, ends within ANNOUNCE_BEFORE_END_DAYS (from that moment on, included). `current_drawn`: the newest drawn term
    not retired, or None."""
    if current_drawn is None or current_drawn.state == FAILED:
        return True
    if current_drawn.state != READY:
        return False
    return (current_drawn.ends_at is not None
            and now >= current_drawn.ends_at - timedelta(days=ANNOUNCE_BEFORE_END_DAYS))


def may_await_decryption(term, now: datetime) -> bool:
    """Whether closed polls of this key may still await decryption: ready, and not retired longer ago than
    DECRYPT_WINDOW_DAYS (which bounds what the home page asks the ballot engine, however many terms the years
    bring)."""
    return term.state == READY and (
        term.retired_at is None or now - term.retired_at <= timedelta(days=DECRYPT_WINDOW_DAYS))


def decryption_deadline(closed_at: datetime) -> datetime:
    """The moment a sealed poll closed at `closed_at` is overdue if still not counted: DECRYPT_DAYS later. Its
    last second is in time; the moment itself is not."""
    return closed_at + timedelta(days=DECRYPT_DAYS)


def decryption_overdue(closed_at: datetime | None, counted_at: datetime | None, now: datetime) -> bool:
    """Whether a closed poll's count is still awaited at its decryption deadline or after (now ≥ deadline).
    Never for a poll that is open (`closed_at` None) or counted."""
    return closed_at is not None and counted_at is None and now >= decryption_deadline(closed_at)


def overdue_window(now: datetime) -> tuple[datetime, datetime]:
    """The closing moments [first, last] of the polls whose decryption is overdue at `now` and still asked about
    (the bureau's home page): closed at most DECRYPT_WINDOW_DAYS ago, and at least DECRYPT_DAYS ago (the same
    boundary as decryption_overdue: closed exactly DECRYPT_DAYS ago is overdue)."""
    return now - timedelta(days=DECRYPT_WINDOW_DAYS), now - timedelta(days=DECRYPT_DAYS)


def committee_changed(trustee_user_ids: list[int], member_user_ids: list[int]) -> bool:
    """Whether a committee's term of trustees no longer matches its members (a by-election, a seat handed over):
    `trustee_user_ids` are the term's trustees after the bureau (trustee 1), in index order."""
    return list(trustee_user_ids) != list(member_user_ids)


# --- complaints in the ceremony (docs/sealed-ballots.md, "Complaints, decided by evidence") ---------------------

def state_after_drop(remaining: int) -> str:
    """After an upheld complaint drops its dealer, or a missed deadline drops the late: the ceremony restarts
    (dealing) with those left, k = n − 1 of them, or the term fails if fewer than MIN_TRUSTEES are left."""
    return DEALING if holds_a_key(remaining) else FAILED


def may_complain(state: str, confirmed: bool, dealer: int, dealers: set[int], me: int,
                 decided_against: set[int]) -> str | None:
    """Why a trustee may not complain against `dealer` now, or None if they may: at the checking step only,
    before they confirmed, against another trustee still dealing in this round, once per dealer and round.
    Answers "state", "confirmed", "dealer" or "decided" (the services word the refusal)."""
    if state != CHECKING:
        return "state"
    if confirmed:
        return "confirmed"
    if isinstance(dealer, bool) or dealer not in dealers or dealer == me:
        return "dealer"
    if dealer in decided_against:
        return "decided"
    return None


# --- deadlines of the ceremony's steps (docs/sealed-ballots.md, "Deadlines") ----------------------------------

# Why a trustee was dropped from a ceremony.
COMPLAINT, DEADLINE = "complaint", "deadline"
# The steps that have a deadline: what each trustee must have done before the term moves on.
STEPS = (DEALING, SHARING, CHECKING)


def step_deadline(step_started: datetime) -> datetime:
    """The moment a step begun at `step_started` ends: STEP_DAYS later. Its last second is in time; the moment
    itself is not."""
    return step_started + timedelta(days=STEP_DAYS)


def has_done_step(state: str, trustee) -> bool:
    """Whether `trustee` (with `dealt_at`, `shared_at`, `confirmed_at`) has done the step `state` asks of them."""
    done = {DEALING: trustee.dealt_at, SHARING: trustee.shared_at, CHECKING: trustee.confirmed_at}
    return state not in done or done[state] is not None


def late(state: str, deadline: datetime | None, trustees: list, now: datetime) -> list:
    """The trustees to drop now: at a step with a deadline that has come (now ≥ deadline), those of `trustees`
    (still in the ceremony) who have not done the step. Empty before the deadline or outside the steps."""
    if state not in STEPS or deadline is None or now < deadline:
        return []
    return [t for t in trustees if not has_done_step(state, t)]
