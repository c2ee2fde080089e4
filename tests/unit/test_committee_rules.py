"""The committee's rules over tables (SPEC §4): the re-election rule, quorum, the election tally, the lot."""
from datetime import datetime, timedelta

import pytest

from salon.rules import committee as rules


@pytest.mark.parametrize("present, oppose, threshold, triggered", [
    (19, 12, 60, True),    # 12/19 = 63.2% > 60%
    (19, 11, 60, False),   # 57.9%
    (10, 6, 60, False),    # exactly 60% does not trigger
    (10, 7, 60, True),
    (5, 3, 60, False),     # 60% again
    (5, 4, 60, True),
    (7, 5, 60, True),      # 71.4%
    (7, 4, 60, False),     # 57.1%
    (1, 1, 60, True),
    (1, 0, 60, False),
    (0, 0, 60, False),     # nobody present triggers nothing
    (3, 2, 66, True),      # 66.7% > 66%
    (50, 33, 66, False),   # exactly 66%
    (50, 34, 66, True),
])
def test_reelection_rule(present, oppose, threshold, triggered):
    assert rules.reelection_triggered(oppose, present, threshold) is triggered


def test_silent_blank_and_abstain_count_only_in_the_denominator():
    # 19 present: 12 oppose, 3 support, 2 abstain, 1 blank, 1 did not vote → the denominator is still 19
    assert rules.reelection_triggered(12, 19, 60)
    # Were the silent left out (16 voting), 10 opposing would trigger (62.5%); with them (19) it does not.
    assert rules.reelection_triggered(10, 16, 60)
    assert not rules.reelection_triggered(10, 19, 60)


@pytest.mark.parametrize("present, active, met", [
    (10, 19, True),   # just met: 10 > 9.5
    (9, 19, False),   # just not
    (10, 20, False),  # exactly half is not more than half
    (11, 20, True),
    (0, 0, False),
    (1, 1, True),
])
def test_quorum(present, active, met):
    assert rules.quorum_met(present, active) is met


def test_review_outcome_void_without_quorum_even_when_all_oppose():
    assert rules.review_outcome(9, 9, 60, 19) == rules.VOID
    assert rules.review_outcome(9, 9, 60, 19, quorum_required=False) == rules.TRIGGERED
    assert rules.review_outcome(12, 19, 60, 19) == rules.TRIGGERED
    assert rules.review_outcome(11, 19, 60, 19) == rules.STANDS


@pytest.mark.parametrize("part, whole, text", [(12, 19, "63.2%"), (11, 19, "57.9%"), (6, 10, "60.0%"),
                                               (2, 3, "66.7%"), (0, 0, "0.0%"), (1, 1, "100.0%")])
def test_percent_text_in_integers(part, whole, text):
    assert rules.percent_text(part, whole) == text


def test_review_due_every_period_of_service():
    start = datetime(2023, 8, 31, 8, 0)
    assert rules.review_due_at(start, 0, 6) == datetime(2024, 2, 29, 8, 0)
    assert rules.review_due_at(start, 1, 6) == datetime(2024, 8, 31, 8, 0)
    assert not rules.review_due(start, 0, 6, datetime(2024, 2, 29, 7, 59))
    assert rules.review_due(start, 0, 6, datetime(2024, 2, 29, 8, 0))


def test_clean_win():
    tally = rules.election_tally({1: 9, 2: 7, 3: 5, 4: 2}, 3)
    assert tally.settled and tally.winners == (1, 2, 3)


def test_tie_for_the_last_seat_goes_to_a_runoff_among_the_tied():
    tally = rules.election_tally({1: 9, 2: 5, 3: 5, 4: 5, 5: 1}, 3)
    assert tally.winners == (1,) and tally.tied == (2, 3, 4) and tally.remaining == 2
    runoff = rules.election_tally({2: 6, 3: 4, 4: 6}, tally.remaining)
    assert runoff.settled and set(runoff.winners) == {2, 4}


def test_tie_inside_the_seats_is_no_tie():
    tally = rules.election_tally({1: 5, 2: 5, 3: 5, 4: 1}, 3)
    assert tally.settled and set(tally.winners) == {1, 2, 3}


def test_fewer_candidates_than_seats_all_win():
    assert rules.election_tally({7: 0, 8: 3}, 3).winners == (8, 7)


# Fixed vectors of the SHA-256 lot (SPEC §4.1). The digests were computed once on the command line, e.g.
#   printf '%s' $'election 7\n2026-12-06T10:00:00Z\n2345-ABCD-EFGH\n7XYZ-QRST-2233' | sha256sum
#   printf '%s' '9239f7c1…5b59:西苑社区' | sha256sum
# and are written here as literals: the test checks the code against them, not against itself.
SEED = "9239f7c19315de8fa6773b2dbec111289d17ff74fad46d2aba6a935b6ddb5b59"
DIGESTS = {
    "西苑社区": "b33d62ed1e4307453094b56a36b3ea040dcaeaddeb7b3cb032687db7ec8a5d6d",
    "东关社区": "fb2b1b52293117a9df10edc484581a848dc3406b196097dbbd415575e19d8fa0",
    "城关社区": "95ee15c85a38022da4aa1a4548fe2dc3f6da520233bb9104667c84b89d3371f3",
    "A": "209fc399f335876ed14bb0c110ae66dc0fa49f216ee608c66c8ffa94f41a7dff",
}


def test_lot_seed_fixed_vector():
    closed = datetime(2026, 12, 6, 10, 0, 0, 123456)  # to the second: what the page prints
    assert rules.lot_seed(["7XYZ-QRST-2233", "2345-ABCD-EFGH"], 7, closed) == SEED
    # A runoff nobody voted in still gets a seed of its own, not a fixed known one.
    empty = rules.lot_seed([], 9, datetime(2027, 1, 2, 3, 4, 5))
    assert empty == "a28c3bae4bd30c41c1b098c8d87a5179509874ced4d778ff7e81649b7faae57e"
    assert empty != rules.lot_seed([], 10, datetime(2027, 1, 2, 3, 4, 5))


def test_lot_digests_and_order_fixed_vectors():
    for public_id, digest in DIGESTS.items():
        assert rules.lot_digest(SEED, public_id) == digest
    entries = [(3, "西苑社区"), (5, "东关社区"), (9, "城关社区"), (11, "A")]
    order = rules.lot_order(entries, SEED)
    assert [candidate for candidate, _p, _d in order] == [11, 9, 3, 5]  # 209f… < 95ee… < b33d… < fb2b…
    assert rules.draw_lots(entries, 2, SEED) == (11, 9)
    assert rules.draw_lots(list(reversed(entries)), 1, SEED) == (11,)  # the order given does not matter


def test_second_fixed_vector_with_no_receipts():
    seed = "a28c3bae4bd30c41c1b098c8d87a5179509874ced4d778ff7e81649b7faae57e"
    assert rules.lot_digest(seed, "北街社区") == "5a9fe30f24e998b6d0b31017da0d8325dd92abb0315ba64ce37d717d168be0f4"
    assert rules.lot_digest(seed, "南街社区") == "1529079aea112f3f35f085ba90ef36beb07f2032ba395a3799082463c03d2a6e"
    assert rules.draw_lots([(1, "北街社区"), (2, "南街社区")], 1, seed) == (2,)


def test_succession_most_approved_then_runoff_then_the_same_lot():
    standing = [rules.Standing(3, "西苑社区", 4), rules.Standing(5, "东关社区", 6), rules.Standing(9, "城关社区", 4),
                rules.Standing(11, "A", 4, runoff_approvals=1)]
    # 东关 most approved; among the 4s, A won more runoff approvals; then 城关 (95ee…) before 西苑 (b33d…).
    assert rules.succession(standing, SEED) == [5, 11, 9, 3]


# A lot drawn before the SHA-256 lot (before migration 0009_committee_life): its page published a Python procedure,
# random.Random(int(seed, 16)).shuffle(sorted(tied seat ids)). Vector computed once with that procedure.
OLD_SEED = "fbb4144c32783af457860b120f52f0ea1151c23878b0c0bee6f475a1f2216a14"


def test_an_old_lot_reads_back_in_the_order_its_page_published():
    assert rules.legacy_lot_order([3, 5, 9, 11], OLD_SEED) == [9, 3, 5, 11]
    assert rules.legacy_lot_order([11, 9, 5, 3], OLD_SEED) == [9, 3, 5, 11]  # the tied ids sorted first
    assert rules.legacy_lot_order([3, 5, 9], OLD_SEED) == [3, 9, 5]


def test_succession_from_an_old_lot_follows_its_published_order_not_the_digests():
    standing = [rules.Standing(3, "西苑社区", 4), rules.Standing(5, "东关社区", 4), rules.Standing(9, "A", 4),
                rules.Standing(11, "城关社区", 4), rules.Standing(20, "北街社区", 6), rules.Standing(21, "南街社区", 2)]
    # The SHA-256 digests of the old seed would rank the tied 11, 3, 5, 9; the draw published 9, 3, 5, 11.
    assert rules.succession(standing, OLD_SEED) == [20, 11, 3, 5, 9, 21]
    drawn = rules.legacy_lot_order([3, 5, 9, 11], OLD_SEED)
    assert rules.succession(standing, OLD_SEED, drawn) == [20, 9, 3, 5, 11, 21]


def test_fixed_term_and_the_prompt_a_month_before():
    start = datetime(2026, 1, 31, 8)
    assert rules.fixed_term_end(start, 0) is None
    end = rules.fixed_term_end(start, 12)
    assert end == datetime(2027, 1, 31, 8)
    assert not rules.next_election_prompted(end, datetime(2026, 12, 31, 7, 59))
    assert rules.next_election_prompted(end, datetime(2026, 12, 31, 8))
    assert not rules.next_election_prompted(None, datetime(2030, 1, 1))


def test_too_few_candidates_is_an_alarm_only_in_the_last_two_days_of_standing():
    until = datetime(2026, 3, 10, 8, 0)
    assert not rules.fewer_candidates_alarm(1, 3, until, until - timedelta(days=2, seconds=1))
    assert rules.fewer_candidates_alarm(1, 3, until, until - timedelta(days=2))
    assert rules.fewer_candidates_alarm(2, 3, until, until + timedelta(days=1))  # standing over, still too few
    assert not rules.fewer_candidates_alarm(3, 3, until, until)  # enough stand: no alarm


def test_a_review_window_opens_14_days_before_due_with_a_reason_before_that_one_per_period():
    start = datetime(2026, 1, 31, 8, 0)
    first = rules.review_window(start, 0, 6)
    assert (first.number, first.period_starts, first.due_at) == (1, start, datetime(2026, 7, 31, 8, 0))
    assert first.opening(first.due_at - timedelta(days=14)) == rules.OPEN
    assert first.opening(first.due_at - timedelta(days=14, seconds=1)) == rules.EARLY
    assert first.opening(start) == rules.EARLY
    second = rules.review_window(start, 1, 6)  # one review held, early or not: the next is due a period later
    assert (second.period_starts, second.due_at) == (datetime(2026, 7, 31, 8, 0), datetime(2027, 1, 31, 8, 0))
    assert second.opening(datetime(2026, 7, 31, 7, 59)) == rules.REFUSED
    assert second.opening(datetime(2026, 7, 31, 8, 0)) == rules.EARLY
