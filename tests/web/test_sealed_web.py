"""A sealed topic poll through the API and the pages (SPEC §5.1): the seal spec in the poll, a ballot sealed by
the voter and one sealed by the server, the vote page sealing in the browser (its import map allowed by hash)
or, without JavaScript, the server's confirmation step; the bulletin board as API, page and download."""
from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest

from salon import clock
from salon.ballots import services as ballots
from salon.extensions import db
from salon.schedule.models import Session, SessionStatus
from salon.sealed import ballot as sealed_ballot
from salon.sealed import board as sealed_board
from salon.security import IMPORT_MAP, IMPORT_MAP_HASH
from salon.programmes import services as programmes
from tests.conftest import PASSWORD, login
from tests.sealed_keys import decrypt, key_provider, make_key, seal_choices
from tests.web.test_ballot_sizes import LONG, _cast, _confirm, _same_size, _secretary_clients

KEY = make_key("p1-k9")
FINGERPRINT = re.compile(r'<code id="receipt">([0-9a-f]{64})</code>')


def _sealed_topic_poll(app, world, api, extra_voters: int = 0, key=KEY) -> tuple[int, dict]:
    with app.test_request_context():
        for i in range(1, extra_voters + 1):
            community = programmes.add_community(world.programme, world.bureau, f"新社区{i}")
            programmes.hand_over_seat(community, world.bureau, f"sec_x{i}", "新社区书记" + "甲乙丙"[i - 1], PASSWORD)
        db.session.commit()
    now = clock.utcnow()
    session = Session(programme_id=world.programme.id, number=2, starts_at=now + timedelta(days=40),
                      duration_minutes=120, chair_community_id=world.communities[0].id, status=SessionStatus.PLANNED)
    db.session.add(session)
    db.session.commit()
    for user, title in zip(world.secretaries, ("短", LONG, "中等长度的议题")):
        assert api(user).post(f"/sessions/{session.id}/nominations",
                              json={"title": title, "problem": "问题"}).status_code == 201
    with key_provider(app, key):
        poll = api(world.bureau).post(f"/sessions/{session.id}/voting/open").get_json()
    return session.id, poll


def test_a_sealed_topic_poll_through_the_api(app, world, api):
    session_id, poll = _sealed_topic_poll(app, world, api)
    spec = poll["sealed"]
    assert spec["format"] == "salon-seal-spec-2" and spec["public_key"] == KEY.record["public_key"]
    assert spec["protocol"] == "salon-sealed-2"
    question = poll["questions"][0]
    # the options, then the blank position (option id null): it counts the blank ballots
    assert spec["questions"][0]["option_ids"] == [o["id"] for o in question["options"]] + [None]
    assert spec["questions"][0]["blank"] == len(question["options"])
    ids = spec["questions"][0]["option_ids"]
    first, second, third = (api(u) for u in world.secretaries)

    ballot = seal_choices(ballots.get(poll["id"]), [[1, 1, 0]])
    answer = first.post(f"/polls/{poll['id']}/ballot", json={"sealed": ballot})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["receipt"] == sealed_ballot.fingerprint(ballot)
    both = third.post(f"/polls/{poll['id']}/ballot", json={"sealed": ballot, "choices": []})
    assert both.status_code == 422
    assert second.post(f"/polls/{poll['id']}/ballot", json={"choices": [ids[1]]}).status_code == 201
    tampered = seal_choices(ballots.get(poll["id"]), [[0, 0, 1]], seed="third")
    tampered["answers"][0]["choices"][0]["beta"] = tampered["answers"][0]["choices"][1]["beta"]
    refused = third.post(f"/polls/{poll['id']}/ballot", json={"sealed": tampered})
    assert refused.status_code == 422 and "sealed" in refused.get_json()["error"]["fields"]
    assert third.post(f"/polls/{poll['id']}/ballot", json={"choices": []}).status_code == 201

    assert api(world.bureau).post(f"/sessions/{session_id}/voting/close").status_code in (200, 201)
    assert first.get(f"/polls/{poll['id']}/board").status_code == 409
    shown = first.get(f"/polls/{poll['id']}").get_json()["results"]
    assert shown["awaiting_trustees"] and not shown["published"] and shown["counts"] == []
    page = app.test_client()
    login(page, "sec_a1")
    waiting = page.get(f"/topics/sessions/{session_id}/results").get_data(as_text=True)
    assert 'class="awaiting-trustees"' in waiting

    assert decrypt(ballots.get(poll["id"]), KEY, trustees=[2, 3])
    db.session.commit()
    board = first.get(f"/polls/{poll['id']}/board")
    assert board.status_code == 200
    assert sealed_board.verify_board(board.get_json()) == []
    assert board.get_json()["result"] == [[1, 2, 0, 1]]  # the third ballot blank, sealed by the server
    receipts = first.get(f"/polls/{poll['id']}/receipts").get_json()["receipts"]
    assert receipts == sorted(e["fingerprint"] for e in board.get_json()["ballots"]) and len(receipts) == 3
    counts = {c["option_id"]: c["n"] for c in first.get(f"/polls/{poll['id']}").get_json()["results"]["counts"]}
    assert [counts[i] for i in ids[:3]] == [1, 2, 0]
    shown = first.get(f"/polls/{poll['id']}").get_json()["results"]
    assert shown["blank"] == 1 and shown["blanks"] == [{"question_id": question["id"], "n": 1}]
    assert shown["blanks_counted"] is True

    results = page.get(f"/topics/sessions/{session_id}/results").get_data(as_text=True)
    assert f"/polls/{poll['id']}/board" in results and 'class="awaiting-trustees"' not in results
    assert '<p class="small muted" id="blank-count">空白票：1 张。</p>' in results
    mine = sealed_ballot.fingerprint(ballot)
    found = page.get(f"/polls/{poll['id']}/board?receipt={mine}").get_data(as_text=True)
    assert 'id="fingerprint-found"' in found and "verify_board.py" in found and 'id="board-download"' in found
    missing = page.get(f"/polls/{poll['id']}/board?receipt={'0' * 64}").get_data(as_text=True)
    assert 'id="fingerprint-missing"' in missing and 'id="fingerprint-found"' not in missing
    download = page.get(f"/polls/{poll['id']}/board.json")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert sealed_board.report(download.get_data())[0]


def test_the_vote_page_seals_in_the_browser_or_on_the_server(app, world, api):
    session_id, poll = _sealed_topic_poll(app, world, api, extra_voters=1)
    ids = poll["sealed"]["questions"][0]["option_ids"]
    url = f"/topics/sessions/{session_id}/vote"
    voters = _secretary_clients(app, 3)
    page = voters[0].get(url)
    body = page.get_data(as_text=True)
    assert f'<script type="importmap">{IMPORT_MAP}</script>' in body and "sealed-vote.js" in body
    assert f"'{IMPORT_MAP_HASH}'" in page.headers["Content-Security-Policy"]
    spec = json.loads(html.unescape(body.split("data-seal-spec='", 1)[1].split("'", 1)[0]))
    assert spec == poll["sealed"]
    assert 'id="no-script"' in body  # without JavaScript the page says the server seals

    # Without JavaScript: the server's confirmation step, one size whatever was chosen; the server seals.
    choices = [[], [ids[0]], [ids[1]], [ids[0], ids[2]], [ids[1], ids[2]]]
    confirms = [_confirm(voters[0], url, {"choices": [str(c) for c in chosen]}) for chosen in choices]
    _same_size(confirms)
    assert 'id="server-seals"' in confirms[0].get_data(as_text=True)
    receipts = [_cast(voters[i], url, _confirm(voters[i], url, {"choices": [str(c) for c in chosen]}))
                for i, chosen in ((1, []), (2, [ids[1], ids[2]]))]
    _same_size(receipts)
    assert all(FINGERPRINT.search(r.get_data(as_text=True)) for r in receipts)
    assert 'id="sealed-by-server"' in receipts[0].get_data(as_text=True)

    # With JavaScript: only the sealed ballot is posted (what sealed-vote.js sends), and its receipt page is
    # as long as any other sealed ballot's.
    sealed_pages = []
    for seed, rows in (("a", [[0, 0, 0]]), ("b", [[1, 1, 0]])):
        ballot = seal_choices(ballots.get(poll["id"]), rows, seed=seed)
        client = voters[0] if seed == "a" else _voter(app, "sec_x1")
        answer = client.post(url, data={"sealed": sealed_ballot.canonical_json(ballot).decode(), "confirmed": "1"})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert FINGERPRINT.search(answer.get_data(as_text=True))[1] == sealed_ballot.fingerprint(ballot)
        assert 'id="sealed-by-voter"' in answer.get_data(as_text=True)
        assert "no-store" in answer.headers["Cache-Control"]
        sealed_pages.append(answer)
    _same_size(sealed_pages)
    # What the script posts is as long whatever was chosen: fixed-size points and scalars, one sum-proof branch
    # per allowed total of the question, in every ballot.
    posted = {len(sealed_ballot.canonical_json(seal_choices(ballots.get(poll["id"]), rows, seed="size")))
              for rows in ([[0, 0, 0]], [[1, 0, 0]], [[0, 1, 1]])}
    assert len(posted) == 1, posted
    second = sealed_ballot.canonical_json(seal_choices(ballots.get(poll["id"]), [[0, 0, 1]], seed="c")).decode()
    assert voters[0].post(url, data={"sealed": second, "confirmed": "1"}).status_code == 409  # the seat voted
    assert voters[2].post(url, data={"sealed": "{not json", "confirmed": "1"}).status_code == 422
    assert api(world.bureau).get(f"/polls/{poll['id']}").get_json()["results"]["turnout"] == 4


def test_a_copied_sealed_ballot_is_refused_and_the_seat_may_still_vote(app, world, api):
    """A ballot repeating another's ciphertexts is refused (422) after its seat's record was written in the same
    transaction; the rollback removes it, and the page must not say the seat voted: its own ballot is counted."""
    session_id, poll = _sealed_topic_poll(app, world, api)
    url = f"/topics/sessions/{session_id}/vote"
    first, second = _secretary_clients(app, 2)
    ballot = sealed_ballot.canonical_json(seal_choices(ballots.get(poll["id"]), [[1, 0, 0]], seed="first")).decode()
    assert first.post(url, data={"sealed": ballot, "confirmed": "1"}).status_code == 200
    copied = second.post(url, data={"sealed": ballot, "confirmed": "1"})
    body = copied.get_data(as_text=True)
    assert copied.status_code == 422 and "您已投票。" not in body
    assert 'id="no-script"' in body  # the vote form again
    own = sealed_ballot.canonical_json(seal_choices(ballots.get(poll["id"]), [[0, 1, 0]], seed="own")).decode()
    assert second.post(url, data={"sealed": own, "confirmed": "1"}).status_code == 200
    assert api(world.bureau).get(f"/polls/{poll['id']}").get_json()["results"]["turnout"] == 2


def _voter(app, username: str):
    client = app.test_client()
    login(client, username)
    return client


def test_the_pages_name_the_trustees_still_awaited(app, world, api):
    """A closed sealed poll's result and board pages say m of k and who is still awaited, by name; a trustee
    who has decrypted is no longer named, and once k have decrypted nobody is."""
    trustees = [world.bureau, *world.secretaries[:2]]
    key = make_key("p1-k8", user_ids=[u.id for u in trustees])
    session_id, poll = _sealed_topic_poll(app, world, api, key=key)
    for voter in world.secretaries:  # as many ballots as the publication minimum: the counts are decrypted
        assert api(voter).post(f"/polls/{poll['id']}/ballot", json={"choices": []}).status_code == 201
    assert api(world.bureau).post(f"/sessions/{session_id}/voting/close").status_code in (200, 201)
    assert not decrypt(ballots.get(poll["id"]), key, trustees=[1])
    db.session.commit()
    page = app.test_client()
    login(page, "sec_a3")
    results = page.get(f"/topics/sessions/{session_id}/results").get_data(as_text=True)
    board = page.get(f"/polls/{poll['id']}/board").get_data(as_text=True)
    for shown in (results, board):
        awaited = html.unescape(re.search(r'<span class="awaited-trustees">(.*?)</span>', shown).group(1))
        assert trustees[1].display_name in awaited and trustees[2].display_name in awaited
        assert trustees[0].display_name not in awaited
    assert "1 位，需要 2 位" in results

    assert decrypt(ballots.get(poll["id"]), key, trustees=[3])
    db.session.commit()
    results = page.get(f"/topics/sessions/{session_id}/results").get_data(as_text=True)
    assert "awaited-trustees" not in results and f"/polls/{poll['id']}/board" in results
    # The voter finds their receipt, the fingerprint, in the result page's list, pasted in capitals or not.
    mine = page.get(f"/topics/sessions/{session_id}/results").get_data(as_text=True)
    fingerprint = re.search(r'<ul class="receipts"><li><code>([0-9a-f]{64})</code>', mine).group(1)
    found = page.get(f"/topics/sessions/{session_id}/results?receipt=+{fingerprint.upper()}+").get_data(as_text=True)
    assert "flash-success" in found and 'maxlength="80"' in found


def test_a_version_1_poll_open_across_the_upgrade_stays_version_1_to_its_board(app, world, api):
    """A poll opened before protocol salon-sealed-2 (migration 0017 gives it protocol 1) is cast, closed, decrypted
    and published as version 1: its seal spec, its ballots (a v2 ballot is refused), the server's sealing, its
    board (salon-sealed-board-2, which the verifier still reads); its pages say its blank ballots were not counted."""
    from sqlalchemy import update

    from salon.ballots.models import SealedKey
    from salon.ballots.services import sealing
    from salon.sealed.group import Point, SeededNonces

    key = make_key("p1-k8")
    session_id, poll = _sealed_topic_poll(app, world, api, key=key)
    with app.test_request_context():
        db.session.execute(update(SealedKey).where(SealedKey.poll_id == poll["id"]).values(protocol=1))
        db.session.commit()
        sealing.forget_shape(poll["id"])
    first, second, third = (api(u) for u in world.secretaries)
    spec = first.get(f"/polls/{poll['id']}").get_json()["sealed"]
    assert spec["format"] == "salon-seal-spec-1" and "protocol" not in spec
    ids = spec["questions"][0]["option_ids"]
    assert None not in ids and spec["questions"][0]["blank"] is None

    question = spec["questions"][0]
    as_v2 = sealed_ballot.seal(spec["poll"], Point.from_hex(spec["public_key"]),
                               [sealed_ballot.Question(question["id"], len(ids) + 1, 0, question["max"], True)],
                               [[0] * len(ids) + [1]], SeededNonces("v2"), 2)
    refused = first.post(f"/polls/{poll['id']}/ballot", json={"sealed": as_v2})
    assert refused.status_code == 422 and "sealed" in refused.get_json()["error"]["fields"]
    ballot = seal_choices(ballots.get(poll["id"]), [[1, 1, 0]])
    assert "protocol" not in ballot
    assert first.post(f"/polls/{poll['id']}/ballot", json={"sealed": ballot}).status_code == 201
    assert second.post(f"/polls/{poll['id']}/ballot", json={"choices": [ids[1]]}).status_code == 201
    assert third.post(f"/polls/{poll['id']}/ballot", json={"choices": []}).status_code == 201
    assert api(world.bureau).post(f"/sessions/{session_id}/voting/close").status_code in (200, 201)
    assert decrypt(ballots.get(poll["id"]), key, trustees=[1, 2])
    db.session.commit()

    board = first.get(f"/polls/{poll['id']}/board").get_json()
    assert board["format"] == "salon-sealed-board-2" and "protocol" not in board
    assert sealed_board.verify_board(board) == [] and board["result"] == [[1, 2, 0]]
    assert all("protocol" not in e["ballot"] for e in board["ballots"])
    shown = first.get(f"/polls/{poll['id']}").get_json()["results"]
    assert shown["published"] and shown["blanks"] == [] and shown["blanks_counted"] is False
    page = app.test_client()
    login(page, "sec_a1")
    results = page.get(f"/topics/sessions/{session_id}/results").get_data(as_text=True)
    assert '<p class="small muted" id="blank-count">空白票：未计。' in results
