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


def test_exports_for_the_bureau_counts_only_where_published(app, client, world, api):
    from openpyxl import load_workbook
    import io


    bureau = api(world.bureau)
    election = bureau.post("/elections").get_json()
    for user, community in zip(world.secretaries, world.communities):
        api(user).post(f"/elections/{election['id']}/candidates", json={"seat_id": community.seat.id})
    bureau.post(f"/elections/{election['id']}/voting/open", json={})
    bureau.post(f"/elections/{election['id']}/voting/close")
    review = bureau.post("/reviews").get_json()
    bureau.post(f"/reviews/{review['id']}/roll", json={"seat_ids": [c.seat.id for c in world.communities]})
    overall = next(q for q in review["poll"]["questions"] if q["code"] == "overall")
    oppose = next(o["id"] for o in overall["options"] if o["code"] == "oppose")
    assert api(world.secretaries[0]).post(f"/polls/{review['poll']['id']}/ballot",
                                          json={"choices": [oppose]}).status_code == 201
    closed = bureau.post(f"/reviews/{review['id']}/close").get_json()
    assert (closed["present"], closed["oppose"], closed["outcome"]) == (3, 1, "stands")
    login(client, "bureau_a")
    csv_text = client.get(f"/reviews/{review['id']}/export.csv").get_data(as_text=True)
    assert "33.3%" in csv_text and "反对,1" in csv_text
    assert "支持" not in csv_text and "弃权" not in csv_text  # 1 ballot < 3: only oppose and present published
    xlsx = client.get(f"/committee/elections/{election['id']}/export.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert [c.value for c in sheet[1]][:2] == ["选题委员会选举", election["id"]]
    assert client.get(f"/reviews/{review['id']}/export.pdf").status_code == 404
    report = client.get(f"/reviews/{review['id']}/report").get_data(as_text=True)
    assert "反对 1 人 / 参会 3 人 = 33.3%，不高于 60%：委员会继续任职" in report
    qr = client.get(f"/reviews/{review['id']}/qr").get_data(as_text=True)
    assert "<svg" in qr and "/reviews/checkin/" in qr
