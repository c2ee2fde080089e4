"""The decide and pick pages while a sealed topic vote awaits its trustees (SPEC §3.3, §5.1): the form is shown
disabled, with the reason and the trustees still awaited by name; a post is refused and decides nothing; once
the trustees have decrypted, the form is live again. For each role that decides: the bureau, a committee member."""
from __future__ import annotations

import html
import re

import pytest

from salon.ballots import services as ballots
from salon.extensions import db
from salon.topics import services as topics
from tests.conftest import login
from tests.sealed_keys import decrypt, key_provider, make_key
from tests.services.test_sealed_minimum import topic_vote

AWAITED = re.compile(r'<span class="awaited-trustees">(.*?)</span>')


def _closed_vote(app, world, number: int, committee: bool = False):
    trustees = [world.bureau, *world.secretaries[:2]]
    key = make_key("p1-k7", user_ids=[u.id for u in trustees])
    with app.test_request_context():
        if committee:
            from tests.services.test_sealed_deciding import sitting_committee

            sitting_committee(world)
        with key_provider(app, key, kinds={"topic"}):
            session, noms, poll = topic_vote(world, 3, number=number)
            ballots.close_poll(poll, world.bureau)
        assert decrypt(poll, key, trustees=[1]) is False  # the bureau's share: 1 of the 2 needed
        db.session.commit()
        return key, trustees, session.id, [n.id for n in noms], poll.id


def _waiting(text: str, trustees, fields_id: str) -> None:
    assert f'id="{fields_id}" disabled' in text and 'id="decide-waiting"' in text
    awaited = html.unescape(AWAITED.search(text.split('id="decide-waiting"', 1)[1]).group(1))
    assert trustees[1].display_name in awaited and trustees[2].display_name in awaited
    assert trustees[0].display_name not in awaited


@pytest.mark.parametrize("role", ["bureau", "committee member"])
def test_the_decision_form_waits_for_the_trustees_and_names_them(app, world, role):
    committee = role == "committee member"
    key, trustees, session_id, noms, poll_id = _closed_vote(app, world, 9 if committee else 1, committee)
    client = app.test_client()
    login(client, "sec_a1" if committee else "bureau_a")
    url = f"/committee/sessions/{session_id}/pick" if committee else f"/topics/sessions/{session_id}/decide"
    fields_id = "pick-fields" if committee else "decide-fields"
    page = client.get(url)
    assert page.status_code == 200
    _waiting(page.get_data(as_text=True), trustees, fields_id)
    posted = client.post(url, data={"nomination_id": noms[0], "rationale": ""})
    assert posted.status_code == 422
    assert "托管人尚未解密" in posted.get_data(as_text=True)  # the reason, in the Chinese first interface
    with app.test_request_context():
        assert topics.decision_of(session_id) is None
        assert decrypt(ballots.get(poll_id), key, trustees=[3])
        db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert f'id="{fields_id}"' in page and f'id="{fields_id}" disabled' not in page and "decide-waiting" not in page
    assert client.post(url, data={"nomination_id": noms[0], "rationale": ""}).status_code == 302


def test_below_the_minimum_the_pages_say_the_counts_are_withheld_and_why(app, world):
    """A sealed topic vote with one ballot fewer than the minimum: no trustee is awaited, the result page says
    nothing was decrypted, the board page says how many counts are withheld and its download verifies."""
    from salon.sealed import board as sealed_board

    key = make_key("p1-k4")
    with app.test_request_context():
        with key_provider(app, key, kinds={"topic"}):
            session, _noms, poll = topic_vote(world, 2, number=1)
            ballots.close_poll(poll, world.bureau)
        db.session.commit()
        session_id, poll_id = session.id, poll.id
    client = app.test_client()
    login(client, "sec_a2")
    results = client.get(f"/topics/sessions/{session_id}/results").get_data(as_text=True)
    assert "awaiting-trustees" not in results and 'class="sealed-withheld"' in results
    assert "未解密任何内容" in results  # nothing was decrypted, by the trustees or anyone else
    board = client.get(f"/polls/{poll_id}/board").get_data(as_text=True)
    assert 'id="counts-withheld"' in board and "4 项计票中有 4 项不予公布" in board
    assert "未请托管人解密" in board  # the trustees were not asked
    download = client.get(f"/polls/{poll_id}/board.json").get_json()
    assert sealed_board.verify_board(download) == [] and download["withheld"] == [[True] * 4]  # the blank position too
