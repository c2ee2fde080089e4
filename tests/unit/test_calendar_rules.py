"""The day rule: Nth or last weekday of a month, local time to UTC, blackouts."""
from datetime import date, datetime

import pytest

from salon.rules import calendar_rules as cr

RULE = cr.DayRule()


@pytest.mark.parametrize("year, month, expected", [
    (2023, 4, date(2023, 4, 27)), (2023, 5, date(2023, 5, 25)), (2023, 7, date(2023, 7, 27)),
    (2026, 12, date(2026, 12, 31)),  # the last day of the month is a Thursday
    (2027, 2, date(2027, 2, 25)),
])
def test_last_thursday(year, month, expected):
    assert cr.session_day(year, month, 3, -1) == expected


@pytest.mark.parametrize("week, expected", [(1, date(2026, 10, 1)), (2, date(2026, 10, 8)), (4, date(2026, 10, 22))])
def test_nth_thursday_including_the_first_of_the_month(week, expected):
    assert cr.session_day(2026, 10, 3, week) == expected


def test_local_afternoon_is_morning_utc_in_shanghai():
    assert cr.session_start(2023, 4, RULE) == datetime(2023, 4, 27, 6, 30)
    assert cr.local_month(datetime(2026, 12, 31, 17, 0), "Asia/Shanghai") == (2027, 1)


def test_months_wrap_over_the_year():
    assert cr.months_from(2026, 11, 3) == [(2026, 11), (2026, 12), (2027, 1)]
    assert cr.add_months(2026, 1, -1) == (2025, 12)


def test_planned_months_skip_blackouts_and_a_date_already_passed():
    now = datetime(2026, 11, 26, 7, 0)  # half an hour into November's session
    found = cr.planned_months(now, 4, RULE, {"2027-02"})
    assert [(y, m) for y, m, _ in found] == [(2026, 12), (2027, 1)]
    found = cr.planned_months(datetime(2026, 11, 26, 6, 29), 1, RULE, set())
    assert found == [(2026, 11, datetime(2026, 11, 26, 6, 30))]


@pytest.mark.parametrize("text", ["2027-2", "2027-13", "27-02", "", "2027-02-01", "abcd-ef"])
def test_bad_months_are_refused(text):
    with pytest.raises(ValueError):
        cr.parse_month(text)


def test_a_session_starting_this_very_minute_is_no_longer_planned():
    starts = datetime(2026, 11, 26, 6, 30)  # November's session, 14:30 in Shanghai
    assert cr.planned_months(starts, 1, RULE, set()) == []


@pytest.mark.parametrize("now, expected", [
    # 00:30 on 1 December in Shanghai is still 30 November in UTC: the months count from Shanghai's December.
    (datetime(2026, 11, 30, 16, 30), [(2026, 12), (2027, 1), (2027, 2)]),
    # New Year's night in Shanghai, still New Year's Eve in UTC: from January 2028.
    (datetime(2027, 12, 31, 16, 30), [(2028, 1), (2028, 2), (2028, 3)]),
    # 29 February 2028 (a leap day, after February's last Thursday, the 24th): March onwards.
    (datetime(2028, 2, 29, 2, 0), [(2028, 3), (2028, 4)]),
])
def test_planned_months_count_from_the_month_in_the_programmes_zone(now, expected):
    assert [(y, m) for y, m, _ in cr.planned_months(now, 3, RULE, set())] == expected
