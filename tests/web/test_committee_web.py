"""The committee's pages and API: the bureau's home-page prompts (first election, too few candidates, a review due
or void), standing, the one vote page, who decides and why on the programme's pages, and the exports (page and
API) with counts only where SPEC §5 publishes them."""
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
    review = bureau.post("/reviews", json={"reason": "提前评议（测试）", "confirm_empty": True}).get_json()
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
    # The file says what it is: the programme, the table, its date and period first, on a named sheet.
    assert sheet.title == "选题委员会选举"
    assert [sheet.cell(row=r, column=1).value for r in range(1, 5)] == ["甲县沙龙", "选题委员会选举", "日期", "涵盖期间"]
    assert ["选题委员会选举", election["id"]] in [[c.value for c in row][:2] for row in sheet.iter_rows()]
    assert client.get(f"/reviews/{review['id']}/export.pdf").status_code == 404
    report = client.get(f"/reviews/{review['id']}/report").get_data(as_text=True)
    assert "反对 1 人 / 参会 3 人 = 33.3%，不高于 60%：委员会继续任职" in report
    qr = client.get(f"/reviews/{review['id']}/qr").get_data(as_text=True)
    assert "<svg" not in qr and "/reviews/checkin/" not in qr  # closed: no code to scan
    assert 'id="checkin-closed"' in qr
    token = api(world.bureau).get(f"/reviews/{review['id']}/checkin-token")  # the API says the same as the page
    assert token.status_code == 409 and list(token.get_json()["error"]["fields"]) == ["review"]


def _home(client) -> str:
    return client.get("/").get_data(as_text=True)


def _tasks(page: str) -> str:
    """The home page's to-do list only (the menu links to the same rooms)."""
    return page.split('class="rows tasks"')[1].split("</ul>")[0] if 'class="rows tasks"' in page else ""


def _held(world, *numbers):
    from datetime import timedelta

    from salon import clock
    from salon.schedule.models import Session, SessionStatus

    for n in numbers:
        db.session.add(Session(programme_id=world.programme.id, number=n, status=SessionStatus.HELD,
                               starts_at=clock.utcnow() - timedelta(days=100 - n)))
    db.session.commit()


def test_bureau_is_prompted_on_the_home_page_to_open_the_first_election_and_told_of_too_few_candidates(
        app, client, world, api):
    first = "请开始第一次选题委员会选举"
    with app.test_request_context():
        _held(world, 1, 2)
    login(client, "bureau_a")
    assert first not in _tasks(_home(client))  # two of the three bureau-decided sessions held
    with app.test_request_context():
        _held(world, 3)
    tasks = _tasks(_home(client))
    assert first in tasks and 'href="/committee/"' in tasks
    page = client.get("/committee/").get_data(as_text=True)
    assert first in page and 'action="/committee/elections"' in page
    secretary = app.test_client()
    login(secretary, "sec_a1")
    assert first not in _tasks(_home(secretary))

    election = api(world.bureau).post("/elections").get_json()
    assert first not in _tasks(_home(client))
    assert f"/committee/elections/{election['id']}" in _tasks(_home(secretary))  # stand, or nominate
    api(world.secretaries[0]).post(f"/elections/{election['id']}/candidates",
                                   json={"seat_id": world.communities[0].seat.id})
    # Standing has just opened: too few stand so far, but that is no alarm yet.
    assert "候选人少于席位" not in _tasks(_home(client))
    assert 'id="fewer"' not in client.get(f"/committee/elections/{election['id']}").get_data(as_text=True)
    with app.test_request_context():  # two days before standing closes, the alarm comes
        from datetime import timedelta

        from salon import clock
        from salon.committee.models import Election

        db.session.get(Election, election["id"]).standing_until = clock.utcnow() + timedelta(days=2)
        db.session.commit()
    tasks = _tasks(_home(client))
    assert "候选人少于席位" in tasks and f"/committee/elections/{election['id']}" in tasks
    body = client.get(f"/committee/elections/{election['id']}").get_data(as_text=True)
    assert 'id="fewer"' in body and f"/committee/elections/{election['id']}/extend" in body
    refused = client.post(f"/committee/elections/{election['id']}/open-vote", data={})
    assert refused.status_code == 409 and "1" in refused.get_data(as_text=True)  # 1 candidate for 3 seats
    before = election["standing_until"]
    assert client.post(f"/committee/elections/{election['id']}/extend", data={"days": "5"}).status_code == 302
    assert api(world.bureau).get(f"/elections/{election['id']}").get_json()["standing_until"] > before
    for user, community in zip(world.secretaries[1:], world.communities[1:]):
        api(user).post(f"/elections/{election['id']}/candidates", json={"seat_id": community.seat.id})
    assert "候选人少于席位" not in _tasks(_home(client))
    assert 'id="fewer"' not in client.get(f"/committee/elections/{election['id']}").get_data(as_text=True)


def _seat_committee(world, api):
    bureau = api(world.bureau)
    election = bureau.post("/elections").get_json()
    for user, community in zip(world.secretaries, world.communities):
        api(user).post(f"/elections/{election['id']}/candidates", json={"seat_id": community.seat.id})
    bureau.post(f"/elections/{election['id']}/voting/open", json={})
    bureau.post(f"/elections/{election['id']}/voting/close")
    return election


def _age_the_committee(world, days: int):
    from datetime import timedelta

    term = services.sitting_term(world.programme.id)
    term.started_at -= timedelta(days=days)
    db.session.commit()


def test_bureau_is_prompted_when_a_review_is_due_and_to_hold_a_void_one_again(app, client, world, api):
    due, again = "半年评议已到期", "请重新举行"
    _seat_committee(world, api)
    login(client, "bureau_a")
    assert due not in _tasks(_home(client))  # a committee seated today: not due for six months
    with app.test_request_context():
        _age_the_committee(world, 180)
    assert due not in _tasks(_home(client))  # not quite six months of service
    with app.test_request_context():
        _age_the_committee(world, 5)
    tasks = _tasks(_home(client))
    assert due in tasks and 'href="/reviews/"' in tasks
    secretary = app.test_client()
    login(secretary, "sec_a2")
    assert due not in _tasks(_home(secretary))

    review = api(world.bureau).post("/reviews", json={"reason": "提前评议（测试）", "confirm_empty": True}).get_json()
    assert due not in _tasks(_home(client))
    assert f"/reviews/{review['id']}" in _tasks(_home(secretary))  # check in, then vote
    api(world.bureau).post(f"/reviews/{review['id']}/roll", json={"seat_ids": [world.communities[0].seat.id]})
    closed = api(world.bureau).post(f"/reviews/{review['id']}/close").get_json()
    assert closed["outcome"] == "void" and closed["election_id"] is None  # 1 of 3 present: no quorum
    tasks = _tasks(_home(client))
    assert again in tasks and due not in tasks  # one task says it once: hold it again
    body = client.get(f"/reviews/{review['id']}").get_data(as_text=True)
    assert "无效" in body and "重新举行" in body


def test_the_programmes_pages_show_the_sitting_committee_or_why_the_bureau_decides(app, client, world, api):
    from datetime import timedelta

    from salon import clock
    from salon.schedule.models import Session

    with app.test_request_context():
        later = Session(programme_id=world.programme.id, number=7, starts_at=clock.utcnow() + timedelta(days=40),
                        chair_community_id=world.communities[0].id)
        early = Session(programme_id=world.programme.id, number=2, starts_at=clock.utcnow() + timedelta(days=10),
                        chair_community_id=world.communities[0].id)
        db.session.add_all([later, early])
        db.session.commit()
        later_id, early_id = later.id, early.id
    login(client, "sec_a3")

    def who(session_id):
        page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
        return page.split('id="who-decides"')[1].split("</p>")[0]

    none_yet = "尚未选出选题委员会，由民政局确定议题。"
    assert none_yet in client.get("/committee/").get_data(as_text=True)
    assert none_yet in who(later_id)
    first_three = "本项目前 3 期的议题由民政局确定。"
    assert first_three in who(early_id) and none_yet not in who(early_id)
    assert api(world.secretaries[2]).get("/committee").get_json()["bureau_decides_because"] == none_yet

    _seat_committee(world, api)
    page = client.get("/committee/").get_data(as_text=True)
    sitting = page.split('id="sitting"')[1].split("</section>")[0]
    assert 'id="why-bureau"' not in page
    assert "由现任选题委员会按多数意见确定" in who(later_id)
    for community in world.communities:
        assert community.name in sitting and community.name in who(later_id)
    assert none_yet not in who(later_id) and first_three in who(early_id)  # the first sessions stay the bureau's

    with app.test_request_context():
        services.end_term(services.sitting_term(world.programme.id), "recalled", world.bureau, clock.utcnow())
        db.session.commit()
    recalled = "选题委员会经半年评议改选，新一届产生前由民政局确定议题。"
    assert recalled in client.get("/committee/").get_data(as_text=True)
    assert recalled in who(later_id)
    assert api(world.secretaries[2]).get("/committee").get_json()["bureau_decides_because"] == recalled


def _rows(response) -> list[list[str]]:
    import csv
    import io

    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_election_exports_withhold_approvals_below_the_minimum_and_show_them_above(app, client, world, api):
    from openpyxl import load_workbook
    import io

    from salon import clock

    bureau = api(world.bureau)
    election = bureau.post("/elections").get_json()
    for user, community in zip(world.secretaries, world.communities):
        api(user).post(f"/elections/{election['id']}/candidates", json={"seat_id": community.seat.id})
    opened = bureau.post(f"/elections/{election['id']}/voting/open", json={}).get_json()
    options = [o["id"] for o in opened["poll"]["questions"][0]["options"]]
    assert bureau.get(f"/elections/{election['id']}/export.csv").status_code == 409  # not closed yet
    api(world.secretaries[0]).post(f"/polls/{opened['poll']['id']}/ballot", json={"choices": options[:2]})
    api(world.secretaries[1]).post(f"/polls/{opened['poll']['id']}/ballot", json={"choices": options[:1]})
    bureau.post(f"/elections/{election['id']}/voting/close")
    login(client, "bureau_a")
    rows = _rows(client.get(f"/committee/elections/{election['id']}/export.csv"))
    names = {c.name for c in world.communities}
    candidates = [r for r in rows if r and " · " in r[0] and r[0].split(" · ")[0] in names]  # "社区 · 书记"
    assert len(candidates) == 3 and all(r[1:] == ["不公布"] for r in candidates), rows  # 2 ballots < 3
    assert ["投票", "投票人数", "2"] in rows
    assert _rows(bureau.get(f"/elections/{election['id']}/export.csv")) == rows  # the API gives the same table
    assert api(world.secretaries[0]).get(f"/elections/{election['id']}/export.csv").status_code == 403

    # A second election with three ballots publishes each candidate's approvals.
    with app.test_request_context():
        services.end_term(services.sitting_term(world.programme.id), "recalled", world.bureau,
                          clock.utcnow())
        db.session.commit()
    election = bureau.post("/elections").get_json()
    for user, community in zip(world.secretaries, world.communities):
        api(user).post(f"/elections/{election['id']}/candidates", json={"seat_id": community.seat.id})
    opened = bureau.post(f"/elections/{election['id']}/voting/open", json={}).get_json()
    options = [o["id"] for o in opened["poll"]["questions"][0]["options"]]
    for user, choices in zip(world.secretaries, [options, options[:2], options[:1]]):
        api(user).post(f"/polls/{opened['poll']['id']}/ballot", json={"choices": choices})
    bureau.post(f"/elections/{election['id']}/voting/close")
    xlsx = bureau.get(f"/elections/{election['id']}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    sheet = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    counts = sorted(row[1] for row in sheet if row[0] and " · " in str(row[0]))
    assert counts == [1, 2, 3], sheet  # 3 ballots: each candidate's approvals are published
    assert ("空白票", 0) in [row[:2] for row in sheet]  # and the blank ballots (protocol salon-sealed-2): none
    page = client.get(f"/committee/elections/{election['id']}").get_data(as_text=True)
    assert '<p class="small muted" id="blank-count-1">空白票：0 张。</p>' in page


def test_review_export_through_the_api_matches_the_page_and_xlsx_says_the_same(app, client, world, api):
    from openpyxl import load_workbook
    import io

    _seat_committee(world, api)
    bureau = api(world.bureau)
    review = bureau.post("/reviews", json={"reason": "提前评议（测试）", "confirm_empty": True}).get_json()
    assert bureau.get(f"/reviews/{review['id']}/export.xlsx").status_code == 409  # still open
    bureau.post(f"/reviews/{review['id']}/roll", json={"seat_ids": [c.seat.id for c in world.communities]})
    overall = next(q for q in review["poll"]["questions"] if q["code"] == "overall")
    code = {o["code"]: o["id"] for o in overall["options"]}
    for user, choice in zip(world.secretaries, ["oppose", "oppose", "support"]):
        assert api(user).post(f"/polls/{review['poll']['id']}/ballot", json={"choices": [code[choice]]}).status_code == 201
    closed = bureau.post(f"/reviews/{review['id']}/close").get_json()
    assert (closed["present"], closed["oppose"], closed["outcome"]) == (3, 2, "triggered")
    login(client, "bureau_a")
    rows = _rows(client.get(f"/reviews/{review['id']}/export.csv"))
    assert _rows(bureau.get(f"/reviews/{review['id']}/export.csv")) == rows
    assert ["参会", "3"] in rows and ["反对", "2"] in rows and ["支持", "1"] in rows  # 3 ballots: published
    assert rows[0] == ["甲县沙龙"] and rows[1] == ["半年评议"] and rows[2][0] == "日期" and rows[3][0] == "涵盖期间"
    assert any("反对 2 人 / 参会 3 人 = 66.7%，高于 60%：委员会改选" in cell for row in rows for cell in row)
    sheet = list(load_workbook(io.BytesIO(bureau.get(f"/reviews/{review['id']}/export.xlsx").data)).active
                 .iter_rows(values_only=True))
    assert ("参会", 3) in [tuple(r[:2]) for r in sheet] and ("反对", 2) in [tuple(r[:2]) for r in sheet]
    assert api(world.secretaries[0]).get(f"/reviews/{review['id']}/export.csv").status_code == 403
    assert api(world.other_bureau).get(f"/reviews/{review['id']}/export.csv").status_code == 404


def test_a_secretary_stands_with_one_button_and_a_recalled_member_may_stand_again(app, client, world, api):
    import re

    _seat_committee(world, api)
    with app.test_request_context():
        from salon import clock

        services.end_term(services.sitting_term(world.programme.id), "recalled", world.bureau, clock.utcnow())
        db.session.commit()
    election = api(world.bureau).post("/elections").get_json()
    login(client, "sec_a1")  # a member of the recalled committee
    page = client.get(f"/committee/elections/{election['id']}").get_data(as_text=True)
    form = re.search(r'<form[^>]*id="stand".*?</form>', page, re.S).group(0)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    data = {"seat_id": re.search(r'name="seat_id" value="(\d+)"', form).group(1)}
    if token:
        data["csrf_token"] = token.group(1)
    assert int(data["seat_id"]) == world.communities[0].seat.id
    assert client.post(f"/committee/elections/{election['id']}/candidates", data=data).status_code == 302
    published = api(world.bureau).get(f"/elections/{election['id']}").get_json()
    assert published["candidates"] == [{"seat_id": world.communities[0].seat.id, "community": world.communities[0].name,
                                        "name": world.secretaries[0].display_name, "stands": True}]
    assert 'id="stand"' not in client.get(f"/committee/elections/{election['id']}").get_data(as_text=True)


def test_opening_the_vote_before_standing_closes_asks_first_and_says_who_loses_what(app, client, world, api):
    """Opening the vote ends standing: before standing_until the page asks first, naming when standing would have
    closed and how many nominations lapse; once standing has closed there is nothing to lose and it asks nothing."""
    import re
    from datetime import timedelta

    from salon import clock
    from salon.committee.models import Election

    election = api(world.bureau).post("/elections").get_json()
    for user, community in zip(world.secretaries[:2], world.communities[:2]):
        api(user).post(f"/elections/{election['id']}/candidates", json={"seat_id": community.seat.id})
    # sec_a1 nominates 陕拖社区's secretary, who has not accepted yet: that nomination would lapse.
    api(world.secretaries[0]).post(f"/elections/{election['id']}/candidates",
                                   json={"seat_id": world.communities[2].seat.id})
    login(client, "bureau_a")
    page = client.get(f"/committee/elections/{election['id']}").get_data(as_text=True)
    form = re.search(r'<form[^>]*id="open-vote"[^>]*>', page, re.S).group(0)
    assert "参选随即结束" in form and "（1 个）" in form and "无法撤销" in form
    with app.test_request_context():
        db.session.get(Election, election["id"]).standing_until = clock.utcnow() - timedelta(minutes=1)
        db.session.commit()
    page = client.get(f"/committee/elections/{election['id']}").get_data(as_text=True)
    form = re.search(r'<form[^>]*id="open-vote"[^>]*>', page, re.S).group(0)
    assert "data-confirm" not in form
