"""Rules for a session's topic (SPEC §3): the windows, who decides, the committee majority, the rationale."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from salon.rules.trustees import decryption_deadline

BUREAU = "bureau"
COMMITTEE = "committee"


@dataclass(frozen=True)
class TopicWindows:
    """Naive-UTC moments; each window includes its first moment and excludes its last."""
    nominate_opens: datetime | None  # None: open since the programme began (no previous session)
    nominate_closes: datetime
    vote_opens: datetime
    vote_closes: datetime

    def nominating(self, now: datetime) -> bool:
        return (self.nominate_opens is None or self.nominate_opens <= now) and now < self.nominate_closes

    def voting(self, now: datetime) -> bool:
        return self.vote_opens <= now < self.vote_closes

    def editable(self, now: datetime) -> bool:
        """A nominator edits or withdraws until voting opens (SPEC §3.1)."""
        return now < self.vote_opens


def days_before(starts_at: datetime, days: int, tz: str) -> datetime:
    """The same wall-clock time `days` calendar days earlier in the programme's zone, as naive UTC."""
    zone = ZoneInfo(tz)
    local = starts_at.replace(tzinfo=timezone.utc).astimezone(zone)
    earlier = (local.replace(tzinfo=None) - timedelta(days=days)).replace(tzinfo=zone)
    return earlier.astimezone(timezone.utc).replace(tzinfo=None)


def topic_windows(starts_at: datetime, previous_ends_at: datetime | None, tz: str, nomination_close_days: int,
                  vote_open_days: int, vote_close_days: int) -> TopicWindows:
    """SPEC §3.1-3.2: nominations open when the previous session is held (its end) and close
    `nomination_close_days` before the session, and never after voting opens; voting runs from
    `vote_open_days` to `vote_close_days` before the session."""
    vote_opens = days_before(starts_at, vote_open_days, tz)
    vote_closes = days_before(starts_at, vote_close_days, tz)
    nominate_closes = min(days_before(starts_at, nomination_close_days, tz), vote_opens)
    return TopicWindows(previous_ends_at, nominate_closes, vote_opens, vote_closes)


# Why a decision was made by whom (stored on the decision, SPEC §4.1).
MAJORITY = "majority"  # the committee's majority of picks
BUREAU_SESSIONS = "bureau_sessions"  # the programme's first sessions
NO_COMMITTEE = "no_committee"  # no committee has sat yet (or none sits, for no reason below)
RECALL = "recall"  # the last committee was recalled; the bureau decides until the next is elected
VACANCY = "vacancy"  # fewer than 2 members sit: the committee cannot decide
DEADLINE = "deadline"  # the committee did not reach a majority in time
MIN_SITTING = 2


@dataclass(frozen=True)
class Decider:
    who: str  # BUREAU or COMMITTEE
    reason: str
    deadline: datetime | None = None  # when the committee's time runs out (committee, vote counted)


def decider(session_number: int, bureau_sessions: int, sitting: int | None, recalled: bool,
            vote_counted_at: datetime | None, deadline_days: int, now: datetime) -> Decider:
    """SPEC §3.3, §4.1: the bureau decides the first `bureau_sessions` sessions; while no committee sits
    (`sitting` None; `recalled` when the last term was recalled); while fewer than 2 members sit; and once
    `deadline_days` have passed since the vote was counted without a committee majority. Otherwise the committee.

    The deadline runs from the count, not from the close (decision of 2026-12-07, docs/committee.md): the committee
    cannot decide a sealed vote before the trustees have decrypted it (SPEC §5.1), so its days start then. A vote
    counted at its close (a plain one; a sealed one with nothing to decrypt) starts at its close. While the vote
    is open or its count is awaited (`vote_counted_at` None) there is no deadline: the bureau does not take over
    because the trustees are slow."""
    if session_number <= bureau_sessions:
        return Decider(BUREAU, BUREAU_SESSIONS)
    if sitting is None:
        return Decider(BUREAU, RECALL if recalled else NO_COMMITTEE)
    if sitting < MIN_SITTING:
        return Decider(BUREAU, VACANCY)
    deadline = vote_counted_at + timedelta(days=deadline_days) if vote_counted_at is not None else None
    if deadline is not None and now >= deadline:
        return Decider(BUREAU, DEADLINE, deadline)
    return Decider(COMMITTEE, MAJORITY, deadline)


def deciding_starts(closed_at: datetime | None, counted_at: datetime | None, now: datetime) -> datetime | None:
    """When the committee's days to decide start (the `vote_counted_at` of decider): the count, or the trustees'
    decryption deadline (salon.rules.trustees) if that came first — past it the topic is decided without a tally,
    and a count published later no longer moves the deadline. None while the vote is open, or its count awaited
    before the decryption deadline."""
    if closed_at is None:
        return counted_at
    overdue_from = decryption_deadline(closed_at)
    if counted_at is not None:
        return min(counted_at, overdue_from)
    return overdue_from if now >= overdue_from else None


def majority(sitting: int) -> int:
    """SPEC §4.1: more than half of the members sitting on the day of the pick (3 → 2, 2 → 2, 4 → 3)."""
    return sitting // 2 + 1


def committee_pick(picks: list[tuple[str, int]], sitting: int) -> int | None:
    """The first nomination picked by a majority of the members sitting (2 of 3), in the order picks were
    recorded; each member's latest pick counts (the caller passes only sitting members' picks). None while no
    nomination has a majority, and always None with fewer than 2 sitting (the bureau decides)."""
    if sitting < MIN_SITTING:
        return None
    latest: dict[str, int] = {}
    need = majority(sitting)
    for member, nomination_id in picks:
        latest[member] = nomination_id
        support = sum(1 for chosen in latest.values() if chosen == nomination_id)
        if support >= need:
            return nomination_id
    return None


def most_approved(counts: dict[int, int]) -> set[int]:
    """The nominations with the highest count (several when tied; none when nobody approved any)."""
    top = max(counts.values(), default=0)
    return {key for key, n in counts.items() if n == top} if top > 0 else set()


def rationale_required(pick: int, counts: dict[int, int] | None) -> bool:
    """SPEC §3.3: a pick that is not the most approved needs a rationale. Without a published tally
    (no poll, or counts withheld below the minimum) the decider had no tally to follow, so the pick
    is always explained — and requiring it in every such case reveals nothing of the withheld counts."""
    if counts is None:
        return True
    return pick not in most_approved(counts)


NOT_MOST_APPROVED = "not_most_approved"
NO_TALLY = "no_tally"


def tally_note(followed_tally: bool, counts_published: bool) -> str:
    """What a decision says about the tally (SPEC §3.3): a pick against published counts is "not the most
    approved"; with counts withheld there was no tally to follow (which says nothing about the counts)."""
    if followed_tally:
        return ""
    return NOT_MOST_APPROVED if counts_published else NO_TALLY
