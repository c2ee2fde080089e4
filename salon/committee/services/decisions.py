"""Committee decisions (SPEC §3.3, §4.1): a sitting member's pick, signed by name, and the majority that
decides a session's topic (recorded by the topics room, through its services); the picks behind a decision, and
a decision as every place shows it (who decided and why, what it says about the tally)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select

from salon import clock
from salon.audit import services as audit
from salon.committee.models import Pick
from salon.committee.terms import sitting_members, sitting_term
from salon.database import lock_programme
from salon.errors import Forbidden
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules import topics as topic_rules
from salon.topics import services as topics

if TYPE_CHECKING:
    from salon.programmes.models import Programme
    from salon.schedule.models import Session


def picks(session_id: int) -> list[Pick]:
    return list(db.session.scalars(select(Pick).where(Pick.session_id == session_id).order_by(Pick.id)))


def record_pick(session: Session, user, nomination_id, rationale, now: datetime | None = None) -> Pick:
    """A member's pick, signed by name. The first nomination picked by more than half of the members sitting
    that day decides the topic (SPEC §4.1); a pick that is not the most approved needs a rationale, as a bureau
    decision does. After the deadline, or with fewer than 2 sitting, the bureau decides instead."""
    lock_programme(session.programme_id)  # step 1 of the lock order (salon/database.py)
    now = now or clock.utcnow()
    programme = user.programme
    who = topics.decider_of(session, programme, now)
    if who.who != topic_rules.COMMITTEE:
        raise Forbidden(decider_reason_text(who.reason, programme), "decider")
    term = sitting_term(programme.id)
    members = sitting_members(term)
    me = next((m for m in members if m.user_id == user.id), None)
    if me is None:
        raise Forbidden(_("Only members of the sitting committee record picks."), "decider")
    nomination, rationale, counts, needed = topics.prepare_decision(session, nomination_id, rationale, now)
    pick = Pick(programme_id=programme.id, session_id=session.id, term_id=term.id, seat_id=me.seat_id,
                user_id=user.id, nomination_id=nomination.id, rationale=rationale, picked_at=now)
    db.session.add(pick)
    db.session.flush()
    audit.record(programme.id, user, "committee.pick", session, session=session.number, nomination=nomination.id)
    sitting = {(m.seat_id, m.user_id) for m in members}
    recorded = [p for p in picks(session.id) if p.term_id == term.id and (p.seat_id, p.user_id) in sitting]
    chosen = topic_rules.committee_pick([(f"{p.seat_id}:{p.user_id}", p.nomination_id) for p in recorded],
                                        len(members))
    if chosen is not None:
        latest = {(p.seat_id, p.user_id): p for p in recorded}
        reasons = [f"{p.user.display_name}：{p.rationale}" for p in latest.values()
                   if p.nomination_id == chosen and p.rationale]
        chosen_nomination = topics.nomination_by_id(chosen)
        topics.record_decision(session, chosen_nomination, topic_rules.COMMITTEE, user, "\n".join(reasons),
                               counts is not None and not topic_rules.rationale_required(chosen, counts), now,
                               reason=topic_rules.MAJORITY, term_id=term.id)
    return pick


def decision_picks(decision) -> list[Pick]:
    """The members' picks behind a committee decision: each sitting member's latest pick of that term, in the
    order recorded (SPEC §3.3: signed by name; the decision is the committee's, not one member's)."""
    if decision is None or decision.term_id is None:
        return []
    latest: dict[tuple[int, int], Pick] = {}
    for p in picks(decision.session_id):
        if p.term_id == decision.term_id and p.picked_at <= decision.decided_at:
            latest[(p.seat_id, p.user_id)] = p
    return sorted(latest.values(), key=lambda p: p.id)


@dataclass(frozen=True)
class PickLine:
    community: str
    member: str
    title: str
    rationale: str
    with_decision: bool  # picked the decided nomination


@dataclass(frozen=True)
class DecisionShown:
    """A decision as every place shows it — the session page, the packet (page and PDF), the API: who decided
    (the committee as a whole, with each member's signed pick; or the bureau and why) and what it says about
    the tally (SPEC §3.3, §3.5, §4.1)."""
    decider: str
    by: str
    reason: str
    reason_text: str
    picks: list[PickLine]
    tally_note: str  # salon.rules.topics.tally_note


def shown_decision(decision, counts_published: bool) -> DecisionShown:
    programme = programmes.get_programme(decision.programme_id)
    lines = [PickLine(p.seat.community.name if p.seat else "", p.user.display_name, p.nomination.title, p.rationale,
                      p.nomination_id == decision.nomination_id) for p in decision_picks(decision)]
    if decision.decider == topic_rules.COMMITTEE:
        by = _("Decided by the topic-selection committee")
        reason_text = ""
    else:
        by = decision.decided_by.display_name if decision.decided_by else _("the bureau")
        reason_text = decider_reason_text(decision.reason, programme) if decision.reason else ""
    # A pick made before a late count (the trustees did not decrypt in time) followed no tally.
    published = counts_published and (decision.followed_tally or not topics.decided_before_count(decision))
    return DecisionShown(decision.decider, by, decision.reason, reason_text, lines,
                         topic_rules.tally_note(decision.followed_tally, published))


def decider_reason_text(reason: str, programme: Programme) -> str:
    """Why the bureau (or the committee) decides, in words (SPEC §4.1)."""
    return {
        topic_rules.MAJORITY: _("Decided by the topic-selection committee"),
        topic_rules.BUREAU_SESSIONS: _("The bureau decides the topics of the programme's first %(n)d sessions.",
                                       n=programme.bureau_sessions),
        topic_rules.NO_COMMITTEE: _("No committee sits; the bureau decides."),
        topic_rules.RECALL: _("The committee was recalled by the half-year review; the bureau decides until the "
                              "new committee is elected."),
        topic_rules.VACANCY: _("Fewer than 2 members of the committee sit: the bureau decides until a "
                               "by-election fills the places."),
        topic_rules.DEADLINE: _("The committee did not decide within the deadline."),
    }.get(reason, "")
