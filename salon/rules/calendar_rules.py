"""The day rule of SPEC §2: which day of a month a session falls on, and blacked-out months.

Sessions are monthly: the Nth (1..4) or last (-1) given weekday of the month, at HH:MM in the
programme's time zone. Results are naive UTC, the form every timestamp column holds."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class DayRule:
    weekday: int = 3  # Monday=0
    week: int = -1  # 1..4, or -1 for the last
    hour: int = 14
    minute: int = 30
    timezone: str = "Asia/Shanghai"


def month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def parse_month(text: str) -> tuple[int, int]:
    """'2027-02' → (2027, 2); ValueError for anything else."""
    found = MONTH_RE.match((text or "").strip())
    if not found:
        raise ValueError(text)
    return int(found.group(1)), int(found.group(2))


def add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def months_from(year: int, month: int, count: int) -> list[tuple[int, int]]:
    return [add_months(year, month, i) for i in range(count)]


def session_day(year: int, month: int, weekday: int, week: int) -> date:
    if week == -1:
        last = calendar.monthrange(year, month)[1]
        day = date(year, month, last)
        return date.fromordinal(day.toordinal() - (day.weekday() - weekday) % 7)
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return date(year, month, 1 + offset + 7 * (week - 1))


def to_utc(local_day: date, hour: int, minute: int, zone: str) -> datetime:
    local = datetime.combine(local_day, time(hour, minute), tzinfo=ZoneInfo(zone))
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def to_local(utc_naive: datetime, zone: str) -> datetime:
    return utc_naive.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone))


def session_start(year: int, month: int, rule: DayRule) -> datetime:
    """When the month's session starts, in naive UTC."""
    return to_utc(session_day(year, month, rule.weekday, rule.week), rule.hour, rule.minute, rule.timezone)


def local_month(utc_naive: datetime, zone: str) -> tuple[int, int]:
    local = to_local(utc_naive, zone)
    return local.year, local.month


def planned_months(now: datetime, count: int, rule: DayRule, blackout: set[str]) -> list[tuple[int, int, datetime]]:
    """The months of the next `count` months (this one first) that get a session, with its start.

    A month whose session time has already passed, or that is blacked out, gets none."""
    year, month = local_month(now, rule.timezone)
    found = []
    for y, m in months_from(year, month, count):
        if month_key(y, m) in blackout:
            continue
        start = session_start(y, m, rule)
        if start > now:
            found.append((y, m, start))
    return found
