"""The half-year review (SPEC §4): due every N months of the committee's service; attendance by roll or by
QR check-in; a secret ballot per topic and overall; the re-election rule; what happens next.

Only those present vote: checking in makes the seat eligible in the review's poll (ballots.add_eligible),
serialised against the close, so `present` (attendance at the close) equals the poll's eligible count."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select

from salon import clock
from salon.audit import services as audit
from salon.ballots import services as ballots
from salon.ballots.models import Poll, PollState
from salon.committee import services as committee
from salon.committee.models import Term
from salon.database import lock_programme
from salon.errors import Conflict, Forbidden, NotFound, ValidationFailed
from salon.outcomes import services as outcomes
from salon.outcomes.services import SessionOutcome
from salon.extensions import db
from salon.programmes import services as programmes
from salon.programmes.models import Community, Programme, Seat
from salon.reviews.models import ReviewAttendance, Review, ReviewState
from salon.rules import ballots as ballot_rules
from salon.rules import committee as rules
from salon.rules import topics as topic_rules
from salon.schedule.models import Session, SessionStatus
from salon.topics.models import Nomination, TopicDecision

POLL_KIND = "review"
OVERALL = "overall"
EFFECT_CODES = ("effective", "partly", "not_effective", "no_view")
OVERALL_CODES = ("support", "oppose", "abstain")
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


def open_review_of(programme_id: int) -> Review | None:
    return db.session.scalar(select(Review).where(Review.programme_id == programme_id,
                                                  Review.state == ReviewState.OPEN).limit(1))


def _held_reviews(term_id: int) -> list[Review]:
    """Reviews of the term that counted (closed and not void), oldest first."""
    return list(db.session.scalars(select(Review).where(
        Review.term_id == term_id, Review.state == ReviewState.CLOSED, Review.outcome != rules.VOID)
        .order_by(Review.id)))


_UNREAD = object()


def due(programme: Programme, now: datetime, term=_UNREAD, current=_UNREAD) -> Term | None:
    """The sitting term whose review is due (SPEC §4: every N months of service), if any. term (the sitting
    term) and current (the open review), when the caller has already read them."""
    if term is _UNREAD:
        term = committee.sitting_term(programme.id)
    if current is _UNREAD:
        current = open_review_of(programme.id) if term is not None else None
    if term is None or current is not None:
        return None
    held = len(_held_reviews(term.id))
    return term if rules.review_due(term.started_at, held, programme.review_period_months, now) else None


def topics_in_period(term: Term, start: datetime, end: datetime) -> list[tuple[Session, Nomination]]:
    """The topics the committee chose that were held in the period (SPEC §4)."""
    return [(session, nomination) for session, nomination in db.session.execute(
        select(Session, Nomination).join(TopicDecision, TopicDecision.session_id == Session.id)
        .join(Nomination, Nomination.id == TopicDecision.nomination_id)
        .where(Session.programme_id == term.programme_id, Session.status == SessionStatus.HELD,
               TopicDecision.decider == topic_rules.COMMITTEE, Session.starts_at >= start, Session.starts_at < end)
        .order_by(Session.number))]


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
    return db.session.scalar(select(Session.chair_community_id).where(
        Session.programme_id == programme_id, Session.status != SessionStatus.CANCELLED,
        Session.starts_at >= now - timedelta(days=1)).order_by(Session.starts_at).limit(1))


def open_review(programme: Programme, actor, now: datetime | None = None) -> Review:
    """The bureau holds the review now: the ballot opens with nobody eligible; attendance adds seats."""
    lock_programme(programme.id)  # step 1 of the lock order (salon/database.py)
    now = now or clock.utcnow()
    term = committee.sitting_term(programme.id)
    if term is None:
        raise Conflict(_("No committee sits: there is nothing to review."), "review")
    if open_review_of(programme.id) is not None:
        raise Conflict(_("A review is already open."), "review")
    held = _held_reviews(term.id)
    start = held[-1].period_end if held else term.started_at
    chosen = topics_in_period(term, start, now)
    closes = now + timedelta(hours=programme.checkin_hours)
    poll = ballots.create_poll(programme.id, POLL_KIND, closes_at=closes, opens_at=now, min_published=programme.min_ballots_published)
    for session, nomination in chosen:
        question = ballots.add_question(poll, nomination.title, ballot_rules.SINGLE, ref_id=session.id)
        for code in EFFECT_CODES:
            ballots.add_option(question, code=code)
    overall = ballots.add_question(poll, kind=ballot_rules.SINGLE, code=OVERALL)
    for code in OVERALL_CODES:
        ballots.add_option(overall, code=code)
    ballots.open_poll(poll, [], actor, now)
    review = Review(programme_id=programme.id, term_id=term.id, poll_id=poll.id, period_start=start,
                    period_end=now, chair_community_id=_chair_of_next_session(programme.id, now),
                    checkin_until=closes, opened_at=now, threshold_pct=programme.review_threshold_pct,
                    quorum_required=programme.review_quorum)
    db.session.add(review)
    db.session.flush()
    audit.record(programme.id, actor, "review.open", review, topics=len(chosen))
    return review


def can_take_roll(user, review: Review) -> bool:
    """The bureau or the chair (SPEC §4) takes the roll."""
    if user.is_bureau:
        return True
    seat = programmes.seat_of(user) if user.is_secretary else None
    return seat is not None and review.chair_community_id is not None and seat.community_id == review.chair_community_id


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
    active = set(db.session.scalars(select(Seat.id).join(Community, Community.id == Seat.community_id).where(
        Seat.programme_id == review.programme_id, Community.active.is_(True))))
    marked = 0
    for seat_id in seat_ids:
        if isinstance(seat_id, bool) or not isinstance(seat_id, int) or seat_id not in active:
            raise ValidationFailed(_("Not an active community of this programme."), "seat_ids")
    for seat_id in sorted(set(seat_ids)):
        marked += _attend(review, seat_id, "roll", now)
    audit.record(review.programme_id, user, "review.roll", review, marked=marked)
    return marked


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
    """Self check-in by the QR code: the secretary's own seat, once."""
    now = now or clock.utcnow()
    seat = programmes.seat_of(user) if user.is_secretary else None
    if seat is None or not seat.community.active:
        raise Forbidden(_("Only a community's secretary can check in."), "seat")
    if now >= review.checkin_until:
        raise Conflict(_("The review has closed; check-in is over."), "review")
    return _attend(review, seat.id, "qr", now)


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
    if poll.state == PollState.OPEN:
        ballots.close_poll(poll, actor, now)
    return _apply_rule(review, programme, actor, now)


def _apply_rule(review: Review, programme: Programme, actor, now: datetime) -> Review:
    """SPEC §4: re-election when oppose * 100 > threshold * present; present = those checked in at the close;
    silent, blank and abstain count only in the denominator. Void without quorum."""
    lock_programme(programme.id)  # step 1 of the lock order (salon/database.py)
    poll = ballots.get(review.poll_id)
    tally = ballots.tally(poll)
    overall = next(q for q in poll.questions if q.code == OVERALL)
    present = db.session.scalar(select(func.count()).select_from(ReviewAttendance).where(ReviewAttendance.review_id == review.id))
    review.present = present
    review.oppose = tally.by_code.get(overall.id, {}).get("oppose", 0)
    review.active_communities = db.session.scalar(select(func.count(Community.id)).where(
        Community.programme_id == programme.id, Community.active.is_(True)))
    review.outcome = rules.review_outcome(review.oppose, present, review.threshold_pct, review.active_communities,
                                          review.quorum_required)
    review.state = ReviewState.CLOSED
    review.closed_at = now
    db.session.flush()
    audit.record(programme.id, actor, "review.close", review, present=present, oppose=review.oppose,
                 outcome=review.outcome)
    if review.outcome == rules.TRIGGERED:
        term = db.session.get(Term, review.term_id)
        if term.ended_at is None:
            committee.end_term(term, "recalled", actor, now)
        election = committee.open_election(programme, actor, now, reason="recall")
        review.election_id = election.id
        db.session.flush()
    return review


def advance(programme: Programme, now: datetime | None = None) -> list[str]:
    """Apply the rule to an open review whose ballot has closed (SPEC §4; lazily and by `salon tick`)."""
    now = now or clock.utcnow()
    ballots.close_due(now, programme.id)
    said = []
    for review in db.session.scalars(select(Review).where(Review.programme_id == programme.id,
                                                          Review.state == ReviewState.OPEN)).all():
        said += apply_if_closed(review, programme, now)
    return said


def apply_if_closed(review: Review | None, programme: Programme, now: datetime) -> list[str]:
    """advance() for one review (the latest, on the home page), its due polls already closed."""
    if review is None or review.state != ReviewState.OPEN:
        return []
    if ballots.get(review.poll_id).state == PollState.CLOSED:
        _apply_rule(review, programme, None, now)
        return [_("Review closed.")]
    return []


def tick(now: datetime) -> list[str]:
    with current_app.test_request_context():
        said = []
        for programme in db.session.scalars(select(Programme).order_by(Programme.id)).all():
            said.extend(f"{programme.name}: {line}" for line in advance(programme, now))
        return said


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
    if review.outcome == rules.TRIGGERED:
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


def review_view(review: Review, user, now: datetime | None = None) -> ReviewView:
    advance(user.programme, now)
    poll = ballots.get(review.poll_id)
    result = ballots.results(poll)
    seat = programmes.seat_of(user) if user.is_secretary else None
    by_code: dict[int, dict[str, int]] = {}
    if result.published:
        tally = ballots.tally(poll)
        by_code = tally.by_code
    sessions = {s.id: s for s in db.session.scalars(select(Session).where(
        Session.id.in_([q.ref_id for q in poll.questions if q.ref_id is not None])))}
    extra = outcomes_for(user.programme, list(sessions), now)
    rows, overall = [], None
    for question in poll.questions:
        if question.code == OVERALL:
            overall = by_code.get(question.id) if result.published else None
            continue
        session = sessions.get(question.ref_id)
        rows.append(TopicRow(question.ref_id, session.number if session else None, question.text,
                             by_code.get(question.id) if result.published else None, extra.get(question.ref_id)))
    present = present_seats(review.id)
    return ReviewView(review, poll, result, rows, overall, ballots.receipts(poll), arithmetic(review),
                      next_step(review), present, seat is not None and seat.id in present,
                      ballots.has_voted(poll.id, seat.id if seat else None), can_take_roll(user, review))


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
