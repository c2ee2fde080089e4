"""The trustees' pages and the JSON their devices post (SPEC §5.1): only a term's trustees post, the bureau sees
the status and draws, every step refuses bad input naming the field."""
from __future__ import annotations

from salon.sealed import threshold
from salon.sealed.group import SeededNonces
from salon.trustees import services
from tests.conftest import login as first_login


def login(client, username):
    client.post("/logout")
    first_login(client, username)


def drawn(world):
    term = services.announce_draw(world.programme, world.bureau)
    return services.draw(term, world.bureau)


def test_the_bureau_publishes_the_seed_then_draws_from_the_page(client, world):
    login(client, "bureau_a")
    page = client.get("/trustees/")
    assert b"/trustees/announce" in page.data
    client.post("/trustees/announce")
    page = client.get("/trustees/")
    term = services.current_drawn(world.programme.id)
    assert term.seed.encode() in page.data and f"/trustees/{term.id}/draw".encode() in page.data
    assert client.post(f"/trustees/{term.id}/draw").status_code == 302
    page = client.get(f"/trustees/{term.id}")
    assert page.status_code == 200
    assert "景翼社区书记".encode() in page.data and b'id="lot"' in page.data
    # The bureau member who drew is trustee 1: their page carries the device and its import map.
    assert b'type="importmap"' in page.data and b"trustees.js" in page.data
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self' 'sha256-" in policy and "unsafe-inline" not in policy


def test_only_a_terms_trustees_post_and_bad_input_names_the_field(client, world):
    term = drawn(world)
    login(client, "bureau_b")  # another programme: the term does not exist for them
    assert client.get(f"/trustees/{term.id}/device").status_code == 404
    login(client, "sec_a1")
    me = next(t for t in term.trustees if t.user.username == "sec_a1")
    state = client.get(f"/trustees/{term.id}/device").get_json()
    assert state["me"] == me.index and state["state"] == "dealing"
    dealing = threshold.deal(term.key_term, me.index, term.threshold, SeededNonces("w")).public()
    bad = client.post(f"/trustees/{term.id}/device/dealing",
                      json={"round": 1, "transport_key": dealing["commitments"][0],
                            "commitments": dealing["commitments"], "proofs": dealing["proofs"][::-1]})
    assert bad.status_code == 422 and "proofs" in bad.get_json()["error"]["fields"]
    ok = client.post(f"/trustees/{term.id}/device/dealing",
                     json={"round": 1, "transport_key": dealing["commitments"][0],
                           "commitments": dealing["commitments"], "proofs": dealing["proofs"]})
    assert ok.status_code == 200 and ok.get_json()["trustees"][me.index - 1]["dealt"] is True
    again = client.post(f"/trustees/{term.id}/device/dealing",
                        json={"round": 1, "transport_key": dealing["commitments"][0],
                              "commitments": dealing["commitments"], "proofs": dealing["proofs"]})
    assert again.status_code == 409


def test_the_bureau_sees_who_is_awaited_and_the_home_page_prompts(client, world):
    login(client, "bureau_a")
    assert "尚无可用的托管密钥" in client.get("/").get_data(as_text=True)  # the bureau is prompted to draw
    term = drawn(world)
    assert "尚无可用的托管密钥" not in client.get("/").get_data(as_text=True)  # a draw is under way
    page = client.get(f"/trustees/{term.id}").get_data(as_text=True)
    assert page.count('class="badge off"') == 4  # nobody has dealt
    login(client, "sec_a2")
    home = client.get("/").get_data(as_text=True)
    assert f"/trustees/{term.id}" in home


def test_the_term_page_says_who_is_still_awaited_for_a_closed_poll(app, client, world, monkeypatch):
    from tests.services.test_trustees import make_ready
    from tests import sealed_doubles

    sealed_doubles.use_fake_polls(monkeypatch)
    term = drawn(world)
    make_ready(term)
    sealed_doubles.closed_sealed_poll(app, world.programme.id, services.poll_key(term), [[0], [1]], poll_id=4242)
    login(client, "bureau_a")
    page = client.get(f"/trustees/{term.id}").get_data(as_text=True)
    assert 'id="awaited"' in page
    names = "、".join(t.user.display_name for t in term.trustees)
    assert names in page
    login(client, "sec_a2")
    home = client.get("/").get_data(as_text=True)
    assert f'href="/trustees/{term.id}"' in home  # the decryption task links to the term's page


def test_the_ceremony_runs_through_the_api_to_a_ready_key(client, world):
    from tests.conftest import token_for

    term = drawn(world)
    tokens = {t.index: {"Authorization": f"Bearer {token_for(t.user)}"} for t in term.trustees}
    base = f"/api/v1/trustees/terms/{term.id}"
    dealt = {}
    for index, headers in tokens.items():
        dealing = threshold.deal(term.key_term, index, term.threshold, SeededNonces(f"api-{index}"))
        public = dealing.public()
        answer = client.post(f"{base}/dealing", headers=headers, json={
            "round": 1, "transport_key": public["commitments"][0], "commitments": public["commitments"],
            "proofs": public["proofs"]})
        assert answer.status_code == 200, answer.get_json()
        dealt[index] = dealing
    assert client.get(base, headers=tokens[1]).get_json()["state"] == "sharing"
    for index, headers in tokens.items():
        answer = client.post(f"{base}/shares", headers=headers, json={"round": 1, "shares": [
            {"recipient": other, "ciphertext": "cd" * 60} for other in tokens if other != index]})
        assert answer.status_code == 200
    mine = client.get(base, headers=tokens[2]).get_json()
    assert mine["state"] == "checking" and sorted(s["dealer"] for s in mine["shares"]) == [1, 3, 4]
    key = threshold.joint_key({i: d.commitments for i, d in dealt.items()}).hex()
    wrong = client.post(f"{base}/confirm", headers=tokens[1], json={"round": 1, "public_key": mine["trustees"][0]
                                                                    ["transport_key"]})
    assert wrong.status_code == 422 and "public_key" in wrong.get_json()["error"]["fields"]
    for headers in tokens.values():
        assert client.post(f"{base}/confirm", headers=headers, json={"round": 1, "public_key": key}).status_code == 200
    listed = client.get("/api/v1/trustees/terms", headers=tokens[3]).get_json()
    assert listed[0]["state"] == "ready" and listed[0]["public_key"] == key and listed[0]["threshold"] == 3
