"""Rules of the committee (SPEC §4, §4.1): the re-election rule, quorum, when a review is due, the election
tally, the runoff, the lot and who moves up into a vacancy. Pure: no Flask, no database; time is passed in.

The lot, exactly (SPEC §4.1; anyone can redo it with the published data alone, in any language):

    seed   = the hex SHA-256 of the text lines  "election <id>", "<runoff close, YYYY-MM-DDTHH:MM:SSZ>", then the
             runoff's receipt codes sorted, joined by "\n" (no final newline). The election id and the close
             time are in the seed so that a runoff nobody voted in (no receipts) still gets a seed nobody
             could know before the draw, and one that differs between elections.
    digest = hex SHA-256 of  seed + ":" + public id   (UTF-8), for each tied candidate
    order  = the tied candidates by digest, lowest first (public id breaks an impossible tie)
    the first `remaining seats` of the order win.

A candidate's **public id** is their community's name as shown on the result page at the draw (stored with the
election, so a later rename does not change a published draw). On the command line:

    printf '%s' 'SEED:社区名' | sha256sum

No random-number generator is involved; `lot_seed`, `lot_digest`, `lot_order` and `draw_lots` below are those
lines, and tests check them against digests computed once with sha256sum.

A lot drawn before the SHA-256 lot (an election counted before migration 0009_committee_life: `lot_seed` set,
no `lot_entries`) was published as a Python procedure, which its result page printed: the tied seat ids sorted,
then `random.Random(int(seed, 16)).shuffle(order)`, the first ones drawn. `legacy_lot_order` reads such a draw
back, so that a vacancy filled from that election follows the order it published (SPEC §4.1: "the same lot");
no new lot uses it."""
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


def lot_seed_text(receipts: list[str], election_id: int, closed_at: datetime) -> str:
    """What the seed hashes: the election, the close (to the second, UTC) and the sorted receipt codes."""
    lines = [f"election {election_id}", closed_at.strftime("%Y-%m-%dT%H:%M:%SZ")] + sorted(receipts)
    return "\n".join(lines)


def lot_seed(receipts: list[str], election_id: int, closed_at: datetime) -> str:
    """The seed of a lot (hex SHA-256 of `lot_seed_text`)."""
    return hashlib.sha256(lot_seed_text(receipts, election_id, closed_at).encode("utf-8")).hexdigest()


def lot_digest(seed: str, public_id: str) -> str:
    """SPEC §4.1: hex SHA-256 of seed + ":" + the candidate's public id."""
    return hashlib.sha256(f"{seed}:{public_id}".encode("utf-8")).hexdigest()


def lot_order(entries: list[tuple[int, str]], seed: str) -> list[tuple[int, str, str]]:
    """(candidate, public id, digest) ordered by digest, lowest first."""
    rows = [(candidate, public_id, lot_digest(seed, public_id)) for candidate, public_id in entries]
    return sorted(rows, key=lambda row: (row[2], row[1]))


def draw_lots(entries: list[tuple[int, str]], seats: int, seed: str) -> tuple[int, ...]:
    """SPEC §4.1: the first `seats` of the tied candidates ordered by digest."""
    return tuple(candidate for candidate, _p, _d in lot_order(entries, seed)[:seats])


def legacy_lot_order(candidates: list[int], seed: str) -> list[int]:
    """The whole order of a lot drawn before the SHA-256 lot, exactly as its result page published the procedure
    (`order = sorted(tied ids)`; `random.Random(int(seed, 16)).shuffle(order)`; `order[:seats]` drawn): those
    after the drawn ones are the runners-up, in this order. CPython's shuffle of an integer seed is what was
    published; only old draws are read with it."""
    order = sorted(candidates)
    random.Random(int(seed, 16)).shuffle(order)
    return order


@dataclass(frozen=True)
class Standing:
    """A candidate of an election as the vacancy rule sees them."""
    candidate: int
    public_id: str
    approvals: int
    runoff_approvals: int = 0


def succession(candidates: list[Standing], seed: str, drawn_order: list[int] | None = None) -> list[int]:
    """SPEC §4.1: who moves up into a vacancy, in order — the most approved first; among equal approvals, the
    more approved in the runoff; then the same lot (lowest digest of the same seed first). drawn_order: the
    published order of a lot drawn before the SHA-256 lot (`legacy_lot_order`), which orders those it drew
    among (they are exactly the candidates tied on both counts). The caller skips those already seated and
    those who no longer hold a seat."""
    rank = {candidate: index for index, candidate in enumerate(drawn_order or ())}
    ordered = sorted(candidates, key=lambda c: (-c.approvals, -c.runoff_approvals, rank.get(c.candidate, len(rank)),
                                                lot_digest(seed, c.public_id), c.public_id))
    return [c.candidate for c in ordered]


def fixed_term_end(started_at: datetime, term_months: int) -> datetime | None:
    """SPEC §4.1: a term runs until recalled (0 months), or `term_months` months from its start."""
    return add_months(started_at, term_months) if term_months > 0 else None


def next_election_prompted(ends_at: datetime | None, now: datetime) -> bool:
    """SPEC §4.1: the bureau is prompted to open the next election a month before a fixed term ends."""
    return ends_at is not None and now >= add_months(ends_at, -1)
