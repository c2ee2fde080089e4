"""SPEC §6: an action item is overdue once its due date has passed in the programme's time zone."""
from datetime import date, datetime

import pytest

from salon.rules import outcomes as rules


@pytest.mark.parametrize("due, status, overdue", [
    (date(2026, 11, 23), rules.OPEN, False),         # due today: not yet
    (date(2026, 11, 22), rules.OPEN, True),          # due yesterday: overdue
    (date(2026, 11, 22), rules.IN_PROGRESS, True),
    (date(2026, 11, 22), rules.DONE, False),         # finished items are never overdue
    (date(2026, 11, 22), rules.DROPPED, False),
    (date(2026, 11, 24), rules.OPEN, False),
    (None, rules.OPEN, False),                       # no due date, never overdue
])
def test_overdue_at_the_boundary(due, status, overdue):
    assert rules.is_overdue(due, status, date(2026, 11, 23)) is overdue


def test_today_is_the_programmes_local_day():
    # 16:00 UTC on the 22nd is already midnight of the 23rd in Shanghai (UTC+8), still the 22nd in London.
    assert rules.local_today(datetime(2026, 11, 22, 15, 59), "Asia/Shanghai") == date(2026, 11, 22)
    assert rules.local_today(datetime(2026, 11, 22, 16, 0), "Asia/Shanghai") == date(2026, 11, 23)
    assert rules.local_today(datetime(2026, 11, 22, 23, 59), "Europe/London") == date(2026, 11, 22)


def test_an_item_due_yesterday_becomes_overdue_at_local_midnight():
    due = date(2026, 11, 22)
    before = rules.local_today(datetime(2026, 11, 22, 15, 59, 59), "Asia/Shanghai")
    after = rules.local_today(datetime(2026, 11, 22, 16, 0, 0), "Asia/Shanghai")
    assert not rules.is_overdue(due, rules.OPEN, before)
    assert rules.is_overdue(due, rules.OPEN, after)
