"""The session packet (SPEC §7): what it holds, who may open it, and guest links.

`packet(session, programme)` gathers everything the printable page and the PDF show, in a fixed number of
queries; the page (templates/packets/packet.html) and the PDF (salon.packets.document) only lay it out."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from salon import clock
from salon.audit import services as audit
from salon.ballots import services as ballots
from salon.database import as_id, lock_programme
from salon.errors import Conflict, NotFound, clean_text
from salon.extensions import db
from salon.outcomes import limits
from salon.outcomes import services as outcomes
from salon.packets.models import GuestLink
from salon.programmes import services as programmes
from salon.schedule import services as schedule
from salon.committee import services as committee
from salon.topics import services as topics

if TYPE_CHECKING:
    from salon.programmes.models import Programme
    from salon.schedule.models import Session

LINK_SALT = "salon.packets.guest-link"
BLANK_SIGNIN_ROWS = 3


@dataclass(frozen=True)
class AgendaLine:
    starts: str
    ends: str
    title: str
    lead: str
    note: str


@dataclass(frozen=True)
class TallyLine:
    title: str
    community: str
    approvals: int | None  # None: counts withheld
    chosen: bool


@dataclass(frozen=True)
class SigninLine:
    name: str
    person: str
    kind: str  # "community", "guest" or "blank"


@dataclass
class Packet:
    session_id: int
    programme: str
    bureau: str
    number: int
    date: str
    time: str
    venue: str
    chair: str
    chair_secretary: str
    title: str
    problem: str
    hoped_result: str
    outside_units: str
    nominating_community: str
    tally: list[TallyLine]
    turnout: int
    eligible: int
    counts_published: bool
    decided_by: str
    rationale: str
    followed_tally: bool
    agenda: list[AgendaLine]
    guests: list[tuple[str, str]]
    signin: list[SigninLine]
    previous_number: int | None = None
    previous_title: str = ""
    previous_resolutions: list[outcomes.ResolutionState] = field(default_factory=list)
    previous_actions: list[outcomes.ActionState] = field(default_factory=list)
    generated: str = ""
    decider: str = ""  # bureau or committee
    decided_why: str = ""  # the bureau's reason (SPEC §4.1), e.g. the committee missed its deadline
    member_picks: list = field(default_factory=list)  # committee decisions: each member's signed pick
    tally_note: str = ""  # salon.rules.topics.tally_note: "not_most_approved", "no_tally" or ""

    def status_label(self, status: str) -> str:
        return outcomes.status_label(status)


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=timezone.utc).astimezone(zone)


def _date_text(moment: datetime) -> str:
    from flask_babel import get_locale
    from babel.dates import format_date

    return format_date(moment.date(), "full", locale=get_locale() or "zh_Hans")


def has_packet(session: Session) -> bool:
    return session.number is not None and topics.decision_of(session.id) is not None


def packet(session: Session, programme: Programme, now: datetime | None = None) -> Packet:
    """Everything the packet shows. A session without a decided topic has no packet."""
    now = now or clock.utcnow()
    decision = topics.decision_of(session.id)
    if decision is None or session.number is None or session.status == schedule.SessionStatus.CANCELLED:
        raise NotFound(_("This session's topic has not been decided yet: there is no packet."), "session_id")
    zone = ZoneInfo(programme.timezone or "Asia/Shanghai")
    starts = _local(session.starts_at, zone)
    ends = _local(session.starts_at + timedelta(minutes=session.duration_minutes or 0), zone)
    chosen = decision.nomination
    holders = programmes.holders_by_community(programme.id)
    poll = topics.topic_poll(session.id)
    result = ballots.results(poll) if poll is not None else None
    published = bool(result and result.published)
    tally = [TallyLine(n.title, n.community.name, result.ref_counts.get(n.id, 0) if published else None,
                       n.id == chosen.id)
             for n in topics.active_nominations(session.id)]
    if published:
        tally.sort(key=lambda line: (-(line.approvals or 0), not line.chosen))
    guests = topics.guests(session.id)
    signin = [SigninLine(c.name, holders[c.id].display_name if c.id in holders else "", "community")
              for c in programmes.communities(programme.id, active_only=True)]
    signin += [SigninLine(g.name, g.unit, "guest") for g in guests]
    signin += [SigninLine("", "", "blank")] * BLANK_SIGNIN_ROWS
    shown = committee.shown_decision(decision, published)
    out = Packet(
        session_id=session.id, programme=programme.name, bureau=programme.bureau_name or "", number=session.number,
        date=_date_text(starts), time=f"{starts:%H:%M}–{ends:%H:%M}", venue=session.venue or "",
        chair=session.chair.name if session.chair else "",
        chair_secretary=holders[session.chair_community_id].display_name
        if session.chair_community_id in holders else "",
        title=chosen.title, problem=chosen.problem, hoped_result=chosen.hoped_result,
        outside_units=chosen.outside_units, nominating_community=chosen.community.name, tally=tally,
        turnout=result.turnout if result else 0, eligible=result.eligible if result else 0,
        counts_published=published, decided_by=shown.by, rationale=decision.rationale,
        followed_tally=decision.followed_tally,
        agenda=[AgendaLine(f"{_local(t.starts_at, zone):%H:%M}", f"{_local(t.ends_at, zone):%H:%M}", t.item.title,
                           t.item.lead, t.item.note) for t in topics.agenda(session)],
        guests=[(g.name, g.unit) for g in guests], signin=signin,
        generated=f"{_local(now, zone):%Y-%m-%d %H:%M}", decider=shown.decider,
        decided_why=shown.reason_text if shown.decider == "bureau" else "", member_picks=shown.picks,
        tally_note=shown.tally_note)
    previous = schedule.previous_session(session)
    if previous is not None:
        summary = outcomes.summaries(programme.id, [previous.id], outcomes.today(programme, now))[previous.id]
        before = topics.decision_of(previous.id)
        out.previous_number = previous.number
        out.previous_title = before.nomination.title if before else ""
        out.previous_resolutions = summary.resolutions
        out.previous_actions = summary.actions
    return out


# --- who may open it -------------------------------------------------------------------------------

def can_share(user, session: Session) -> bool:
    """The chair and the bureau make and revoke guest links (SPEC §7)."""
    return topics.can_manage(user, session)


def check_share(user, session: Session) -> None:
    topics.check_manage(user, session)


# --- guest links -----------------------------------------------------------------------------------

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def links(session_id: int) -> list[GuestLink]:
    return list(db.session.scalars(select(GuestLink).where(GuestLink.session_id == session_id)
                                   .order_by(GuestLink.created_at.desc(), GuestLink.id.desc())))


def create_link(session: Session, user, label, now: datetime | None = None) -> GuestLink:
    now = now or clock.utcnow()
    label = clean_text(label, "label", limits.GUEST_LINK_LABEL_MAX)
    topics.check_manage(user, session)
    if not has_packet(session) or session.status == schedule.SessionStatus.CANCELLED:
        raise Conflict(_("This session's topic has not been decided yet: there is no packet."), "session_id")
    lock_programme(session.programme_id)  # the lock order of salon/database.py: programme first
    schedule.lock_session(session.id)
    if db.session.scalar(select(func.count(GuestLink.id)).where(GuestLink.session_id == session.id)) \
            >= limits.GUEST_LINKS_PER_SESSION:
        raise Conflict(_("At most %(n)d items.", n=limits.GUEST_LINKS_PER_SESSION), "label")
    programme = programmes.get_programme(session.programme_id)
    link = GuestLink(programme_id=session.programme_id, session_id=session.id, label=label,
                     nonce=secrets.token_hex(8), created_by_id=user.id, created_at=now,
                     expires_at=now + timedelta(days=programme.guest_link_days))
    db.session.add(link)
    db.session.flush()
    audit.record(session.programme_id, user, "guest_link.create", link, session=session.number, label=label,
                 days=programme.guest_link_days)
    return link


def link_token(link: GuestLink) -> str:
    return _serializer().dumps([link.id, link.nonce])


def get_link(link_id, programme_id: int) -> GuestLink:
    return programmes.get_scoped(GuestLink, link_id, programme_id, "link_id")


def revoke_link(link: GuestLink, user, now: datetime | None = None) -> GuestLink:
    now = now or clock.utcnow()
    session = schedule.session_by_id(link.session_id)
    topics.check_manage(user, session, "link_id")
    if link.revoked_at is None:
        lock_programme(link.programme_id)
        link.revoked_at = now
        db.session.flush()
        audit.record(link.programme_id, user, "guest_link.revoke", link, session=session.number, label=link.label)
    return link


def link_state(link: GuestLink, now: datetime) -> str:
    if link.revoked_at is not None:
        return "revoked"
    return "expired" if now >= link.expires_at else "active"


def open_link(token: str, now: datetime | None = None) -> tuple[GuestLink, Session]:
    """The link and its one session, or 404: forged, revoked and expired links look alike to a guest."""
    now = now or clock.utcnow()
    gone = NotFound(_("This packet link is not valid: it has expired or been revoked. Ask the chair for a new one."),
                    "token")
    try:
        link_id, nonce = _serializer().loads(token or "")
    except (BadSignature, ValueError, TypeError):
        raise gone
    link = db.session.get(GuestLink, as_id(link_id)) if as_id(link_id) else None
    if link is None or not secrets.compare_digest(str(nonce), link.nonce) or link_state(link, now) != "active":
        raise gone
    session = schedule.session_by_id(link.session_id)
    if session is None or not has_packet(session) or session.status == schedule.SessionStatus.CANCELLED:
        raise gone
    return link, session


# --- the home page ---------------------------------------------------------------------------------

def ready_for(user, upcoming: list, seat=None) -> list[Session]:
    """Upcoming sessions with a decided topic that this person chairs (or, for the bureau, all of them).
    upcoming: the topics room's view of the next sessions (topics.services.TaskState); seat: the secretary's."""
    return [item.session for item in upcoming if item.decided
            and programmes.bureau_or_chair(user, item.session.chair_community_id, seat)]


def today(programme: Programme) -> date:
    return outcomes.today(programme)


def programme_of(session: Session) -> Programme:
    return programmes.get_programme(session.programme_id)
