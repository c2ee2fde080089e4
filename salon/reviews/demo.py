"""The demo's first half-year review (SPEC §10, §4): held six months into the committee's service, with
sample attendance and ballots (示例); the committee stays."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app

from salon.ballots import services as ballots
from salon.committee import services as committee
from salon.programmes import services as programmes
from salon.reviews import services
from salon.rules import committee as rules

PRESENT = 16  # of 19
OVERALL = ["support"] * 9 + ["oppose"] * 4 + ["abstain"] * 2  # one present secretary does not vote


def load(programme, bureau, secretaries) -> None:
    with current_app.test_request_context():
        term = committee.sitting_term(programme.id)
        if term is None:
            return
        held = rules.review_due_at(term.started_at, 0, programme.review_period_months) + timedelta(days=2)
        review = services.open_review(programme, bureau, now=held)
        present = [programmes.seat_of(s).id for s in secretaries[:PRESENT]]
        services.take_roll(review, bureau, present[:10], now=held)
        for user in secretaries[10:PRESENT]:  # the rest scan the QR code at the venue
            services.check_in(review, user, now=held + timedelta(minutes=5))
        poll = ballots.get(review.poll_id)
        codes = {(q.code, o.code): o.id for q in poll.questions for o in q.options}
        for user, choice in zip(secretaries, OVERALL):
            ballots.cast(poll.id, programmes.seat_of(user).id, [codes[("overall", choice)]], programme.id,
                         held + timedelta(minutes=30))
        services.close_review(review, programme, bureau, now=held + timedelta(hours=2))
