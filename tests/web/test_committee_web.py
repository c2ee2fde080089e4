"""The committee's pages and API: the bureau's prompt, standing, the one vote page, results with the lot."""
from __future__ import annotations

from salon.committee import services
from salon.extensions import db
from salon.programmes import services as programmes
from tests.conftest import PASSWORD, login


def test_election_through_pages_and_api(app, client, world, api):
    with app.test_request_context():
        for i in range(2):
            community = programmes.add_community(world.programme, world.bureau, f"网页社区{i}")
            programmes.hand_over_seat(community, world.bureau, f"sec_w{i}", f"书记{i}", PASSWORD)
        db.session.commit()
    bureau = api(world.bureau)
    page = client
    login(page, "sec_a1")
    body = page.get("/committee/").get_data(as_text=True)
    assert 'id="why-bureau"' in body
    election = bureau.post("/elections").get_json()
    assert election["state"] == "standing" and election["seats"] == 3
    seats = [c.seat.id for c in world.communities]
    for user, seat in zip(world.secretaries, seats):
        assert api(user).post(f"/elections/{election['id']}/candidates", json={"seat_id": seat}).status_code == 201
    assert "/committee/elections/" in page.get("/").get_data(as_text=True)
    opened = bureau.post(f"/elections/{election['id']}/voting/open", json={}).get_json()
    assert opened["state"] == "voting" and opened["poll"]["questions"][0]["max_choices"] == 3
    options = [o["id"] for o in opened["poll"]["questions"][0]["options"]]
    vote_url = f"/committee/elections/{election['id']}/vote"
    form = page.get(vote_url).get_data(as_text=True)
    assert 'type="checkbox" name="choices"' in form
    confirm = page.post(vote_url, data={"choices": [str(options[0]), str(options[1])]})
    assert 'name="confirmed" value="1"' in confirm.get_data(as_text=True)
    cast = page.post(vote_url, data={"choices": [str(options[0]), str(options[1])], "confirmed": "1"})
    assert 'id="receipt"' in cast.get_data(as_text=True)
    too_many = api(world.secretaries[1]).post(f"/polls/{opened['poll']['id']}/ballot", json={"choices": options + [options[0]]})
    assert too_many.status_code == 422
    closed = bureau.post(f"/elections/{election['id']}/voting/close").get_json()
    assert closed["state"] == "closed" and len(closed["elected"]) == 3
    assert not closed["poll"]["results"]["published"]  # one ballot: counts withheld, winners named
    assert api(world.secretaries[0]).get("/committee").get_json()["sitting"] is True
    body = page.get(f"/committee/elections/{election['id']}").get_data(as_text=True)
    assert 'id="winners"' in body
    with app.test_request_context():
        assert services.sitting_term(world.programme.id) is not None


def test_bad_input_names_the_field(world, api):
    bureau = api(world.bureau)
    election = bureau.post("/elections").get_json()
    bad = bureau.post(f"/elections/{election['id']}/extend", json={"days": "many"})
    assert bad.status_code == 422 and "days" in bad.get_data(as_text=True)
    forged = api(world.secretaries[0]).post(f"/elections/{election['id']}/candidates",
                                            json={"seat_id": world.other_community.seat.id})
    assert forged.status_code == 404
    assert bureau.get("/elections/999999").status_code == 404
