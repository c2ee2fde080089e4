"""The topic and ballot rules without a database: windows at their edges, who decides, majority, rationale."""
from datetime import datetime, timedelta

import pytest

from salon.rules import ballots as br
from salon.rules import topics as rules

START = datetime(2026, 5, 28, 6, 30)  # 14:30 Asia/Shanghai
PREV_END = datetime(2026, 4, 30, 8, 30)


def frame():
    return rules.topic_windows(START, PREV_END, "Asia/Shanghai", 14, 14, 7)


def test_default_windows():
    f = frame()
    assert f.nominate_opens == PREV_END
    assert f.nominate_closes == START - timedelta(days=14)
    assert f.vote_opens == START - timedelta(days=14)
    assert f.vote_closes == START - timedelta(days=7)


def test_nomination_window_first_and_last_minute():
    f = frame()
    assert not f.nominating(PREV_END - timedelta(minutes=1))
    assert f.nominating(PREV_END)
    assert f.nominating(f.nominate_closes - timedelta(minutes=1))
    assert not f.nominating(f.nominate_closes)


def test_vote_window_first_and_last_minute():
    f = frame()
    assert not f.voting(f.vote_opens - timedelta(minutes=1))
    assert f.voting(f.vote_opens)
    assert f.voting(f.vote_closes - timedelta(minutes=1))
    assert not f.voting(f.vote_closes)


def test_edit_until_voting_opens():
    f = frame()
    assert f.editable(f.vote_opens - timedelta(minutes=1))
    assert not f.editable(f.vote_opens)


def test_first_session_nominations_open_from_the_start_and_never_past_voting():
    f = rules.topic_windows(START, None, "Asia/Shanghai", 3, 14, 7)
    assert f.nominating(datetime(2000, 1, 1))
    assert f.nominate_closes == f.vote_opens


def test_days_before_keeps_wall_clock_across_dst():
    start = datetime(2026, 3, 10, 14, 0)  # 10:00 in New York, after the DST change of 8 March
    earlier = rules.days_before(start, 14, "America/New_York")
    assert earlier == datetime(2026, 2, 24, 15, 0)  # still 10:00 local


@pytest.mark.parametrize("number,sitting,expected", [
    (3, False, rules.BUREAU), (3, True, rules.BUREAU),
    (4, False, rules.BUREAU), (4, True, rules.COMMITTEE),
])
def test_who_decides_session_n_and_n_plus_1(number, sitting, expected):
    assert rules.decider(number, 3, 3 if sitting else None, False, None, 3, datetime(2026, 12, 10)).who == expected


def test_majority_of_those_sitting_on_the_day():
    """SPEC §4.1: more than half of the members sitting: 3 sitting need 2, 2 need 2; 1 sitting cannot decide."""
    assert rules.majority(3) == 2 and rules.majority(2) == 2 and rules.majority(4) == 3
    assert rules.committee_pick([("甲", 1), ("乙", 1)], 3) == 1
    assert rules.committee_pick([("甲", 1)], 2) is None
    assert rules.committee_pick([("甲", 1), ("乙", 1)], 2) == 1
    assert rules.committee_pick([("甲", 1)], 1) is None  # one member alone never decides: the bureau does


NOW = datetime(2026, 12, 10, 8)
CLOSED = datetime(2026, 12, 7, 8)


@pytest.mark.parametrize("number, sitting, recalled, closed, now, expected", [
    (3, 3, False, CLOSED, NOW - timedelta(days=1), ("bureau", "bureau_sessions")),
    (4, None, False, CLOSED, NOW - timedelta(days=1), ("bureau", "no_committee")),
    (4, None, True, CLOSED, NOW - timedelta(days=1), ("bureau", "recall")),
    (4, 1, False, CLOSED, NOW - timedelta(days=1), ("bureau", "vacancy")),
    (4, 2, False, CLOSED, NOW - timedelta(microseconds=1), ("committee", "majority")),  # last moment of 3 days
    (4, 2, False, CLOSED, NOW, ("bureau", "deadline")),  # 3 days after the vote closed
    (4, 3, False, None, NOW + timedelta(days=30), ("committee", "majority")),  # vote not closed: no deadline yet
])
def test_who_decides_with_vacancies_and_the_deadline(number, sitting, recalled, closed, now, expected):
    who = rules.decider(number, 3, sitting, recalled, closed, 3, now)
    assert (who.who, who.reason) == expected


def test_committee_majority_first_nomination_to_reach_it():
    assert rules.committee_pick([("甲", 1)], 3) is None
    assert rules.committee_pick([("甲", 1), ("乙", 2)], 3) is None
    assert rules.committee_pick([("甲", 1), ("乙", 2), ("丙", 2)], 3) == 2
    assert rules.committee_pick([("甲", 1), ("乙", 1), ("丙", 2)], 3) == 1
    assert rules.committee_pick([("甲", 1), ("甲", 2), ("乙", 1)], 3) is None  # a changed pick counts once


def test_rationale_required_when_not_most_approved_or_no_tally():
    counts = {1: 5, 2: 3, 3: 5}
    assert not rules.rationale_required(1, counts)
    assert not rules.rationale_required(3, counts)  # tied for most
    assert rules.rationale_required(2, counts)
    assert rules.rationale_required(1, None)
    assert rules.most_approved({1: 0, 2: 0}) == set()


def shape(k=3):
    return [br.QuestionShape(1, br.APPROVAL, k, frozenset({10, 11, 12, 13}))]


def test_ballot_k_and_k_plus_one():
    assert br.sort_ballot(shape(), [10, 11, 12]) == {1: [10, 11, 12]}
    with pytest.raises(br.BallotRejected) as exc:
        br.sort_ballot(shape(), [10, 11, 12, 13])
    assert exc.value.reason == "too_many" and exc.value.limit == 3


def test_ballot_blank_duplicate_unknown():
    assert br.sort_ballot(shape(), []) == {1: []}
    for bad, reason in (([10, 10], "duplicate"), ([99], "unknown_option")):
        with pytest.raises(br.BallotRejected) as exc:
            br.sort_ballot(shape(), bad)
        assert exc.value.reason == reason


def test_single_choice_and_publication_threshold():
    single = [br.QuestionShape(1, br.SINGLE, 1, frozenset({1, 2})), br.QuestionShape(2, br.SINGLE, 1, frozenset({3}))]
    assert br.sort_ballot(single, [2]) == {1: [2], 2: []}
    with pytest.raises(br.BallotRejected):
        br.sort_ballot(single, [1, 2])
    assert not br.counts_published(2, 3) and br.counts_published(3, 3)
    assert br.window_open(START, START + timedelta(hours=1), START)
    assert not br.window_open(START, START + timedelta(hours=1), START + timedelta(hours=1))


# --- when the committee's days start: the count, or the trustees' decryption deadline ----------------------------

def test_the_committees_days_start_at_the_count_or_at_the_decryption_deadline_whichever_first():
    from salon.rules import trustees

    closed = datetime(2026, 11, 20, 4, 0)
    overdue = trustees.decryption_deadline(closed)
    second = timedelta(seconds=1)
    assert rules.deciding_starts(None, None, overdue) is None  # still open
    assert rules.deciding_starts(closed, closed, closed) == closed  # counted at its close
    assert rules.deciding_starts(closed, None, overdue - second) is None  # awaited, in time: no deadline
    assert rules.deciding_starts(closed, None, overdue) == overdue  # overdue: the days run from the deadline
    counted = closed + timedelta(days=2)
    assert rules.deciding_starts(closed, counted, overdue + second) == counted
    # A count that comes after the decryption deadline no longer moves the committee's deadline.
    assert rules.deciding_starts(closed, overdue + timedelta(days=1), overdue + timedelta(days=1)) == overdue
