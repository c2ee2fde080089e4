"""The half-year review shows each topic's resolutions and how far its action items got (SPEC §4) on the
ballot, the result page, the printable report and its PDF; the PDF's text, its fonts, and counts only where
SPEC §5 lets them be published."""
from __future__ import annotations

import os
from pathlib import Path
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from pypdf import PdfReader
from sqlalchemy import event, update

from salon import clock
from salon.ballots import services as ballots
from salon.committee import services as committee
from salon.extensions import db
from salon.outcomes import services as outcomes
from salon.programmes import services as programmes
from salon.programmes.models import SeatHolding
from salon.reviews import services as reviews
from salon.rules import topics as topic_rules
from salon.schedule.models import Session, SessionStatus
from salon.topics.models import Nomination, TopicDecision
from tests.conftest import login
from tests.web.test_packets import _flat, _fonts, _pdf_text

TITLE = "网格员减负"
RESOLUTION = "由患者本人书面承诺替代社区证明"
IN_PROGRESS = "印发告知承诺制通知"
OVERDUE = "向各社区通报做法"


def _committee_topic(world, number: int, when: datetime, title: str) -> Session:
    session = Session(programme_id=world.programme.id, number=number, starts_at=when, status=SessionStatus.HELD,
                      chair_community_id=world.communities[0].id)
    db.session.add(session)
    db.session.flush()
    nomination = Nomination(programme_id=world.programme.id, session_id=session.id,
                            community_id=world.communities[1].id, title=title, problem="问题")
    db.session.add(nomination)
    db.session.flush()
    db.session.add(TopicDecision(programme_id=world.programme.id, session_id=session.id, nomination_id=nomination.id,
                                 decider=topic_rules.COMMITTEE, rationale="", decided_at=when,
                                 term_id=committee.sitting_term(world.programme.id).id))
    db.session.flush()
    return session


def _open_review(app, world, topics: int = 1):
    """A sitting committee, `topics` of its topics held in the period (the first with a resolution, an action
    item in progress and an overdue one), and the review open with the three communities present."""
    with app.test_request_context():
        db.session.execute(update(SeatHolding).values(started_at=datetime(2020, 1, 1)))
        db.session.commit()
        start = clock.utcnow() - timedelta(days=200)
        election = committee.open_election(world.programme, world.bureau, now=start)
        for sec, community in zip(world.secretaries, world.communities):
            committee.nominate(election, sec, community.seat.id, now=start)
        committee.open_vote(election, world.programme, world.bureau, now=start)
        committee.close_vote(election, world.programme, world.bureau, now=start + timedelta(days=1))
        for index in range(topics):
            session = _committee_topic(world, 5 + index, start + timedelta(days=60 + index), TITLE if index == 0
                                       else f"{TITLE}{index}")
            if index == 0:
                outcomes.add_resolution(session, world.bureau, RESOLUTION)
                outcomes.add_action(session, world.bureau, {"what": IN_PROGRESS, "owner_unit": "县医保局",
                                                             "status": "in_progress",
                                                             "due_on": date.today() + timedelta(days=30)})
                outcomes.add_action(session, world.bureau, {"what": OVERDUE, "owner_unit": "县民政局",
                                                             "due_on": date(2026, 1, 5)})
        review = reviews.open_review(world.programme, world.bureau)
        reviews.take_roll(review, world.bureau, [c.seat.id for c in world.communities])
        db.session.commit()
        return review.id


def _vote_and_close(app, world, review_id: int, voters: int):
    with app.test_request_context():
        review = reviews.get_review(review_id, world.programme.id)
        poll = ballots.get(review.poll_id)
        overall = {o.code: o.id for q in poll.questions if q.code == "overall" for o in q.options}
        effect = [{o.code: o.id for o in q.options} for q in poll.questions if q.code is None]
        for index, sec in enumerate(world.secretaries[:voters]):
            choice = "oppose" if index < 2 else "support"
            ballots.cast(poll.id, programmes.seat_of(sec).id, [overall[choice]] + [e["partly"] for e in effect],
                         world.programme.id)
        reviews.close_review(review, world.programme, world.bureau)
        db.session.commit()


def test_the_ballot_shows_each_topics_resolutions_and_action_items(app, client, world):
    review_id = _open_review(app, world)
    login(client, "sec_a1")
    body = client.get(f"/reviews/{review_id}/vote").get_data(as_text=True)
    assert TITLE in body and RESOLUTION in body
    assert IN_PROGRESS in body and "进行中" in body
    assert OVERDUE in body and "已逾期" in body


def test_result_report_api_and_pdf_show_outcomes_and_the_arithmetic(app, client, world, api):
    review_id = _open_review(app, world)
    _vote_and_close(app, world, review_id, voters=3)  # 2 oppose of 3 present: 66.7% > 60%
    arithmetic = "反对 2 人 / 参会 3 人 = 66.7%，高于 60%：委员会改选"
    next_step = "委员会任期因改选结束；在此期间由民政局确定议题，选举已开始（现任委员可再次参选）。"
    login(client, "sec_a2")
    for url in (f"/reviews/{review_id}", f"/reviews/{review_id}/report"):
        body = client.get(url).get_data(as_text=True)
        assert arithmetic in body and RESOLUTION in body and IN_PROGRESS in body and "进行中" in body, url
        assert next_step in body, url  # what happens next
        assert f"/reviews/{review_id}/report.pdf" in body
    response = client.get(f"/reviews/{review_id}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    if os.environ.get("SALON_KEEP_PDF"):  # to look at it: pdftoppm -png -r 60 the file
        Path(os.environ["SALON_KEEP_PDF"]).write_bytes(response.data)
    assert len(response.data) < 1_000_000
    text = _pdf_text(response.data)
    for expected in [arithmetic, next_step, "半年评议报告", world.programme.name, TITLE, RESOLUTION, IN_PROGRESS, "进行中",
                     OVERDUE, "已逾期", "部分有效", "评议的议题"]:
        assert _flat(expected) in text, expected
    fonts = _fonts(response.data)
    assert fonts and all(embedded for _name, embedded in fonts), fonts
    assert all("WenQuanYi" in name for name, _embedded in fonts), fonts

    as_api = api(world.secretaries[1])
    topic = as_api.get(f"/reviews/{review_id}").get_json()["topics"][0]
    assert topic["resolutions"] == [{"number": 1, "text": RESOLUTION}]
    assert [(a["what"], a["status"], a["overdue"]) for a in topic["actions"]] == [
        (IN_PROGRESS, "in_progress", False), (OVERDUE, "open", True)]
    from_api = as_api.get(f"/reviews/{review_id}/report.pdf")
    assert from_api.status_code == 200 and _flat(arithmetic) in _pdf_text(from_api.data)


def test_the_pdf_withholds_counts_below_the_publication_minimum(app, client, world):
    review_id = _open_review(app, world)
    _vote_and_close(app, world, review_id, voters=1)  # 1 ballot < 3: only present and oppose are published
    login(client, "bureau_a")
    text = _pdf_text(client.get(f"/reviews/{review_id}/report.pdf").data)
    assert _flat("反对 1 人 / 参会 3 人 = 33.3%，不高于 60%：委员会继续任职") in text
    assert _flat("票数不公布（选票过少）。") in text and TITLE in text and RESOLUTION in text
    assert "部分有效" not in text and "支持" not in text


def test_an_open_reviews_report_pdf_says_it_is_open(app, client, world):
    review_id = _open_review(app, world)
    login(client, "bureau_a")
    text = _pdf_text(client.get(f"/reviews/{review_id}/report.pdf").data)
    assert _flat("评议仍在进行。") in text
    assert TITLE in text and RESOLUTION in text


@contextmanager
def _counting():
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_the_review_view_costs_the_same_queries_whatever_the_number_of_topics(app, world):
    """A first review (one topic) held 20 days ago, a second one now over five topics held since: showing
    either costs the same number of SQL statements."""
    now = clock.utcnow()
    with app.test_request_context():
        db.session.execute(update(SeatHolding).values(started_at=datetime(2020, 1, 1)))
        db.session.commit()
        start = now - timedelta(days=400)  # the first review (period 1) late, the second (period 2) due now
        election = committee.open_election(world.programme, world.bureau, now=start)
        for sec, community in zip(world.secretaries, world.communities):
            committee.nominate(election, sec, community.seat.id, now=start)
        committee.open_vote(election, world.programme, world.bureau, now=start)
        committee.close_vote(election, world.programme, world.bureau, now=start + timedelta(days=1))
        held = []
        for index, when in enumerate([now - timedelta(days=60)] + [now - timedelta(days=10 - i) for i in range(5)]):
            session = _committee_topic(world, 5 + index, when, f"{TITLE}{index}")
            outcomes.add_resolution(session, world.bureau, f"决议{index}")
            outcomes.add_action(session, world.bureau, {"what": f"事项{index}", "owner_unit": "县医保局"})
            held.append(session)
        seats = [c.seat.id for c in world.communities]
        first = reviews.open_review(world.programme, world.bureau, now=now - timedelta(days=20))
        reviews.take_roll(first, world.bureau, seats, now=now - timedelta(days=20))
        reviews.close_review(first, world.programme, world.bureau, now=now - timedelta(days=19))
        second = reviews.open_review(world.programme, world.bureau, now=now)
        reviews.take_roll(second, world.bureau, seats, now=now)
        reviews.close_review(second, world.programme, world.bureau, now=now)  # both closed: the same path
        db.session.commit()
        costs = {}
        for review in (first, second):
            db.session.expire_all()
            review = reviews.get_review(review.id, world.programme.id)
            with _counting() as seen:
                view = reviews.review_view(review, world.bureau, now)
            costs[len(view.topics)] = len(seen)
            assert all(len(t.outcomes.resolutions) == 1 == len(t.outcomes.actions) for t in view.topics)
        assert sorted(costs) == [1, 5] and costs[1] == costs[5], costs
