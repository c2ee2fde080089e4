"""What is chosen does not show in sizes (docs/secrecy-leaks.md): the confirmation page, the form it posts, the
receipt page and the API's ballot answer are as many bytes whatever was chosen, for each kind of poll; none of them
is compressed or cached, and no redirect carries a choice."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from salon import clock
from salon.accounts.models import User
from salon.ballots import services as ballots
from salon.extensions import db
from salon.programmes import services as programmes
from salon.reviews import services as reviews
from salon.rules import ballots as rules
from salon.schedule.models import Session, SessionStatus
from tests.conftest import PASSWORD, login

LONG = "长" * 80  # a nomination title at its limit
HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def _confirm(client, url: str, data: dict):
    page = client.post(url, data=data, headers={"Accept-Encoding": "gzip, br"})
    assert page.status_code == 200, page.get_data(as_text=True)
    body = page.get_data()
    assert b'name="confirmed" value="1"' in body
    assert "Content-Encoding" not in page.headers and "no-store" in page.headers["Cache-Control"]
    return page


def _cast_body(page) -> str:
    """The body the confirmation form posts (its hidden fields in document order), as a browser sends it."""
    form = page.get_data(as_text=True).split('<form method="post"', 1)[1].split("</form>", 1)[0]
    return urlencode(HIDDEN.findall(form))


def _same_size(pages) -> None:
    sizes = {len(p.get_data()) for p in pages}
    assert len(sizes) == 1, sizes
    if b'name="confirmed"' in pages[0].get_data():  # and the form each confirmation page posts
        assert len({len(_cast_body(p)) for p in pages}) == 1


def _cast(client, url: str, confirm_page):
    """Send exactly what the confirmation form posts (the `confirmed` field and the padding included)."""
    fields = HIDDEN.findall(confirm_page.get_data(as_text=True).split('<form method="post"', 1)[1])
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    receipt = client.post(url, data=data, headers={"Accept-Encoding": "gzip"})
    # A page, never a redirect whose address (kept in access logs) could carry what was chosen.
    assert receipt.status_code == 200 and b'id="receipt"' in receipt.get_data()
    assert "Content-Encoding" not in receipt.headers and "no-store" in receipt.headers["Cache-Control"]
    return receipt


def _secretary_clients(app, n: int) -> list:
    """Logged-in page clients for the first n secretaries (their names are as long as each other's)."""
    clients = []
    for i in range(1, n + 1):
        c = app.test_client()
        login(c, f"sec_a{i}")
        clients.append(c)
    return clients


def test_topic_vote_pages_are_one_size_whatever_was_chosen(app, client, world, api):
    now = clock.utcnow()
    session = Session(programme_id=world.programme.id, number=2, starts_at=now + timedelta(days=40),
                      duration_minutes=120, chair_community_id=world.communities[0].id, status=SessionStatus.PLANNED)
    db.session.add(session)
    db.session.commit()
    for user, title in zip(world.secretaries, ("短", LONG, "中等长度的议题")):
        assert api(user).post(f"/sessions/{session.id}/nominations",
                              json={"title": title, "problem": "问题"}).status_code == 201
    poll = api(world.bureau).post(f"/sessions/{session.id}/voting/open").get_json()
    question = poll["questions"][0]
    k = question["max_choices"]
    assert k >= 2
    ids = {o["label"]: o["id"] for o in question["options"]}
    short, long_, middle = ids["短"], ids[LONG], ids["中等长度的议题"]
    url = f"/topics/sessions/{session.id}/vote"
    voters = _secretary_clients(app, 3)
    choices = [[], [short], [long_], [short, middle], [long_, middle]]
    confirms = [_confirm(voters[0], url, {"choices": [str(c) for c in chosen]}) for chosen in choices]
    _same_size(confirms)
    # Each shows what was chosen (the padding hides nothing from the voter).
    assert LONG in confirms[2].get_data(as_text=True) and LONG not in confirms[1].get_data(as_text=True)
    receipts = [_cast(c, url, _confirm(c, url, {"choices": [str(x) for x in chosen]}))
                for c, chosen in zip(voters, ([], [short], [long_, middle]))]
    _same_size(receipts)
    assert api(world.bureau).get(f"/polls/{poll['id']}").get_json()["results"]["turnout"] == 3


def test_election_vote_pages_are_one_size_whatever_was_chosen(app, client, world, api):
    with app.test_request_context():
        for name in ("东", "一个名字很长很长很长很长很长很长的社区"):
            community = programmes.add_community(world.programme, world.bureau, name)
            programmes.hand_over_seat(community, world.bureau, f"sec_n{len(name)}", "书记", PASSWORD)
        db.session.commit()
    bureau = api(world.bureau)
    election = bureau.post("/elections").get_json()
    seats = [c.seat.id for c in world.communities]
    for user, seat in zip(world.secretaries, seats):
        assert api(user).post(f"/elections/{election['id']}/candidates", json={"seat_id": seat}).status_code == 201
    for username in ("sec_n1", "sec_n19"):
        user = db.session.scalar(select(User).where(User.username == username))
        seat = programmes.seat_of(user).id
        assert api(user).post(f"/elections/{election['id']}/candidates", json={"seat_id": seat}).status_code == 201
    opened = bureau.post(f"/elections/{election['id']}/voting/open", json={}).get_json()
    question = opened["poll"]["questions"][0]
    k = question["max_choices"]
    by_length = sorted(question["options"], key=lambda o: len(o["label"]))
    shortest, longest = by_length[0]["id"], by_length[-1]["id"]
    others = [o["id"] for o in by_length[1:-1]]
    url = f"/committee/elections/{election['id']}/vote"
    voters = _secretary_clients(app, 3)
    choices = [[], [shortest], [longest], others[:k], [longest] + others[:k - 1]]
    _same_size([_confirm(voters[0], url, {"choices": [str(c) for c in chosen]}) for chosen in choices])
    _same_size([_cast(c, url, _confirm(c, url, {"choices": [str(x) for x in chosen]}))
                for c, chosen in zip(voters, ([], [shortest], [longest] + others[:k - 1]))])


def test_review_vote_pages_are_one_size_whatever_was_chosen(app, world):
    from tests.services.test_reviews import committee_topic, nineteen, seat, sit_committee

    with app.test_request_context():
        users = nineteen(world)
        start = clock.utcnow() - timedelta(days=200)
        sit_committee(world, users, start)
        committee_topic(world, users, start + timedelta(days=60))
        review = reviews.open_review(world.programme, world.bureau)
        reviews.take_roll(review, world.bureau, [seat(u) for u in users[:3]])
        db.session.commit()
        poll = ballots.get(review.poll_id)
        questions = [(q.id, [o.id for o in q.options if not o.is_blank]) for q in poll.questions]
        review_id = review.id
    assert len(questions) >= 2 and all(len(options) >= 2 for _q, options in questions)
    url = f"/reviews/{review_id}/vote"
    voters = _secretary_clients(app, 3)
    (topic, topic_options), (overall, overall_options) = questions[0], questions[-1]
    forms = [{}, {f"q{topic}": topic_options[0]}, {f"q{overall}": overall_options[-1]}]
    forms += [{f"q{topic}": t, f"q{overall}": o} for t in topic_options for o in overall_options]
    confirms = [_confirm(voters[0], url, form) for form in forms]
    _same_size(confirms)
    _same_size([_cast(c, url, _confirm(c, url, form)) for c, form in zip(voters, forms[:3])])


@pytest.fixture
def labelled_poll(app, world):
    """A poll of two approval questions (up to 2 of long and short labels, ids of one and two digits) and one
    single-choice question, open to the three secretaries."""
    return _labelled_poll(app, world)


def _labelled_poll(app, world):
    with app.test_request_context():
        now = clock.utcnow()
        poll = ballots.create_poll(world.programme.id, "test", "大小", closes_at=now + timedelta(days=1), opens_at=now)
        first = ballots.add_question(poll, "Q1", rules.APPROVAL, 2)
        options = [ballots.add_option(first, label).id for label in ("甲", LONG, "乙丙丁")]
        single = ballots.add_question(poll, "Q2", rules.SINGLE)
        options += [ballots.add_option(single, label).id for label in ("是", "否，理由很长很长")]
        ballots.open_poll(poll, [c.seat.id for c in world.communities], world.bureau)
        db.session.commit()
        return poll.id, options


def test_api_ballot_answers_are_one_size_whatever_was_chosen(app, world, labelled_poll, api):
    """Plain choices through the API, sealed by the server: the answer (the fingerprint) is one size."""
    poll_id, options = labelled_poll
    answers = [api(user).post(f"/polls/{poll_id}/ballot", json={"choices": chosen}, headers={"Accept-Encoding": "gzip"})
               for user, chosen in zip(world.secretaries, ([], [options[1], options[2], options[4]],
                                                            [options[0], options[3]]))]
    assert [a.status_code for a in answers] == [201] * 3
    assert len({len(a.get_data()) for a in answers}) == 1
    assert all("Content-Encoding" not in a.headers for a in answers)
