"""The demo programme walked through the whole cycle of SPEC §4: the bureau decided the first three sessions,
the first election seated a committee, which decided every topic since; the first review (the demo's) let it
stay; the committee decides the session in progress and those until its second review, where 12 of 19 present
oppose and recall it; the bureau decides meanwhile; a new election seats a committee again. At each step: who
decided each session's topic."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from salon import clock, demo
from salon.ballots import services as ballots
from salon.committee import services as committee
from salon.extensions import db
from salon.programmes import services as programmes
from salon.reviews import services as reviews
from salon.reviews.models import Review
from salon.rules import committee as rules
from salon.rules import topics as topic_rules
from salon.schedule.models import Session, SessionStatus
from salon.topics import services as topics
from salon.topics.models import TopicDecision
from salon.trustees import demo as trustees_demo
from tests.sealed_keys import demo_trustee_secrets

TODAY = datetime(2026, 11, 21, 2)


def decide_by_vote(session, programme, secretaries, bureau, pick_members=None):
    """Open voting in the session's window, everyone approves the first nomination, close, decide."""
    frame = topics.windows(session, programme, None)
    noms = topics.active_nominations(session.id)
    if not noms:
        noms = [topics.nominate(session, secretaries[5], {"title": f"议题{session.number}", "problem": "问题"},
                                frame.vote_opens - timedelta(days=1))]
    poll = topics.open_voting(session, programme, bureau, frame.vote_opens)
    first = next(o.id for o in poll.questions[0].options if o.ref_id == noms[0].id)
    for user in secretaries[:10]:
        ballots.cast(poll.id, programmes.seat_of(user).id, [first], programme.id, frame.vote_opens)
    ballots.close_poll(poll, bureau, frame.vote_closes)
    if pick_members is None:
        topics.decide(session, bureau, noms[0].id, "", now=frame.vote_closes)
    else:
        for member in pick_members:
            if topics.decision_of(session.id) is None:
                committee.record_pick(session, member, noms[0].id, "", now=frame.vote_closes)
    session.status = SessionStatus.HELD
    db.session.flush()
    return topics.decision_of(session.id)


def test_demo_through_first_election_and_two_reviews(app, monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: TODAY)
    with app.test_request_context():
        programme = demo.load()
        db.session.flush()
        # The demo's polls open sealed: its trustees decrypt each at its close, as while the demo loads.
        monkeypatch.setitem(app.extensions, trustees_demo.SECRETS, demo_trustee_secrets())
        from salon.accounts.models import User

        bureau = db.session.scalar(select(User).where(User.username == "bureau"))
        secretaries = [db.session.scalar(select(User).where(User.username == f"sec{i:02d}")) for i in range(1, 20)]
        sessions = db.session.scalars(select(Session).where(Session.programme_id == programme.id)
                                      .order_by(Session.number)).all()
        deciders = dict(db.session.execute(select(Session.number, TopicDecision.decider)
                                           .join(TopicDecision, TopicDecision.session_id == Session.id)).all())
        # The demo's history: the bureau decided the source's three; the committee every session since.
        assert deciders == {n: topic_rules.BUREAU if n <= 3 else topic_rules.COMMITTEE for n in range(1, 11)}

        # The demo's first election seated a committee; its first review (held) let it stay.
        term = committee.sitting_term(programme.id)
        assert term is not None and len(term.members) == 3
        first_review = db.session.scalar(select(Review).where(Review.programme_id == programme.id))
        assert first_review.outcome == rules.STANDS and (first_review.present, first_review.oppose) == (16, 4)
        members = [u for u in secretaries if programmes.seat_of(u).id in {m.seat_id for m in term.members}]

        # Session 11, five days away: its vote has closed and the committee decides, by the first majority of
        # signed picks.
        current = sessions[10]
        assert current.status == SessionStatus.PLANNED and topics.decision_of(current.id) is None
        assert topics.decider_for(current, programme) == topic_rules.COMMITTEE
        chosen = topics.active_nominations(current.id)[1]
        for member in members[:2]:
            committee.record_pick(current, member, chosen.id, "县卫健局愿意到会。", now=TODAY)
        assert topics.decision_of(current.id).decider == topic_rules.COMMITTEE
        assert len(committee.picks(current.id)) == 2
        current.status = SessionStatus.HELD

        # The committee goes on deciding until its second review falls due, six months after the first.
        due = rules.review_due_at(term.started_at, 1, programme.review_period_months)
        later = [s for s in sessions[11:] if s.starts_at < due + timedelta(days=35)]
        for session in later:
            decision = decide_by_vote(session, programme, secretaries, bureau, pick_members=members)
            assert decision.decider == topic_rules.COMMITTEE
        fourth = later[-1]
        assert fourth.starts_at >= due

        # The second review, after that session is held: 12 of 19 oppose → re-election. It covers the
        # committee's topics held since the first review.
        when = fourth.starts_at + timedelta(days=1)
        assert reviews.due(programme, when) is not None
        review = reviews.open_review(programme, bureau, now=when)
        covered = [s.number for s, _t in reviews.topics_in_period(term, review.period_start, when)]
        assert covered == [current.number] + [s.number for s in later]
        reviews.take_roll(review, bureau, [programmes.seat_of(u).id for u in secretaries], now=when)
        poll = ballots.get(review.poll_id)
        codes = {(q.code, o.code): o.id for q in poll.questions for o in q.options}
        votes = ["oppose"] * 12 + ["support"] * 5 + ["abstain"]
        for user, choice in zip(secretaries, votes):
            ballots.cast(poll.id, programmes.seat_of(user).id, [codes[("overall", choice)]], programme.id, when)
        reviews.close_review(review, programme, bureau, now=when + timedelta(hours=1))
        assert review.outcome == rules.TRIGGERED
        assert reviews.arithmetic(review) == "反对 12 人 / 参会 19 人 = 63.2%，高于 60%：委员会改选"
        assert committee.sitting_term(programme.id) is None

        # The next session: the bureau decides while no committee sits.
        fifth = sessions[fourth.number]
        assert topics.decider_for(fifth, programme) == topic_rules.BUREAU
        assert decide_by_vote(fifth, programme, secretaries, bureau).decider == topic_rules.BUREAU

        # The election the review opened: sitting members stand again; a new committee sits.
        election = db.session.get(committee.Election, review.election_id)
        for user in secretaries[:4]:
            committee.nominate(election, user, programmes.seat_of(user).id, now=election.created_at)
        ballot = committee.open_vote(election, programme, bureau, now=election.created_at + timedelta(days=1))
        options = [o.id for o in ballot.questions[0].options]
        for user in secretaries[:6]:
            ballots.cast(ballot.id, programmes.seat_of(user).id, options[:3], programme.id, election.created_at
                         + timedelta(days=1))
        committee.close_vote(election, programme, bureau, now=election.created_at + timedelta(days=2))
        assert committee.sitting_term(programme.id) is not None
        assert topics.decider_for(sessions[fifth.number], programme) == topic_rules.COMMITTEE

        final = dict(db.session.execute(select(Session.number, TopicDecision.decider)
                                        .join(TopicDecision, TopicDecision.session_id == Session.id)).all())
        assert final == {n: "bureau" if n <= 3 or n == fifth.number else "committee" for n in range(1, fifth.number + 1)}
