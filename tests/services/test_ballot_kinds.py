"""The engine serving three kinds of poll: codes translated when shown, several single-choice questions,
a server-side tally below the publication minimum, eligibility that grows while the poll is open (also
racing the close), and the one vote page with radio groups."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from salon import clock
from salon.ballots import services as ballots
from salon.ballots.models import Poll, PollState
from salon.errors import Conflict, Forbidden
from salon.extensions import db
from salon.programmes import services as programmes
from salon.ballots.models import EligibleSeat
from salon.programmes.models import Seat
from salon.ballots.vote_page import BallotPage, ballot_page
from salon.rules import ballots as rules
from flask_login import login_user


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def review_like_poll(world, seat_ids, min_published=3):
    now = clock.utcnow()
    ballots.register_kind(current_app, "test-review", lambda poll: "评议", {"t_overall": _l("Overall"), "t_oppose": _l("Oppose"),
                                                              "t_support": _l("Support")})
    poll = ballots.create_poll(world.programme.id, "test-review", closes_at=now + timedelta(days=1), opens_at=now,
                               min_published=min_published)
    topic_q = ballots.add_question(poll, "议题甲", rules.SINGLE, ref_id=77)
    effective = [ballots.add_option(topic_q, code=c) for c in ("effective", "partly", "not_effective", "no_view")]
    overall = ballots.add_question(poll, kind=rules.SINGLE, code="t_overall")
    support, oppose = (ballots.add_option(overall, code=c) for c in ("t_support", "t_oppose"))
    ballots.open_poll(poll, seat_ids, world.bureau, now)
    return poll, effective, support, oppose


def test_codes_are_translated_when_shown_and_the_tally_counts_blanks(world):
    """Published from one ballot here; a sealed poll below its minimum decrypts only what its kind needs
    (tests/services/test_sealed_minimum.py)."""
    seats = [c.seat.id for c in world.communities]
    poll, effective, support, oppose = review_like_poll(world, seats[:2], min_published=1)
    with force_locale("en"):
        assert ballots.question_text(poll.questions[1]) == "Overall"
        assert ballots.option_label(oppose) == "Oppose"
    assert ballots.poll_title(poll) == "评议" and poll.title == ""
    ballots.cast(poll.id, seats[0], [effective[0].id, oppose.id], world.programme.id)
    ballots.cast(poll.id, seats[1], [oppose.id], world.programme.id)  # topic question left blank
    with pytest.raises(Conflict):
        ballots.tally(poll)  # never while open
    ballots.close_poll(poll, world.bureau)
    assert ballots.results(poll).published
    tally = ballots.tally(poll)
    overall_id, topic_id = poll.questions[1].id, poll.questions[0].id
    assert tally.by_code[overall_id] == {"t_support": 0, "t_oppose": 2}
    assert tally.by_code[topic_id]["effective"] == 1 and tally.blanks[topic_id] == 1
    assert tally.turnout == 2


def test_single_choice_allows_one_answer_per_question(world):
    seats = [c.seat.id for c in world.communities]
    poll, effective, support, oppose = review_like_poll(world, seats)
    with pytest.raises(Exception):
        ballots.cast(poll.id, seats[0], [support.id, oppose.id], world.programme.id)


def test_eligibility_grows_while_open_and_stops_at_the_close(world):
    seats = [c.seat.id for c in world.communities]
    poll, effective, support, oppose = review_like_poll(world, [])
    db.session.commit()
    with pytest.raises(Forbidden):
        ballots.cast(poll.id, seats[0], [oppose.id], world.programme.id)
    db.session.rollback()
    poll = db.session.get(Poll, poll.id)
    assert ballots.add_eligible(poll.id, seats[0], world.programme.id) is True
    assert ballots.add_eligible(poll.id, seats[0], world.programme.id) is False  # one seat, once
    assert poll.eligible_count == 1
    ballots.cast(poll.id, seats[0], [oppose.id], world.programme.id)
    ballots.close_poll(poll, world.bureau)
    with pytest.raises(Conflict):
        ballots.add_eligible(poll.id, seats[1], world.programme.id)
    assert ballots.results(poll).eligible == 1


def test_check_ins_racing_the_close_agree_with_eligible_count(app, world):
    for i in range(6):
        community = programmes.add_community(world.programme, world.bureau, f"并发社区{i}")
        programmes.hand_over_seat(community, world.bureau, f"sec_r{i}", f"书记{i}", "pw-123456789")
    db.session.commit()
    seats = list(db.session.scalars(db.select(Seat.id).where(Seat.programme_id == world.programme.id)))
    poll, *_ = review_like_poll(world, [])
    db.session.commit()
    poll_id, programme_id = poll.id, world.programme.id
    db.session.rollback()
    barrier = threading.Barrier(len(seats) + 1)
    outcomes = [None] * (len(seats) + 1)

    def run(i):
        with app.app_context(), app.test_request_context():
            barrier.wait()
            try:
                if i == len(seats):
                    ballots.close_poll(db.session.get(Poll, poll_id), None)
                    outcomes[i] = "closed"
                else:
                    outcomes[i] = ballots.add_eligible(poll_id, seats[i], programme_id)
                db.session.commit()
            except Conflict:
                db.session.rollback()
                outcomes[i] = "refused"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(seats) + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcomes[-1] == "closed"
    added = outcomes[:-1].count(True)
    assert added + outcomes[:-1].count("refused") == len(seats)
    db.session.expire_all()
    closed = db.session.get(Poll, poll_id)
    assert closed.state == PollState.CLOSED
    assert closed.eligible_count == added == db.session.scalar(
        db.select(db.func.count()).select_from(EligibleSeat).where(EligibleSeat.poll_id == poll_id))


def test_one_vote_page_shows_single_choice_as_radio_groups(app, world):
    seats = [c.seat.id for c in world.communities]
    poll, effective, support, oppose = review_like_poll(world, seats)
    db.session.commit()
    page_url = f"/test-ballot/{poll.id}"
    with app.test_request_context(page_url, method="GET"):
        login_user(world.secretaries[0])
        html, status, headers = ballot_page(BallotPage(db.session.get(Poll, poll.id), "评议", "/", page_url, seats[0]))
    assert status == 200 and "Content-Security-Policy" in headers  # a sealed poll's page: the sealing policy
    assert f'type="radio" name="q{poll.questions[0].id}"' in html and 'name="choices"' not in html
    assert html.count('type="radio"') == 4 + 2 + 2  # options, plus one blank answer per question
