"""The half-year review (SPEC §4): due every N months of the committee's service; attendance by roll or by
QR check-in; a secret ballot per topic and overall; the re-election rule; what happens next.

Only those present vote: checking in makes the seat eligible in the review's poll (ballots.add_eligible),
serialised against the close, so `present` (attendance at the close) equals the poll's eligible count."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, literal, select

from salon import clock, exports, paging
from salon.audit import services as audit
from salon.ballots import services as ballots
from salon.committee import services as committee
from salon.database import as_id, lock_programme
from salon.errors import Conflict, Forbidden, NotFound, ValidationFailed, clean_text
from salon.outcomes import services as outcomes
from salon.outcomes.services import SessionOutcome
from salon.extensions import db
from salon.i18n import session_time
from salon.programmes import services as programmes
from salon.reviews.models import REASON_MAX, ReviewAttendance, Review, ReviewState, ReviewTopic
from salon.rules import ballots as ballot_rules
from salon.rules import committee as rules
from salon.rules import topics as topic_rules
from salon.schedule import services as schedule
from salon.topics import services as topics

if TYPE_CHECKING:
    from salon.ballots.models import Poll
    from salon.committee.models import Term
    from salon.programmes.models import Programme
    from salon.schedule.models import Session

POLL_KIND = "review"
OTHER_TERM = "other_term"  # decided by an earlier committee: listed apart, not judged (SPEC §4.1)
OVERALL = "overall"
EFFECT_CODES = ("effective", "partly", "not_effective", "no_view")
OVERALL_CODES = ("support", "oppose", "abstain")
# SPEC §5: a review always publishes its oppose count (the re-election rule must be checkable); below the
# publication minimum every other count (support, abstain, blank, each topic's) stays withheld, and a sealed
# review decrypts, and publishes, only the overall question's oppose sum (salon.rules.ballots.left_out_below_minimum).
NEEDED_BELOW_MINIMUM = ((OVERALL, "oppose"),)
LABELS = {
    OVERALL: _l("Overall: do you support the committee's choice of topics?"),
    "effective": _l("Effective"), "partly": _l("Partly effective"), "not_effective": _l("Not effective"),
    "no_view": _l("No view"), "support": _l("Support"), "oppose": _l("Oppose"), "abstain": _l("Abstain"),
}


# --- reading ------------------------------------------------------------------------------------

def get_review(review_id, programme_id: int) -> Review:
    return programmes.get_scoped(Review, review_id, programme_id, "review_id")


def reviews(programme_id: int, limit: int = 20) -> list[Review]:
    return list(db.session.scalars(select(Review).where(Review.programme_id == programme_id)
                                   .order_by(Review.id.desc()).limit(limit)))


def review_page(programme_id: int, cursor=None, limit: int = 20) -> tuple[list[Review], Review | None]:
    """One page of the programme's reviews, newest first, by keyset (cursor: the id of the last review of the
    previous page). Returns the page and the cursor for the next one (None on the last)."""
    return paging.newest_first(Review, programme_id, cursor, limit,
                               _("This cursor does not belong to any page of reviews."))


def open_review_of(programme_id: int) -> Review | None:
    return db.session.scalar(select(Review).where(Review.programme_id == programme_id,
                                                  Review.state == ReviewState.OPEN).limit(1))


def _held_reviews(term_id: int) -> list[Review]:
    """Reviews of the term that counted (closed and not void), oldest first."""
    return list(db.session.scalars(select(Review).where(
        Review.term_id == term_id, Review.state == ReviewState.CLOSED, Review.outcome != rules.VOID)
        .order_by(Review.id)))


def held_count(term_id: int):
    """How many of the term's reviews counted (as _held_reviews), a scalar subquery to select with others."""
    return (select(func.count(Review.id)).where(
        Review.term_id == term_id, Review.state == ReviewState.CLOSED, Review.outcome != rules.VOID)
        .scalar_subquery())


def latest_review(programme_id: int, term_id: int | None) -> tuple[Review | None, int]:
    """The programme's latest review and how many reviews of the term `term_id` counted, in one statement (the
    home page; a review opens only while none is open, so the open one, if any, is the latest)."""
    held = held_count(term_id) if term_id is not None else literal(0)
    row = db.session.execute(select(Review, held).where(Review.programme_id == programme_id)
                             .order_by(Review.id.desc()).limit(1)).first()
    return (row[0], int(row[1])) if row is not None else (None, 0)  # no review at all: none counted


def window(programme: Programme, term: Term, held: int | None = None) -> rules.ReviewWindow:
    """When the term's next review may open and falls due (SPEC §4.1). held: how many of its reviews counted,
    when the caller has read it."""
    if held is None:
        held = len(_held_reviews(term.id))
    return rules.review_window(term.started_at, held, programme.review_period_months)


def next_window(programme: Programme) -> rules.ReviewWindow | None:
    """The sitting committee's next review, for the reviews page and the API; None when no committee sits."""
    term = committee.sitting_term(programme.id)
    return window(programme, term) if term is not None else None


_UNREAD = object()


def due(programme: Programme, now: datetime, grace: bool = True, term=_UNREAD, current=_UNREAD,
        held: int | None = None) -> Term | None:
    """The sitting term whose review may be opened without a reason (SPEC §4.1: from 14 days before it falls
    due; with grace=False only once it has fallen due), if any and if no review is open. term (the sitting
    term), current (the open review) and held (how many of the term's reviews counted), when the caller has
    already read them."""
    if term is _UNREAD:
        term = committee.sitting_term(programme.id)
    if current is _UNREAD:
        current = open_review_of(programme.id) if term is not None else None
    if term is None or current is not None:
        return None
    slot = window(programme, term, held)
    if not grace:
        return term if now >= slot.due_at else None
    return term if slot.opening(now) == rules.OPEN else None


def _period_start(programme_id: int, term: Term) -> datetime:
    """Where the next review's period starts: where the programme's last counted review's period ended, else
    where the first committee's service started. Periods follow one another, so nothing held falls between
    two reviews: the sessions between a recall and the next term are in the next review, listed apart."""
    last = db.session.scalar(select(Review.period_end).where(
        Review.programme_id == programme_id, Review.state == ReviewState.CLOSED, Review.outcome != rules.VOID)
        .order_by(Review.period_end.desc()).limit(1))
    if last is not None:
        return last
    first = committee.first_term_start(programme_id)
    return min(first, term.started_at) if first is not None else term.started_at


@dataclass
class Covered:
    """A held topic of the review's period: judged when this term's committee decided it (SPEC §4.1)."""
    session: Session
    title: str
    decided_by: str  # committee (this term), bureau, other_term

    @property
    def judged(self) -> bool:
        return self.decided_by == topic_rules.COMMITTEE


def covered_topics(term: Term, start: datetime, end: datetime) -> list[Covered]:
    """The decided topics held in [start, end), in session order, each marked by who decided it. Sessions
    whose time has passed are marked held first (they are marked lazily), so one held earlier on the day the
    review opens is in its list."""
    schedule.mark_past_held(term.programme_id, end)
    found = topics.decided_sessions(schedule.held_between(term.programme_id, start, end))
    terms = topics.deciding_terms([decision for _s, _t, decision in found])
    covered = []
    for session, title, decision in found:
        deciding = terms.get(session.id)
        by = (topic_rules.BUREAU if deciding is None else
              topic_rules.COMMITTEE if deciding == term.id else OTHER_TERM)
        covered.append(Covered(session, title, by))
    return covered


def topics_in_period(term: Term, start: datetime, end: datetime) -> list[tuple[Session, str]]:
    """The topics a review of the period judges: those this term's committee decided (SPEC §4.1)."""
    return [(c.session, c.title) for c in covered_topics(term, start, end) if c.judged]


def outcomes_for(programme: Programme, session_ids: list[int], now: datetime | None = None) -> dict[int, SessionOutcome]:
    """Each topic's resolutions and how far its action items got (SPEC §4), from the outcomes room: a fixed
    number of queries whatever the number of topics. Overdue is judged on the programme's local day."""
    return outcomes.summaries(programme.id, session_ids, outcomes.today(programme, now))


def action_line(action) -> str:
    """One action item as a line: what, who, its status, and whether it is overdue."""
    parts = [action.what, action.owner_unit or "", outcomes.status_label(action.status)]
    if action.due_on is not None:
        parts.append(_("due %(date)s", date=action.due_on.isoformat()))
    if action.overdue:
        parts.append(_("overdue"))
    return " · ".join(p for p in parts if p)


def progress_line(outcome: SessionOutcome | None) -> str:
    """How far the action items got, e.g. "Action items: done: 1 · in progress: 2 (of 4) · 1 overdue"."""
    if outcome is None or not outcome.actions:
        return _("No action items.")
    counts = outcome.count_by_status()
    done = " · ".join(_("%(status)s: %(n)d", status=outcomes.status_label(code), n=n)
                      for code, n in counts.items() if n)
    overdue = sum(1 for a in outcome.actions if a.overdue)
    line = _("Action items: %(counts)s (of %(n)d)", counts=done, n=len(outcome.actions))
    return line + (" · " + _("%(n)d overdue", n=overdue) if overdue else "")


def outcome_notes(outcome: SessionOutcome | None) -> list[str]:
    """The lines shown with a topic on the review's ballot: its resolutions, then its action items."""
    if outcome is None:
        return []
    lines = [_("Resolution %(n)d: %(text)s", n=r.number, text=r.text) for r in outcome.resolutions]
    if not outcome.resolutions:
        lines.append(_("No resolutions."))
    lines.append(progress_line(outcome))
    lines += [_("Action item: %(line)s", line=action_line(a)) for a in outcome.actions]
    return lines


# --- opening, attendance, check-in ----------------------------------------------------------------

def _chair_of_next_session(programme_id: int, now: datetime) -> int | None:
    return schedule.chair_of_next(programme_id, now - timedelta(days=1))


@dataclass
class Opening:
    """What opening a review now would do (SPEC §4.1), for the confirmation page and the service's own checks:
    the period it covers, the topics it would judge and those listed apart, and whether it is early."""
    term: Term
    window: rules.ReviewWindow
    period_start: datetime
    period_end: datetime
    covered: list[Covered]
    opening: str  # rules.OPEN, EARLY or REFUSED

    @property
    def judged(self) -> list[Covered]:
        return [c for c in self.covered if c.judged]

    @property
    def apart(self) -> list[Covered]:
        return [c for c in self.covered if not c.judged]

    @property
    def early(self) -> bool:
        return self.opening == rules.EARLY


def opening(programme: Programme, now: datetime | None = None) -> Opening:
    """What a review opened now would cover; refused when no committee sits or a review is open."""
    now = now or clock.utcnow()
    term = committee.sitting_term(programme.id)
    if term is None:
        raise Conflict(_("No committee sits: there is nothing to review."), "review")
    if open_review_of(programme.id) is not None:
        raise Conflict(_("A review is already open."), "review")
    start = _period_start(programme.id, term)
    slot = window(programme, term)
    return Opening(term, slot, start, now, covered_topics(term, start, now), slot.opening(now))


def check_reason(reason) -> str:
    return clean_text(reason, "reason", REASON_MAX)


def open_review(programme: Programme, actor, now: datetime | None = None, reason: str | None = "",
                confirm_empty: bool = False) -> Review:
    """The bureau holds the review now: the ballot opens with nobody eligible; attendance adds seats.

    SPEC §4.1: one review per period; from 14 days before it falls due, earlier only with a reason; its list
    of topics is fixed here. With no topic to judge it opens only when the bureau confirms it knows."""
    lock_programme(programme.id)  # step 1 of the lock order (salon/database.py)
    now = now or clock.utcnow()
    reason = check_reason(reason)
    plan = opening(programme, now)
    if plan.opening == rules.REFUSED:
        raise Conflict(_("This period's review has been held; the next review falls due on %(due)s and can be "
                         "opened from %(opens)s.", due=session_time(plan.window.due_at),
                         opens=session_time(plan.window.period_starts)), "review")
    if plan.early and not reason:
        raise ValidationFailed(_("The review falls due on %(due)s; opening it before %(opens)s needs a reason.",
                                 due=session_time(plan.window.due_at),
                                 opens=session_time(plan.window.opens_from)), "reason")
    if not plan.judged and not confirm_empty:
        raise Conflict(_("No topic decided by this committee was held in the period: the review would judge no "
                         "topic, only the overall question. Confirm to open it anyway."), "confirm_empty")
    closes = now + timedelta(hours=programme.checkin_hours)
    ballots.require_key(programme.id, POLL_KIND, now)  # before anything is written (SPEC §5.1)
    poll = ballots.create_poll(programme.id, POLL_KIND, closes_at=closes, opens_at=now, min_published=programme.min_ballots_published)
    for covered in plan.judged:
        question = ballots.add_question(poll, covered.title, ballot_rules.SINGLE, ref_id=covered.session.id)
        for code in EFFECT_CODES:
            ballots.add_option(question, code=code)
    overall = ballots.add_question(poll, kind=ballot_rules.SINGLE, code=OVERALL)
    for code in OVERALL_CODES:
        ballots.add_option(overall, code=code)
    ballots.open_poll(poll, [], actor, now)
    review = Review(programme_id=programme.id, term_id=plan.term.id, poll_id=poll.id, period_start=plan.period_start,
                    period_end=now, chair_community_id=_chair_of_next_session(programme.id, now),
                    checkin_until=closes, opened_at=now, threshold_pct=programme.review_threshold_pct,
                    quorum_required=programme.review_quorum, early_reason=reason if plan.early else "")
    db.session.add(review)
    db.session.flush()
    for covered in plan.covered:
        db.session.add(ReviewTopic(review_id=review.id, session_id=covered.session.id, programme_id=programme.id,
                                   judged=covered.judged, decided_by=covered.decided_by))
    db.session.flush()
    details = {"topics": len(plan.judged), "apart": len(plan.apart)}
    if plan.early:
        details["early_reason"] = reason
    audit.record(programme.id, actor, "review.open", review, **details)
    return review


def fixed_topics(review: Review) -> list[tuple[ReviewTopic, Session, str]]:
    """The review's list as fixed when it opened, in session order, with each topic's title."""
    sessions = schedule.in_order()
    fixed = (sessions.add_columns(ReviewTopic).join(ReviewTopic, ReviewTopic.session_id == sessions.selected_columns.id)
             .where(ReviewTopic.review_id == review.id))
    return [(topic, session, title) for session, topic, title, _decision in topics.decided_sessions(fixed)]


def decided_by_label(code: str) -> str:
    return {topic_rules.BUREAU: _("decided by the bureau"),
            OTHER_TERM: _("decided by an earlier committee"),
            topic_rules.COMMITTEE: _("decided by this committee")}.get(code, code)


def can_take_roll(user, review: Review) -> bool:
    """The bureau or the chair (SPEC §4) takes the roll."""
    return programmes.bureau_or_chair(user, review.chair_community_id)


def _attend(review: Review, seat_id: int, how: str, now: datetime) -> bool:
    if review.state != ReviewState.OPEN:
        raise Conflict(_("The review has closed; check-in is over."), "review")
    added = ballots.add_eligible(review.poll_id, seat_id, review.programme_id, now)
    if added:
        db.session.add(ReviewAttendance(review_id=review.id, seat_id=seat_id, programme_id=review.programme_id, how=how))
        db.session.flush()
    return added


def take_roll(review: Review, user, seat_ids, now: datetime | None = None) -> int:
    """Mark seats present (the bureau or the chair). Answers how many were newly marked."""
    lock_programme(review.programme_id)  # step 1 of the lock order (salon/database.py)
    now = now or clock.utcnow()
    if not can_take_roll(user, review):
        raise Forbidden(_("Only the bureau and the chair take the roll."), "review")
    if not isinstance(seat_ids, list) or not seat_ids:
        raise ValidationFailed(_("Choose at least one community."), "seat_ids")
    active = set(programmes.active_seats(review.programme_id))
    for seat_id in seat_ids:
        if isinstance(seat_id, bool) or not isinstance(seat_id, int) or seat_id not in active:
            raise ValidationFailed(_("Not an active community of this programme."), "seat_ids")
    added = [seat_id for seat_id in sorted(set(seat_ids)) if _attend(review, seat_id, "roll", now)]
    marked = len(added)
    audit.record(review.programme_id, user, "review.roll", review, marked=marked, seat_ids=added, how="roll")
    return marked


def take_off_roll(review: Review, user, seat_id, reason, now: datetime | None = None) -> None:
    """SPEC §4.1: the bureau or the chair takes a seat off the roll, with a reason, until that seat has voted
    (then it stays: its ballot is counted). Audited with the reason.

    The refusal once the seat has voted tells whoever asks that the seat voted, while SPEC §5 shows who voted
    to nobody: SPEC requires the refusal, so it says only that the roll can no longer be corrected for this
    seat, and the refused attempt is audited too (with the reason given), kept even though the refusal rolls
    the request back, so probing who voted leaves a trace the bureau sees (docs/secrecy.md)."""
    lock_programme(review.programme_id)  # step 1 of the lock order (salon/database.py)
    if not can_take_roll(user, review):
        raise Forbidden(_("Only the bureau and the chair take the roll."), "review")
    if review.state != ReviewState.OPEN:
        raise Conflict(_("The review has closed; the roll can no longer change."), "review")
    if isinstance(seat_id, bool) or not isinstance(seat_id, int) or seat_id not in present_seats(review.id):
        raise ValidationFailed(_("This community is not on the roll."), "seat_id")
    reason = check_reason(reason)
    if not reason:
        raise ValidationFailed(_("Say why the community comes off the roll."), "reason")
    try:
        ballots.remove_eligible(review.poll_id, seat_id, review.programme_id)
    except Conflict as refused:
        if refused.field != "seat_id":  # the poll has closed
            raise
        audit.record_refused(review.programme_id, user, "review.roll_off_refused", review, seat_id=seat_id,
                             reason=reason)
        raise Conflict(_("The roll can no longer be corrected for this community."), "seat_id") from None
    db.session.execute(delete(ReviewAttendance).where(ReviewAttendance.review_id == review.id,
                                                      ReviewAttendance.seat_id == seat_id))
    db.session.flush()
    audit.record(review.programme_id, user, "review.roll_off", review, seat_id=seat_id, reason=reason)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="salon.review-checkin")


def checkin_token(review: Review) -> str:
    """The signed token behind the QR code shown at the venue; it names the review, whose own check-in window
    (fixed when it opened) says until when it works."""
    return _serializer().dumps({"r": review.id})


def checkin_open(review: Review, now: datetime | None = None) -> bool:
    return review.state == ReviewState.OPEN and (now or clock.utcnow()) < review.checkin_until


def checkin_hours(review: Review) -> int:
    """How long check-in runs for this review: the programme's setting when it opened (a later change of the
    setting does not move an open review's deadline)."""
    return round((review.checkin_until - review.opened_at).total_seconds() / 3600)


def review_of_token(token: str, programme_id: int, now: datetime | None = None) -> Review:
    try:
        data = _serializer().loads(token)
    except BadSignature:
        raise NotFound(_("This check-in code is not valid."), "token")
    review = get_review(data.get("r") if isinstance(data, dict) else None, programme_id)
    if (now or clock.utcnow()) >= review.checkin_until:
        raise NotFound(_("This check-in code has expired."), "token")
    return review


def check_in(review: Review, user, now: datetime | None = None) -> bool:
    """Self check-in by the QR code: the secretary's own seat, once; audited like the chair's roll (SPEC §4.1:
    every roll change is in the audit log): who, which seat, how."""
    lock_programme(review.programme_id)  # step 1 of the lock order (salon/database.py)
    now = now or clock.utcnow()
    seat = programmes.seat_of(user) if user.is_secretary else None
    if seat is None or not seat.community.active:
        raise Forbidden(_("Only a community's secretary can check in."), "seat")
    if now >= review.checkin_until:
        raise Conflict(_("The review has closed; check-in is over."), "review")
    added = _attend(review, seat.id, "qr", now)
    if added:
        audit.record(review.programme_id, user, "review.checkin", review, seat_id=seat.id,
                     community=seat.community.name, how="qr")
    return added


def present_seats(review_id: int) -> list[int]:
    return list(db.session.scalars(select(ReviewAttendance.seat_id).where(ReviewAttendance.review_id == review_id)
                                   .order_by(ReviewAttendance.seat_id)))


# --- closing and the rule -------------------------------------------------------------------------

def close_review(review: Review, programme: Programme, actor, now: datetime | None = None) -> Review:
    lock_programme(programme.id)  # step 1 of the lock order (salon/database.py)
    now = now or clock.utcnow()
    if review.state != ReviewState.OPEN:
        raise Conflict(_("The review has already closed."), "review")
    poll = ballots.get(review.poll_id)
    if poll.state == ballots.PollState.OPEN:
        ballots.close_poll(poll, actor, now)  # a plain poll is counted in its close: poll_counted applies the rule
    if review.state == ReviewState.OPEN and ballots.is_counted(poll):
        _apply_rule(review, programme, actor, now)  # a poll closed before its close applied the rule
    return review


def poll_counted(poll: Poll, actor=None, now: datetime | None = None) -> None:
    """SPEC §4.1: a review's rule is applied as soon as its poll's counts exist, whichever path closed the poll
    (the review's page, another page closing due polls, `salon tick`, the API): for a plain poll in the close
    itself, so a recall ends the term and opens the election in the same transaction; for a sealed poll (SPEC
    §5.1) when the k-th trustee's decryption is recorded. Connected to salon.ballots.signals.poll_counted by the
    room's init_app."""
    if poll.kind != POLL_KIND:
        return
    review = db.session.scalar(select(Review).where(Review.poll_id == poll.id))
    if review is None or review.state != ReviewState.OPEN:
        return
    _apply_rule(review, programmes.get_programme(review.programme_id), actor, now or poll.closed_at)


def _apply_rule(review: Review, programme: Programme, actor, now: datetime) -> Review:
    """SPEC §4: re-election when oppose * 100 > threshold * present; present = those checked in at the close;
    silent, blank and abstain count only in the denominator. Void without quorum. Applied once: a review
    already closed is returned as it is."""
    lock_programme(programme.id)  # step 1 of the lock order (salon/database.py)
    if review.state != ReviewState.OPEN:
        return review
    poll = ballots.get(review.poll_id)
    tally = ballots.tally(poll)
    overall = next(q for q in poll.questions if q.code == OVERALL)
    present = db.session.scalar(select(func.count()).select_from(ReviewAttendance).where(ReviewAttendance.review_id == review.id))
    review.present = present
    review.oppose = tally.by_code.get(overall.id, {}).get("oppose", 0)
    review.active_communities = programmes.active_community_count(programme.id)
    review.outcome = rules.review_outcome(review.oppose, present, review.threshold_pct, review.active_communities,
                                          review.quorum_required)
    review.state = ReviewState.CLOSED
    review.closed_at = now
    db.session.flush()
    audit.record(programme.id, actor, "review.close", review, present=present, oppose=review.oppose,
                 outcome=review.outcome)
    if review.outcome == rules.TRIGGERED:
        term = committee.get_term(review.term_id)
        if term.ended_at is None:  # a successor seated while the review was open has nobody left to recall
            committee.end_term(term, "recalled", actor, now)
            # An election already under way (the next term's, an early one) chooses the successor; opening
            # another would be refused and leave the review open for good.
            election = committee.running_election(programme.id) or committee.open_election(
                programme, actor, now, reason="recall")
            review.election_id = election.id
            db.session.flush()
    return review


def advance(programme: Programme, now: datetime | None = None) -> list[str]:
    """Close the review ballots whose window has ended (their close applies the rule: `poll_counted`), lazily
    and by `salon tick`; and, as a safety net, apply the rule to an open review whose ballot closed without it
    (a poll closed before the close applied it)."""
    now = now or clock.utcnow()
    ballots.close_due(now, programme.id)
    said = []
    for review in db.session.scalars(select(Review).where(Review.programme_id == programme.id,
                                                          Review.state == ReviewState.OPEN)).all():
        said += apply_if_closed(review, programme, now)
    return said


def apply_if_closed(review: Review | None, programme: Programme, now: datetime) -> list[str]:
    """The safety net of advance() for one review (the latest, on the home page), its due polls already
    closed: nothing to do for a review whose poll's close applied the rule."""
    if review is None or review.state != ReviewState.OPEN:
        return []
    if ballots.is_counted(ballots.get(review.poll_id)):
        _apply_rule(review, programme, None, now)
        return [_("Review closed.")]
    return []


def poll_title(poll: Poll) -> str:
    return _("Half-year review")


# --- what the result page and the report show -----------------------------------------------------

def arithmetic(review: Review) -> str:
    """The rule in words a secretary reads, e.g. 反对 12 人 / 参会 19 人 = 63.2%，高于 60%：委员会改选."""
    if review.present is None:
        return ""
    if review.outcome == rules.VOID:
        return _("Present %(p)d of %(a)d active communities: not more than half. The review is void and must be "
                 "held again; it triggers nothing.", p=review.present, a=review.active_communities)
    pct = rules.percent_text(review.oppose, review.present)
    if review.outcome == rules.TRIGGERED:
        return _("Oppose %(o)d / present %(p)d = %(pct)s, higher than %(t)d%%: the committee is re-elected.",
                 o=review.oppose, p=review.present, pct=pct, t=review.threshold_pct)
    return _("Oppose %(o)d / present %(p)d = %(pct)s, not higher than %(t)d%%: the committee stays.",
             o=review.oppose, p=review.present, pct=pct, t=review.threshold_pct)


def next_step(review: Review) -> str:
    """What happens next, as it stands now: a recall's election is described as it is today (open, or closed
    with a new committee seated), not as it was when the review closed."""
    if review.outcome == rules.TRIGGERED:
        election = committee.get_election(review.election_id, review.programme_id) if review.election_id else None
        if election is not None and election.state == committee.ElectionState.CLOSED:
            successor = committee.term_seated_by(election.id)
            if successor is not None:
                return _("The committee's term ended as recalled. The election it opened closed on %(when)s and "
                         "a new committee has sat since then.", when=session_time(election.closed_at))
            return _("The committee's term ended as recalled. The election it opened has closed.")
        return _("The committee's term ended as recalled; the bureau decides topics meanwhile, and an election "
                 "is open (sitting members may stand again).")
    if review.outcome == rules.VOID:
        return _("The bureau holds the review again.")
    if review.outcome == rules.STANDS:
        return _("The committee continues; the next review falls due after another period of service.")
    return ""


@dataclass
class TopicRow:
    session_id: int
    number: int | None
    title: str
    counts: dict[str, int] | None  # effectiveness code → n, when published
    outcomes: SessionOutcome | None  # its resolutions and action items (SPEC §4)
    no_answer: int | None = None  # ballots that left this topic unanswered, when published: counts add up


@dataclass
class ApartRow:
    """A topic of the period listed apart, not judged (SPEC §4.1): decided by the bureau or another committee."""
    session_id: int
    number: int | None
    title: str
    decided_by: str

    @property
    def label(self) -> str:
        return decided_by_label(self.decided_by)


@dataclass
class ReviewView:
    review: Review
    poll: Poll
    results: ballots.Results
    topics: list[TopicRow]
    overall: dict[str, int] | None  # support/abstain/oppose, when published (oppose is always on the review)
    receipts: list[str]
    arithmetic: str
    next_step: str
    present_seats: list[int]
    i_present: bool
    voted: bool
    roll: bool
    apart: list[ApartRow]
    my_seat_id: int | None = None

    @property
    def present(self) -> int:
        """Present: at the close, as the rule counted; while open, checked in so far."""
        return self.review.present if self.review.present is not None else len(self.present_seats)

    @property
    def turnout_text(self) -> str:
        return _("Present %(p)d · voted %(v)d (%(pct)s of those present)", p=self.present, v=self.results.turnout,
                 pct=rules.percent_text(self.results.turnout, self.present))


def review_view(review: Review, user, now: datetime | None = None) -> ReviewView:
    advance(user.programme, now)
    poll = ballots.get(review.poll_id)
    result = ballots.results(poll)
    seat = programmes.seat_of(user) if user.is_secretary else None
    by_code: dict[int, dict[str, int]] = {}
    if result.published:
        tally = ballots.tally(poll)
        by_code = tally.by_code
    # The review's list as fixed when it opened (review_topics) says what it judges and what is listed apart;
    # each judged topic's ballot question gives its title as voters saw it and its counts.
    fixed = fixed_topics(review)
    questions = {q.ref_id: q for q in poll.questions if q.code != OVERALL and q.ref_id is not None}
    overall_question = next((q for q in poll.questions if q.code == OVERALL), None)
    overall = by_code.get(overall_question.id) if result.published and overall_question is not None else None
    extra = outcomes_for(user.programme, [topic.session_id for topic, _s, _t in fixed if topic.judged], now)
    rows = []
    for topic, session, title in fixed:
        if not topic.judged:
            continue
        question = questions.get(topic.session_id)
        counts = (by_code.get(question.id, {}) if question is not None else {}) if result.published else None
        rows.append(TopicRow(topic.session_id, session.number, question.text if question is not None else title,
                             counts, extra.get(topic.session_id),
                             result.turnout - sum(counts.values()) if counts is not None else None))
    apart = [ApartRow(topic.session_id, session.number, title, topic.decided_by)
             for topic, session, title in fixed if not topic.judged]
    present = present_seats(review.id)
    return ReviewView(review, poll, result, rows, overall, ballots.receipts(poll), arithmetic(review),
                      next_step(review), present, seat is not None and seat.id in present,
                      ballots.has_voted(poll.id, seat.id if seat else None), can_take_roll(user, review), apart,
                      seat.id if seat else None)


def export_heading(review: Review, programme: Programme) -> list[list]:
    return exports.heading(programme.name, _("Half-year review"), review.opened_at, review.period_start,
                           review.period_end)


def export_rows(review: Review, view: ReviewView) -> list[list]:
    """The review for the bureau's records: counts only where SPEC §5 lets them be published."""
    rows = [[_("Half-year review"), review.id], [_("Present"), review.present], [_("Oppose"), review.oppose],
            [_("Threshold"), f"{review.threshold_pct}%"], [_("Outcome"), view.arithmetic],
            [_("Turnout"), view.results.turnout]]
    if view.overall is not None:
        rows += [[_("Support"), view.overall.get("support", 0)], [_("Abstain"), view.overall.get("abstain", 0)]]
    rows.append([])
    rows.append([_("Session"), _("Topic")] + [str(LABELS[c]) for c in EFFECT_CODES])
    for row in view.topics:
        rows.append([row.number, row.title] + ([row.counts.get(c, 0) for c in EFFECT_CODES] if row.counts
                                                 else [_("withheld")] * len(EFFECT_CODES)))
    return rows
