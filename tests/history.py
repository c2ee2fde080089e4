"""Years of history for the cost tests and bench/pages.py (SPEC §9): a programme whose past holds one session
a month, each with nominations, a closed poll, a decision, an agenda, a guest and two action items (one done, one
left undone past its due date, owned by the chairing community), then the coming year."""
from __future__ import annotations

from datetime import datetime, timedelta

from salon.audit import services as audit
from salon.ballots import services as ballots
from salon.extensions import db
from salon.outcomes.models import ActionItem
from salon.programmes import services as programmes
from salon.rules import ballots as ballot_rules
from salon.schedule import services as schedule
from salon.schedule.models import Session, SessionStatus
from salon.topics.models import AgendaItem, Guest, Nomination, TopicDecision
from salon.topics.services import POLL_KIND

PASSWORD = "correct horse 1"


def _month_back(now: datetime, back: int) -> datetime:
    year, month = now.year, now.month - back
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 15, 6, 30)


def build(name: str, years: int, now: datetime, communities: int = 6, prefix: str | None = None):
    """A programme with `years` × 12 held sessions before `now` and the next 12 months planned.
    Returns (programme, bureau, secretaries, communities)."""
    prefix = prefix or name
    programme, bureau = programmes.create_programme(name, name + "民政局", f"{prefix}_bureau", "局", PASSWORD)
    made, secretaries = [], []
    for i in range(communities):
        community = programmes.add_community(programme, bureau, f"{name}第{i + 1}社区")
        user, _seat = programmes.hand_over_seat(community, bureau, f"{prefix}_sec{i + 1}", f"书记{i + 1}", PASSWORD)
        made.append(community)
        secretaries.append(user)
    seats = [programmes.seat_of(s).id for s in secretaries]
    total = years * 12
    for number in range(1, total + 1):
        starts = _month_back(now, total - number + 1)
        session = Session(programme_id=programme.id, number=number, status=SessionStatus.HELD, starts_at=starts,
                          duration_minutes=120, venue="会议室", chair_community_id=made[(number - 1) % len(made)].id,
                          sequence=0, created_at=starts - timedelta(days=60), updated_at=starts)
        db.session.add(session)
        db.session.flush()
        nominations = []
        for k in range(3):
            community = made[(number + k) % len(made)]
            nomination = Nomination(programme_id=programme.id, session_id=session.id, community_id=community.id,
                                    title=f"第{number}期议题{k + 1}", problem="问题与案例" * 20,
                                    hoped_result="希望的结果", outside_units="县医保局",
                                    created_at=starts - timedelta(days=30), updated_at=starts - timedelta(days=30))
            db.session.add(nomination)
            nominations.append(nomination)
        db.session.flush()
        opens, closes = starts - timedelta(days=14), starts - timedelta(days=7)
        poll = ballots.create_poll(programme.id, POLL_KIND, f"Topic of session {number}", closes_at=closes,
                                   opens_at=opens, subject_id=session.id)
        question = ballots.add_question(poll, "Which topics do you approve?", ballot_rules.APPROVAL, 3)
        for nomination in nominations:
            ballots.add_option(question, nomination.title, ref_id=nomination.id)
        ballots.open_poll(poll, seats, bureau, opens)
        ballots.close_poll(poll, bureau, closes)
        db.session.add(TopicDecision(programme_id=programme.id, session_id=session.id,
                                     nomination_id=nominations[0].id, decider="bureau", decided_by_id=bureau.id,
                                     rationale="", followed_tally=False, decided_at=closes))
        for position, title in enumerate(["开场", "背景", "发言", "讨论", "决议", "结束"]):
            db.session.add(AgendaItem(programme_id=programme.id, session_id=session.id, position=position,
                                      title=title, lead="主持人", minutes=20, note=""))
        db.session.add(Guest(programme_id=programme.id, session_id=session.id, name="王先生", unit="县医保局",
                             contact=""))
        chair = made[(number - 1) % len(made)]
        for what, status in (("印发通知", "done"), ("回访居民", "open")):
            db.session.add(ActionItem(programme_id=programme.id, session_id=session.id, what=f"第{number}期{what}",
                                      owner_unit=chair.name, owner_community_id=chair.id, status=status,
                                      due_on=(starts + timedelta(days=14)).date(), created_at=starts,
                                      updated_at=starts))
        for action in ("topic.decide", "agenda.edit", "guest.add"):
            audit.record(programme.id, bureau, action, session, session=number)
    db.session.flush()
    schedule.generate(programme, bureau, 12, now=now)
    db.session.commit()
    return programme, bureau, secretaries, made
