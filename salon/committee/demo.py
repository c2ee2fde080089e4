"""The demo's committee (SPEC §10, §4): elected after the bureau's three sessions, from sample ballots (示例)."""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app

from salon.ballots import services as ballots
from salon.committee import services
from salon.programmes import services as programmes
from salon.rules.calendar_rules import to_utc

OPENED = date(2023, 8, 3)
# (secretary index, nominated by index): 景翼, 渭运 and three sample communities stand.
STANDING = [(0, 0), (1, 1), (4, 2), (7, 7), (10, 0)]
# Sample approval ballots (示例), candidate positions in STANDING order.
BALLOTS = [[0, 1, 2], [0, 1], [1, 2], [0, 2, 3], [0, 1, 4], [1, 3], [0, 1, 2], [2, 4], [0, 1], [1, 2, 3],
           [0, 2], [0, 1, 3], [4], [0, 1, 2], [1], []]


def load(programme, bureau, secretaries) -> None:
    with current_app.test_request_context():
        opened = to_utc(OPENED, 9, 0, programme.timezone)
        election = services.open_election(programme, bureau, now=opened)
        for candidate, by in STANDING:
            seat = programmes.seat_of(secretaries[candidate])
            services.nominate(election, secretaries[by], seat.id, now=opened + timedelta(hours=1))
            if candidate != by:
                services.accept(election, secretaries[candidate], now=opened + timedelta(days=1))
        voting = opened + timedelta(days=7)
        poll = services.open_vote(election, programme, bureau, now=voting)
        options = [o.id for o in poll.questions[0].options]  # in seat order, as STANDING's seats are
        order = sorted(range(len(STANDING)), key=lambda i: programmes.seat_of(secretaries[STANDING[i][0]]).id)
        position = {standing_index: options[rank] for rank, standing_index in enumerate(order)}
        for voter, picks in zip(secretaries, BALLOTS):
            ballots.cast(poll.id, programmes.seat_of(voter).id, [position[i] for i in picks], programme.id, voting)
        services.close_vote(election, programme, bureau, now=voting + timedelta(days=7))
