"""The trustees' rules (salon.rules.trustees, SPEC §5.1) at their boundaries, on plain terms and fixed times."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from salon.rules import trustees as rules

DRAWN_AT = datetime(2026, 8, 31, 9, 30)
TICK = timedelta(microseconds=1)


@dataclass
class Term:
    kind: str = rules.DRAWN
    state: str = rules.READY
    retired_at: datetime | None = None
    ends_at: datetime | None = None
    committee_term_id: int | None = None


def drawn(**kw) -> Term:
    return Term(kind=rules.DRAWN, ends_at=rules.drawn_term_end(DRAWN_AT), **kw)


def of_committee(committee_term_id=7, **kw) -> Term:
    return Term(kind=rules.COMMITTEE, committee_term_id=committee_term_id, **kw)


# --- how many hold a key, how many decrypt ----------------------------------------------------------------------

@pytest.mark.parametrize("n,k", [(3, 2), (4, 3), (16, 15)])
def test_k_is_n_minus_one(n, k):
    assert rules.holds_a_key(n) and rules.threshold(n) == k


@pytest.mark.parametrize("n", [2, 1, 0])
def test_fewer_than_three_trustees_are_refused(n):
    assert not rules.holds_a_key(n)
    with pytest.raises(rules.TooFewTrustees):
        rules.threshold(n)


def test_a_draw_needs_two_secretaries_besides_the_bureau():
    assert rules.may_draw(2) and not rules.may_draw(1)


def test_a_committee_term_changes_with_its_members_in_their_order():
    assert not rules.committee_changed([5, 6, 7], [5, 6, 7])
    assert rules.committee_changed([5, 6, 7], [5, 6, 8])  # a seat handed over
    assert rules.committee_changed([5, 6, 7], [5, 6])  # a member gone
    assert rules.committee_changed([5, 6, 7], [6, 5, 7])


# --- a drawn term's half year -------------------------------------------------------------------------------------

def test_a_drawn_term_serves_half_a_year_its_last_moment_included_its_end_excluded():
    term = drawn()
    assert term.ends_at == datetime(2027, 2, 28, 9, 30)  # 31 August + 6 months: the month's last day
    assert rules.serves_new_polls(term, DRAWN_AT)
    assert rules.serves_new_polls(term, term.ends_at - TICK)
    assert not rules.serves_new_polls(term, term.ends_at)


@pytest.mark.parametrize("change", [{"state": rules.CHECKING}, {"state": rules.ANNOUNCED},
                                    {"retired_at": DRAWN_AT}])
def test_a_key_not_ready_or_retired_serves_no_new_poll(change):
    assert not rules.serves_new_polls(drawn(**change), DRAWN_AT)
    assert not rules.serves_new_polls(of_committee(**change), DRAWN_AT, sitting_term_id=7)


def test_a_committees_key_serves_while_that_committee_sits_only():
    term = of_committee(7)
    assert rules.serves_new_polls(term, DRAWN_AT, sitting_term_id=7)
    assert not rules.serves_new_polls(term, DRAWN_AT, sitting_term_id=8)  # another committee sits
    assert not rules.serves_new_polls(term, DRAWN_AT, sitting_term_id=None)  # none sits
    assert not rules.serves_new_polls(None, DRAWN_AT, 7)


# --- which key a new poll takes -----------------------------------------------------------------------------------

def test_a_topic_poll_takes_the_sitting_committees_key_reviews_and_elections_the_drawn_one():
    mine, lot = of_committee(7), drawn()
    assert rules.key_term_for(rules.TOPIC, DRAWN_AT, mine, lot, 7) is mine
    for kind in ("review", "election"):
        assert rules.key_term_for(kind, DRAWN_AT, mine, lot, 7) is lot


def test_a_topic_poll_falls_back_to_the_drawn_key_then_to_none():
    lot = drawn()
    assert rules.key_term_for(rules.TOPIC, DRAWN_AT, of_committee(7, state=rules.DEALING), lot, 7) is lot
    assert rules.key_term_for(rules.TOPIC, DRAWN_AT, of_committee(7), lot, 8) is lot  # not the sitting one
    assert rules.key_term_for(rules.TOPIC, DRAWN_AT, None, lot, None) is lot
    assert rules.key_term_for(rules.TOPIC, DRAWN_AT, None, None, None) is None  # not sealed


def test_at_the_drawn_terms_end_a_review_finds_no_key():
    lot = drawn()
    assert rules.key_term_for("review", lot.ends_at - TICK, None, lot, None) is lot
    assert rules.key_term_for("review", lot.ends_at, None, lot, None) is None


# --- announcing the next drawn term -------------------------------------------------------------------------------

def test_the_next_draw_may_be_announced_from_thirty_days_before_the_end():
    lot = drawn()
    opens = lot.ends_at - timedelta(days=rules.ANNOUNCE_BEFORE_END_DAYS)
    assert rules.announce_due(lot, opens)
    assert not rules.announce_due(lot, opens - TICK)


def test_a_first_draw_is_due_and_none_while_one_is_under_way():
    assert rules.announce_due(None, DRAWN_AT)
    for state in (rules.ANNOUNCED, rules.DEALING, rules.SHARING, rules.CHECKING):
        assert not rules.announce_due(drawn(state=state), DRAWN_AT + timedelta(days=365))


# --- how long a retired key is asked about ------------------------------------------------------------------------

def test_a_retired_key_awaits_decryption_for_120_days_then_is_no_longer_asked_about():
    retired = drawn(retired_at=DRAWN_AT)
    assert rules.may_await_decryption(drawn(), DRAWN_AT + timedelta(days=3650))  # not retired: always
    assert rules.may_await_decryption(retired, DRAWN_AT + timedelta(days=120))
    assert not rules.may_await_decryption(retired, DRAWN_AT + timedelta(days=120) + TICK)
    assert not rules.may_await_decryption(drawn(state=rules.CHECKING), DRAWN_AT)


# --- complaints in the ceremony ---------------------------------------------------------------------------------

def test_a_dropped_dealer_restarts_the_ceremony_while_three_are_left_and_fails_it_below():
    assert rules.state_after_drop(3) == rules.DEALING and rules.threshold(3) == 2
    assert rules.state_after_drop(2) == rules.FAILED


def test_a_failed_drawn_term_makes_a_new_draw_due_at_once():
    assert rules.announce_due(drawn(state=rules.FAILED), DRAWN_AT)
    assert not rules.serves_new_polls(drawn(state=rules.FAILED), DRAWN_AT)


@pytest.mark.parametrize("state,confirmed,dealer,decided,why", [
    (rules.CHECKING, False, 2, set(), None),
    (rules.SHARING, False, 2, set(), "state"),
    (rules.READY, False, 2, set(), "state"),
    (rules.CHECKING, True, 2, set(), "confirmed"),
    (rules.CHECKING, False, 3, set(), "dealer"),  # oneself
    (rules.CHECKING, False, 5, set(), "dealer"),  # dropped, or never a trustee
    (rules.CHECKING, False, True, set(), "dealer"),  # not an index (True == 1 in Python)
    (rules.CHECKING, False, 2, {2}, "decided"),  # once per dealer and round
    (rules.CHECKING, False, 4, {2}, None),  # another dealer still may be
])
def test_who_may_complain_against_whom(state, confirmed, dealer, decided, why):
    assert rules.may_complain(state, confirmed, dealer, {1, 2, 3, 4}, 3, decided) == why


# --- deadlines of the ceremony's steps ----------------------------------------------------------------------------

@dataclass
class Place:
    index: int
    dealt_at: datetime | None = None
    shared_at: datetime | None = None
    confirmed_at: datetime | None = None


def test_a_step_ends_step_days_after_it_began():
    began = datetime(2026, 12, 7, 9, 30)
    assert rules.step_deadline(began) == began + timedelta(days=rules.STEP_DAYS) == datetime(2026, 12, 10, 9, 30)


@pytest.mark.parametrize("state, done", [(rules.DEALING, "dealt_at"), (rules.SHARING, "shared_at"),
                                         (rules.CHECKING, "confirmed_at")])
def test_at_the_deadline_those_who_have_not_done_the_step_are_late_not_a_second_before(state, done):
    deadline = datetime(2026, 12, 10, 9, 30)
    kept, late = Place(1, **{done: deadline - timedelta(seconds=1)}), Place(2)
    assert rules.late(state, deadline, [kept, late], deadline - timedelta(seconds=1)) == []
    assert rules.late(state, deadline, [kept, late], deadline) == [late]
    assert rules.late(state, deadline, [kept, late], deadline + timedelta(days=30)) == [late]


@pytest.mark.parametrize("state", [rules.ANNOUNCED, rules.READY, rules.FAILED])
def test_outside_the_steps_nobody_is_late(state):
    deadline = datetime(2026, 12, 10)
    assert rules.late(state, deadline, [Place(1)], deadline + timedelta(days=1)) == []
    assert rules.late(rules.DEALING, None, [Place(1)], deadline) == []  # no deadline set


def test_a_drop_leaving_three_restarts_leaving_two_fails():
    assert rules.state_after_drop(3) == rules.DEALING and rules.state_after_drop(2) == rules.FAILED


# --- the decryption deadline (docs/sealed-ballots.md, "When the trustees do not decrypt in time") ----------------

CLOSED = datetime(2026, 11, 20, 4, 0)
SECOND = timedelta(seconds=1)


def test_the_decryption_deadline_is_decrypt_days_after_the_close_its_moment_overdue():
    deadline = rules.decryption_deadline(CLOSED)
    assert rules.DECRYPT_DAYS == 2 and deadline == CLOSED + timedelta(days=2)
    assert not rules.decryption_overdue(CLOSED, None, deadline - SECOND)
    assert rules.decryption_overdue(CLOSED, None, deadline)


def test_a_counted_or_open_poll_is_never_overdue():
    deadline = rules.decryption_deadline(CLOSED)
    assert not rules.decryption_overdue(CLOSED, deadline + SECOND, deadline + timedelta(days=30))
    assert not rules.decryption_overdue(None, None, deadline + timedelta(days=30))


def test_the_overdue_window_has_the_same_boundary_as_the_rule():
    deadline = rules.decryption_deadline(CLOSED)
    first, last = rules.overdue_window(deadline)
    assert last == CLOSED  # closed exactly DECRYPT_DAYS ago: overdue, in the window
    first, last = rules.overdue_window(deadline - SECOND)
    assert last < CLOSED  # one second before: not yet
    assert first == deadline - SECOND - timedelta(days=rules.DECRYPT_WINDOW_DAYS)
