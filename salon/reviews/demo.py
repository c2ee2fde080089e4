"""The demo's first half-year review (SPEC §10, §4): held at the venue after the first session once six months of
the committee's service are up, over the topics the committee chose, with sample attendance and ballots (示例);
the committee stays."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app

from salon import clock
from salon.ballots import services as ballots
from salon.committee import services as committee
from salon.programmes import services as programmes
from salon.reviews import services
from salon.rules import committee as rules
from salon.schedule import services as schedule

PRESENT = 16  # of 19
OVERALL = ["support"] * 9 + ["oppose"] * 4 + ["abstain"] * 2  # one present secretary does not vote
# Per topic, in the order of the review's questions (示例): most find the committee's topics effective; None
# leaves the question blank.
EFFECT = ["effective", "effective", "partly", "effective", None, "partly", "effective", "no_view", "effective",
          "partly", "effective", "not_effective", "effective", "partly"]


def load(programme, bureau, secretaries) -> None:
    with current_app.test_request_context():
        term = committee.sitting_term(programme.id)
        if term is None:
            return
        due = rules.review_due_at(term.started_at, 0, programme.review_period_months)
        venue = schedule.first_held_since(programme.id, due)
        if venue is None:
            return
        held = venue.starts_at + timedelta(minutes=venue.duration_minutes)
        if held + timedelta(hours=2) > clock.utcnow():
            return
        review = services.open_review(programme, bureau, now=held)
        present = [programmes.seat_of(s).id for s in secretaries[:PRESENT]]
        services.take_roll(review, bureau, present[:10], now=held)
        for user in secretaries[10:PRESENT]:  # the rest scan the QR code at the venue
            services.check_in(review, user, now=held + timedelta(minutes=5))
        poll = ballots.get(review.poll_id)
        for number, (user, choice) in enumerate(zip(secretaries, OVERALL)):
            picks = []
            for question in poll.questions:
                codes = {o.code: o.id for o in question.options}
                wanted = choice if question.code == services.OVERALL else EFFECT[(number + question.position) % len(EFFECT)]
                if wanted is not None:
                    picks.append(codes[wanted])
            ballots.cast(poll.id, programmes.seat_of(user).id, picks, programme.id, held + timedelta(minutes=30))
        services.close_review(review, programme, bureau, now=held + timedelta(hours=2))
