"""The rotating chair as pure rules, with examples a bureau would recognise."""
from salon.rules.rotation import Slot, assign, draw_lots, numbers, runs_with_double_duty

A, B, C, D, E = 1, 2, 3, 4, 5


def fill(order, fixed, free_count, **flags):
    slots = [Slot(("past", i), chair, True, flags.get("swapped", {}).get(i, False)) for i, chair in enumerate(fixed)]
    slots += [Slot(("new", i)) for i in range(free_count)]
    chairs = assign(order, slots)
    return [chairs[("new", i)] for i in range(free_count)]


def test_first_schedule_starts_at_the_top_of_the_order():
    assert fill([A, B, C], [], 5) == [A, B, C, A, B]


def test_continues_after_the_previous_chair():
    assert fill([A, B, C, D], [A, B, C], 3) == [D, A, B]


def test_leaving_community_is_skipped_and_its_successor_moves_up():
    assert fill([A, B, D], [A, B, C], 3) == [D, A, B]  # C chaired last, then left


def test_joining_community_goes_to_the_end_of_the_order():
    assert fill([A, B, C, D, E], [A, B, C, D, A, B], 5) == [C, D, E, A, B]


def test_swapped_pair_does_not_shift_the_rotation():
    slots = [Slot(0, A, True), Slot(1, D, True, True), Slot(2), Slot(3, B, True, True), Slot(4), Slot(5)]
    chairs = assign([A, B, C, D], slots)  # B and D exchanged their turns
    assert [chairs[2], chairs[4], chairs[5]] == [C, A, B]


def test_anchor_skips_past_swapped_sessions():
    slots = [Slot(0, A, True), Slot(1, C, True, True), Slot(2, B, True, True), Slot(3)]
    assert assign([A, B, C, D], slots) == {3: D}


def test_no_active_community_leaves_sessions_without_a_chair():
    assert assign([], [Slot(0), Slot(1)]) == {0: None, 1: None}


def test_draw_is_reproducible_from_the_seed():
    ids = [7, 3, 11, 5]
    assert draw_lots(ids, "abc") == draw_lots(list(reversed(ids)), "abc")
    assert sorted(draw_lots(ids, "abc")) == sorted(ids)
    import random
    expected = sorted(ids)
    random.Random("abc").shuffle(expected)
    assert draw_lots(ids, "abc") == expected


def test_numbering_skips_cancelled_sessions():
    assert numbers([False, True, False, False, True]) == [1, None, 2, 3, None]


def test_double_duty_detection():
    assert runs_with_double_duty([A, B, C, A, B], 3) == []
    assert runs_with_double_duty([A, B, A], 3) == [0]
