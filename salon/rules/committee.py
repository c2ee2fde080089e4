"""Rules of the committee (SPEC §4): the re-election rule, quorum, when a review is due, the election tally,
the runoff and the lot. Pure: no Flask, no database; time is passed in.

The lot, exactly (anyone can redo it with the published data alone):

    import hashlib, random
    receipts = sorted(published_receipt_codes_of_the_runoff)        # as published, e.g. "2345-ABCD-EFGH"
    seed = hashlib.sha256("\\n".join(receipts).encode("utf-8")).hexdigest()
    order = sorted(tied_candidate_ids)                               # the ids shown on the result page
    random.Random(int(seed, 16)).shuffle(order)
    winners = order[:remaining_seats]

`lot_seed` and `draw_lots` below are those lines."""
from __future__ import annotations

import calendar
import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# --- the half-year review -------------------------------------------------------------------------

TRIGGERED = "triggered"  # re-election
STANDS = "stands"  # the committee stays
VOID = "void"  # quorum not met: held again, triggers nothing


def reelection_triggered(oppose: int, present: int, threshold_pct: int) -> bool:
    """SPEC §4: re-election when those opposing are *more than* threshold% of those present, compared in
    integers (`oppose * 100 > threshold * present`). Present-but-silent, blank and abstain count only in
    the denominator; exactly the threshold does not trigger; nobody present triggers nothing."""
    return oppose * 100 > threshold_pct * present


def quorum_met(present: int, active_communities: int) -> bool:
    """Our addition to SPEC §4: present must exceed half of the active communities (2 * present > active)."""
    return present * 2 > active_communities


def review_outcome(oppose: int, present: int, threshold_pct: int, active_communities: int,
                   quorum_required: bool = True) -> str:
    if quorum_required and not quorum_met(present, active_communities):
        return VOID
    return TRIGGERED if reelection_triggered(oppose, present, threshold_pct) else STANDS


def percent_tenths(part: int, whole: int) -> int:
    """part/whole as a percentage in tenths, rounded half up, in integers (63.2% → 632); 0 when whole is 0."""
    if whole <= 0:
        return 0
    return (part * 2000 + whole) // (2 * whole)


def percent_text(part: int, whole: int) -> str:
    tenths = percent_tenths(part, whole)
    return f"{tenths // 10}.{tenths % 10}%"


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later, or that month's last day when it is shorter (31 Jan + 1 → 28/29 Feb)."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def review_due_at(service_started: datetime, reviews_held: int, period_months: int) -> datetime:
    """SPEC §4: a review falls due every `period_months` of the sitting committee's service."""
    return add_months(service_started, period_months * (reviews_held + 1))


def review_due(service_started: datetime, reviews_held: int, period_months: int, now: datetime) -> bool:
    return now >= review_due_at(service_started, reviews_held, period_months)


EARLY_DAYS = 14  # SPEC §4.1: a review can be opened from this many days before it falls due
OPEN = "open"  # may open now
EARLY = "early"  # may open now with a reason
REFUSED = "refused"  # this period's review has been held


@dataclass(frozen=True)
class ReviewWindow:
    """When the review of one period of service may open (SPEC §4.1). The period is the `number`-th of the
    committee's service; its review falls due at `due_at`, may open without a reason from `opens_from` (14
    days before), with a reason from `period_starts` (the period's own beginning), and not before: one review
    per period. The reviews held (counted: not void) fix which period is next, never when they were held, so
    an early review does not move the next due date."""
    number: int
    period_starts: datetime
    opens_from: datetime
    due_at: datetime

    def opening(self, now: datetime) -> str:
        if now < self.period_starts:
            return REFUSED
        return EARLY if now < self.opens_from else OPEN


def review_window(service_started: datetime, reviews_held: int, period_months: int,
                  early_days: int = EARLY_DAYS) -> ReviewWindow:
    due_at = review_due_at(service_started, reviews_held, period_months)
    return ReviewWindow(reviews_held + 1, add_months(service_started, period_months * reviews_held),
                        due_at - timedelta(days=early_days), due_at)


# --- elections ------------------------------------------------------------------------------------

FEWER_ALARM_DAYS = 2  # "fewer candidates than seats" is an alarm only this close to the end of standing


def fewer_candidates_alarm(standing: int, seats: int, standing_until: datetime, now: datetime) -> bool:
    """Too few stand, and standing is about to close (the last FEWER_ALARM_DAYS days, or over): before that,
    secretaries are still expected to stand, and an alarm from the first minute says nothing."""
    return standing < seats and now >= standing_until - timedelta(days=FEWER_ALARM_DAYS)

@dataclass(frozen=True)
class ElectionTally:
    """winners: elected outright; tied: those tied for the last seat(s), who go to a runoff for
    `remaining` seats (empty when the election is settled)."""
    winners: tuple[int, ...]
    tied: tuple[int, ...] = ()
    remaining: int = 0
    ranking: tuple[tuple[int, int], ...] = field(default=())  # (candidate, approvals), most approved first

    @property
    def settled(self) -> bool:
        return not self.tied


def election_tally(approvals: dict[int, int], seats: int) -> ElectionTally:
    """SPEC §4: the `seats` most approved win. When candidates tie across the last seat, those above the
    tie win and the tied go to a runoff for the seats left. Fewer candidates than seats: all win."""
    ranking = tuple(sorted(approvals.items(), key=lambda item: (-item[1], item[0])))
    if len(ranking) <= seats:
        return ElectionTally(tuple(c for c, _n in ranking), ranking=ranking)
    cut = ranking[seats - 1][1]
    above = tuple(c for c, n in ranking if n > cut)
    at_cut = tuple(c for c, n in ranking if n == cut)
    if len(above) + len(at_cut) == seats:
        return ElectionTally(above + at_cut, ranking=ranking)
    return ElectionTally(above, tuple(sorted(at_cut)), seats - len(above), ranking)


def lot_seed(receipts: list[str]) -> str:
    """The seed of a lot: SHA-256 of the runoff's sorted receipt codes joined by newlines (hex)."""
    return hashlib.sha256("\n".join(sorted(receipts)).encode("utf-8")).hexdigest()


def draw_lots(candidates: list[int], seats: int, seed: str) -> tuple[int, ...]:
    """Sort the tied candidates' ids, shuffle with random.Random(int(seed, 16)), take the first `seats`."""
    order = sorted(candidates)
    random.Random(int(seed, 16)).shuffle(order)
    return tuple(order[:seats])
