"""The review's pages and API as a bureau and secretaries meet them (SPEC §4.1, §8): opening asks first and says
what it covers, early needs a reason, no topic needs confirmation; the roll's correction; the close confirmed
with or without JavaScript; the result adds up; the lists of reviews and elections and the seats' ids."""
from __future__ import annotations

import re

from tests.conftest import login
from tests.web.test_review_report import TITLE, _open_review


def _seat_committee(api, world) -> dict:
    bureau = api(world.bureau)
    election = bureau.post("/elections").get_json()
    for user, community in zip(world.secretaries, world.communities):
        api(user).post(f"/elections/{election['id']}/candidates", json={"seat_id": community.seat.id})
    bureau.post(f"/elections/{election['id']}/voting/open", json={})
    bureau.post(f"/elections/{election['id']}/voting/close")
    return election


def test_the_api_opens_an_early_empty_review_only_with_a_reason_and_the_confirmation(app, world, api):
    _seat_committee(api, world)
    bureau = api(world.bureau)
    early = bureau.post("/reviews")
    assert early.status_code == 422 and list(early.get_json()["error"]["fields"]) == ["reason"]
    empty = bureau.post("/reviews", json={"reason": "县里要求提前评议"})
    assert empty.status_code == 409 and list(empty.get_json()["error"]["fields"]) == ["confirm_empty"]
    assert bureau.get("/reviews").get_json() == []  # nothing opened by the refusals
    too_long = bureau.post("/reviews", json={"reason": "长" * 501, "confirm_empty": True})
    assert too_long.status_code == 422
    opened = bureau.post("/reviews", json={"reason": "县里要求提前评议", "confirm_empty": True})
    assert opened.status_code == 201
    body = opened.get_json()
    assert body["early_reason"] == "县里要求提前评议" and body["topics"] == [] and body["apart"] == []
    assert api(world.secretaries[1]).post("/reviews", json={"confirm_empty": True}).status_code == 403


def test_reviews_and_elections_are_listed_a_page_at_a_time(app, world, api):
    election = _seat_committee(api, world)
    bureau, secretary = api(world.bureau), api(world.secretaries[0])
    review = bureau.post("/reviews", json={"reason": "试点", "confirm_empty": True}).get_json()
    listed = secretary.get("/reviews").get_json()
    assert [(r["id"], r["state"], r["early_reason"]) for r in listed] == [(review["id"], "open", "试点")]
    elections = secretary.get("/elections?limit=1")
    assert [e["id"] for e in elections.get_json()] == [election["id"]] and "X-Next-Cursor" not in elections.headers
    assert elections.get_json()[0]["state"] == "closed"
    assert secretary.get("/elections?cursor=abc").status_code == 422
    assert api(world.other_bureau).get("/reviews").get_json() == []  # another programme's reviews stay its own
    assert api(world.other_bureau).get(f"/reviews?cursor={review['id']}").status_code == 422


def test_the_communities_carry_their_seat_ids_that_elections_and_the_roll_take(app, world, api):
    listed = api(world.secretaries[0]).get("/communities").get_json()
    assert {c["id"]: c["seat_id"] for c in listed} == {c.id: c.seat.id for c in world.communities}
    one = api(world.secretaries[0]).get(f"/communities/{world.communities[1].id}").get_json()
    assert one["seat_id"] == world.communities[1].seat.id


def test_the_chair_takes_a_seat_off_the_roll_until_it_has_voted(app, world, api):
    review_id = _open_review(app, world)  # all three present; c1's secretary is not the chair yet
    seats = [c.seat.id for c in world.communities]
    bureau = api(world.bureau)
    assert api(world.secretaries[1]).post(f"/reviews/{review_id}/roll/off",
                                          json={"seat_id": seats[2], "reason": "误点"}).status_code == 403
    assert bureau.post(f"/reviews/{review_id}/roll/off", json={"seat_id": seats[2]}).status_code == 422
    off = bureau.post(f"/reviews/{review_id}/roll/off", json={"seat_id": seats[2], "reason": "陕拖社区书记未到"})
    assert off.status_code == 200 and sorted(off.get_json()["present_seat_ids"]) == sorted(seats[:2])
    review = bureau.get(f"/reviews/{review_id}").get_json()
    overall = next(q for q in review["poll"]["questions"] if q["code"] == "overall")
    assert api(world.secretaries[0]).post(f"/polls/{review['poll']['id']}/ballot",
                                          json={"choices": [overall["options"][0]["id"]]}).status_code == 201
    voted = bureau.post(f"/reviews/{review_id}/roll/off", json={"seat_id": seats[0], "reason": "误点"})
    assert voted.status_code == 409 and list(voted.get_json()["error"]["fields"]) == ["seat_id"]
    # SPEC §5: the refusal does not say why (that the seat voted) ...
    assert voted.get_json()["error"]["message"] == "该社区的点名已不能再更正。"
    audit = bureau.get("/audit").get_json()
    assert any(e["action"] == "review.roll_off" for e in audit["events"])
    # ... but the refused attempt is on the record, although the 409 rolled its request back (the chain holds).
    refused = [e for e in bureau.get("/audit?verify=true").get_json()["events"]
               if e["action"] == "review.roll_off_refused"]
    assert [(e["actor_name"], e["details"]) for e in refused] == [
        ("bureau_a", {"seat_id": seats[0], "reason": "误点"})]
    assert bureau.get("/audit?verify=true").get_json()["chain_ok"] is True
    assert sorted(bureau.get(f"/reviews/{review_id}").get_json()["present_seat_ids"]) == sorted(seats[:2])


def test_a_refused_roll_correction_on_the_page_is_audited_once_and_says_only_that(app, client, world, api):
    """The page shows the refusal as a message and commits: the attempt is recorded once, not twice."""
    review_id = _open_review(app, world)
    seats = [c.seat.id for c in world.communities]
    bureau = api(world.bureau)
    review = bureau.get(f"/reviews/{review_id}").get_json()
    overall = next(q for q in review["poll"]["questions"] if q["code"] == "overall")
    assert api(world.secretaries[1]).post(f"/polls/{review['poll']['id']}/ballot",
                                          json={"choices": [overall["options"][1]["id"]]}).status_code == 201
    login(client, "bureau_a")
    page = client.post(f"/reviews/{review_id}/roll/off", data={"seat_id": seats[1], "reason": "试探"},
                       follow_redirects=True).get_data(as_text=True)
    flashes = re.findall(r'<p class="flash flash-(\w+)"[^>]*>(.*?)</p>', page)
    assert flashes == [("error", "该社区的点名已不能再更正。")]
    refused = [e for e in bureau.get("/audit").get_json()["events"] if e["action"] == "review.roll_off_refused"]
    assert [e["details"] for e in refused] == [{"seat_id": seats[1], "reason": "试探"}]


def test_opening_on_the_page_asks_first_and_says_what_it_covers(app, client, world, api):
    _seat_committee(api, world)
    login(client, "bureau_a")
    index = client.get("/reviews/").get_data(as_text=True)
    assert 'id="next-review"' in index and "到期" in index  # when the next review falls due
    page = client.get("/reviews/new").get_data(as_text=True)
    assert 'id="early"' in page and 'id="no-topic"' in page and 'name="confirm_empty"' in page
    assert 'class="primary irreversible"' in page
    refused = client.post("/reviews/", data={"reason": ""})
    assert refused.status_code == 422 and api(world.bureau).get("/reviews").get_json() == []
    refused = client.post("/reviews/", data={"reason": "试点"})
    assert refused.status_code == 409 and api(world.bureau).get("/reviews").get_json() == []
    opened = client.post("/reviews/", data={"reason": "试点", "confirm_empty": "y"})
    assert opened.status_code == 302
    review_page = client.get(opened.headers["Location"]).get_data(as_text=True)
    assert 'id="early-reason"' in review_page and "试点" in review_page


def test_closing_on_the_page_needs_the_box_ticked_and_warns_in_words(app, client, world):
    review_id = _open_review(app, world)
    login(client, "bureau_a")
    page = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    form = re.search(r'<form[^>]*id="close-review"[^>]*>', page, re.S).group(0)
    assert "data-confirm=" in form and "无法撤销" in form and "onclick" not in page
    assert 'class="irreversible"' in page
    client.post(f"/reviews/{review_id}/close", data={})
    assert 'id="close-review"' in client.get(f"/reviews/{review_id}").get_data(as_text=True)  # still open
    client.post(f"/reviews/{review_id}/close", data={"understood": "y"})
    assert 'id="arithmetic"' in client.get(f"/reviews/{review_id}").get_data(as_text=True)


def test_the_result_counts_add_up_to_the_ballots_cast(app, client, world, api):
    review_id = _open_review(app, world)
    review = api(world.bureau).get(f"/reviews/{review_id}").get_json()
    overall = next(q for q in review["poll"]["questions"] if q["code"] == "overall")
    topic = next(q for q in review["poll"]["questions"] if q["code"] is None)
    for user in world.secretaries[:2]:  # both leave the topic unanswered
        api(user).post(f"/polls/{review['poll']['id']}/ballot", json={"choices": [overall["options"][0]["id"]]})
    api(world.secretaries[2]).post(f"/polls/{review['poll']['id']}/ballot",
                                   json={"choices": [overall["options"][0]["id"], topic["options"][0]["id"]]})
    closed = api(world.bureau).post(f"/reviews/{review_id}/close").get_json()
    row = closed["topics"][0]
    assert row["no_answer"] == 2 and sum(row["counts"].values()) + row["no_answer"] == closed["turnout"] == 3
    login(client, "sec_a2")
    page = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert "未作答" in page and TITLE in page
    assert "参会 3" in page and "投票 3" in page  # present and turnout


def test_a_secretary_not_checked_in_is_told_how_to_check_in(app, client, world, api):
    review_id = _open_review(app, world)
    api(world.bureau).post(f"/reviews/{review_id}/roll/off",
                           json={"seat_id": world.communities[1].seat.id, "reason": "误点"})
    login(client, "sec_a2")
    vote = client.get(f"/reviews/{review_id}/vote").get_data(as_text=True)
    assert 'id="not-eligible"' in vote and "签到" in vote and "轮值主席" in vote
    assert "无权" not in vote and "没有资格" not in vote


def test_the_qr_page_shows_the_code_and_not_the_signed_link_as_text(app, client, world):
    review_id = _open_review(app, world)
    login(client, "bureau_a")
    page = client.get(f"/reviews/{review_id}/qr").get_data(as_text=True)
    assert "<svg" in page and 'class="qr qr-big"' in page
    link = re.search(r'href="([^"]*/reviews/checkin/[^"]*)"', page).group(1)
    text_only = re.sub(r"<[^>]+>", " ", page)
    assert "/reviews/checkin/" not in text_only and link not in text_only


def test_the_owning_secretary_reports_progress_on_the_page_and_the_api(app, client, world, api):
    """Through the page and the API: 渭运社区's secretary records progress on 渭运社区's action item (no due-date
    field offered); 陕拖社区's secretary is refused."""
    from datetime import timedelta

    from salon import clock
    from salon.extensions import db
    from salon.outcomes import services as outcomes
    from tests.outcome_helpers import decided_session

    with app.test_request_context():
        session = decided_session(world.programme, world.bureau, world.communities[0], 1,
                                  clock.utcnow() - timedelta(days=30), "如何破解社区万能章", world.communities,
                                  world.secretaries)
        item = outcomes.add_action(session, world.bureau, {"what": "入户走访", "owner_unit": "渭运社区"})
        db.session.commit()
        item_id = item.id
    owner, third = api(world.secretaries[1]), api(world.secretaries[2])
    done = owner.post(f"/action-items/{item_id}/updates", json={"status": "in_progress", "note": "已走访"})
    assert done.status_code == 201
    assert third.post(f"/action-items/{item_id}/updates", json={"status": "done"}).status_code == 403
    moved = owner.post(f"/action-items/{item_id}/updates", json={"due_on": "2030-01-01"})
    assert moved.status_code == 403 and list(moved.get_json()["error"]["fields"]) == ["due_on"]
    login(client, "sec_a2")
    page = client.get(f"/outcomes/actions/{item_id}").get_data(as_text=True)
    assert 'name="status"' in page and 'name="due_on"' not in page
    assert client.post(f"/outcomes/actions/{item_id}", data={"status": "done", "note": "完成"}).status_code == 302
    assert api(world.bureau).get(f"/action-items/{item_id}").get_json()["status"] == "done"
    other = app.test_client()
    login(other, "sec_a3")
    assert 'name="status"' not in other.get(f"/outcomes/actions/{item_id}").get_data(as_text=True)
    assert other.post(f"/outcomes/actions/{item_id}", data={"status": "open", "note": "x"}).status_code == 403


def test_the_election_page_shows_turnout_closes_after_confirming_and_names_the_elected(app, client, world, api):
    bureau = api(world.bureau)
    election = bureau.post("/elections").get_json()
    api(world.secretaries[0]).post(f"/elections/{election['id']}/candidates",
                                   json={"seat_id": world.communities[1].seat.id})
    nominee = app.test_client()
    login(nominee, "sec_a2")
    home = nominee.get("/").get_data(as_text=True)
    assert "您被提名" in home and f"/committee/elections/{election['id']}" in home  # asked to accept
    for user, community in zip(world.secretaries, world.communities):
        api(user).post(f"/elections/{election['id']}/candidates", json={"seat_id": community.seat.id})
    api(world.secretaries[1]).post(f"/elections/{election['id']}/accept")
    bureau.post(f"/elections/{election['id']}/voting/open", json={})
    poll = bureau.get(f"/elections/{election['id']}").get_json()["poll"]
    options = {o["label"].split(" · ")[0]: o["id"] for o in poll["questions"][0]["options"]}
    for user in world.secretaries:  # 景翼 3, 渭运 2, 陕拖 1 approvals
        chosen = ["景翼社区", "渭运社区", "陕拖社区"][:3 - world.secretaries.index(user)]
        assert api(user).post(f"/polls/{poll['id']}/ballot",
                              json={"choices": [options[c] for c in chosen]}).status_code == 201
    login(client, "bureau_a")
    page = client.get(f"/committee/elections/{election['id']}").get_data(as_text=True)
    assert 'id="turnout"' in page and "3" in re.search(r'id="turnout">([^<]*)<', page).group(1)
    form = re.search(r'<form[^>]*id="close-vote"[^>]*>', page, re.S).group(0)
    assert "data-confirm=" in form and "无法撤销" in form and 'class="irreversible"' in page
    client.post(f"/committee/elections/{election['id']}/close-vote", data={})
    assert bureau.get(f"/elections/{election['id']}").get_json()["state"] == "voting"  # not without the box
    client.post(f"/committee/elections/{election['id']}/close-vote", data={"understood": "y"})
    assert bureau.get(f"/elections/{election['id']}").get_json()["state"] == "closed"
    page = client.get(f"/committee/elections/{election['id']}").get_data(as_text=True)
    ranked = re.search(r'<ol class="rows tally" id="ranking-1">(.*?)</ol>', page, re.S).group(1)
    names = re.findall(r"<li><span><bdi>([^<]*)</bdi></span>", ranked)
    assert [n.split(" · ")[0] for n in names] == ["景翼社区", "渭运社区", "陕拖社区"]
    assert ranked.count("当选") == 3 and "未当选" not in ranked and "#" not in ranked


def test_closing_a_topic_vote_early_says_who_loses_what_and_needs_the_box(app, client, world):
    from datetime import timedelta

    from salon import clock
    from salon.extensions import db
    from salon.schedule.models import Session, SessionStatus
    from salon.topics import services as topic_services
    from salon.topics.models import Nomination

    with app.test_request_context():
        session = Session(programme_id=world.programme.id, number=9, starts_at=clock.utcnow() + timedelta(days=10),
                          duration_minutes=120, chair_community_id=world.communities[0].id,
                          status=SessionStatus.PLANNED)
        db.session.add(session)
        db.session.flush()
        db.session.add(Nomination(programme_id=world.programme.id, session_id=session.id,
                                  community_id=world.communities[1].id, title="议题甲", problem="问题"))
        topic_services.open_voting(session, world.programme, world.bureau, clock.utcnow())
        db.session.commit()
        session_id = session.id
    login(client, "bureau_a")
    page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    form = re.search(r'<form[^>]*id="close-vote"[^>]*>', page, re.S).group(0)
    assert "3" in form and "未投票" in form and "无法撤销" in form
    client.post(f"/topics/sessions/{session_id}/close-vote", data={})
    assert 'id="close-vote"' in client.get(f"/sessions/{session_id}").get_data(as_text=True)
    client.post(f"/topics/sessions/{session_id}/close-vote", data={"understood": "y"})
    assert 'id="close-vote"' not in client.get(f"/sessions/{session_id}").get_data(as_text=True)


def test_calendar_events_carry_the_topic_and_a_link_and_links_can_be_copied(app, client, world):
    """A subscribed calendar's event names the decided topic and links the session's page; the calendar and
    guest-link pages offer copy buttons (salon.js, no inline script) and a webcal:// subscribe link."""
    from datetime import timedelta

    from icalendar import Calendar

    from salon import clock
    from salon.extensions import db
    from salon.schedule import services as schedule
    from salon.schedule.models import SessionStatus
    from tests.outcome_helpers import decided_session

    with app.test_request_context():
        session = decided_session(world.programme, world.bureau, world.communities[0], 1,
                                  clock.utcnow() + timedelta(days=6), "如何破解社区万能章", world.communities,
                                  world.secretaries, status=SessionStatus.PLANNED)
        db.session.commit()
        session_id = session.id
    login(client, "sec_a1")
    assert client.post("/schedule/feeds", data={"community_id": ""}).status_code == 302
    page = client.get("/schedule/feeds").get_data(as_text=True)
    assert "data-copy=" in page and 'href="webcal://' in page and "onclick" not in page
    with app.test_request_context():
        token = schedule.feed_token(schedule.feeds_of(world.secretaries[0])[0])
    ics = app.test_client().get(f"/calendar/{token}.ics")
    event = next(e for e in Calendar.from_ical(ics.data).walk("VEVENT") if str(e["uid"]).startswith(
        f"salon-session-{session_id}@"))
    assert "如何破解社区万能章" in str(event["description"])
    assert str(event["url"]).endswith(f"/sessions/{session_id}") and f"/sessions/{session_id}" in str(event["description"])
    created = client.post(f"/packets/sessions/{session_id}/links", data={"label": "县医保局"}).get_data(as_text=True)
    assert 'data-copy="new-link"' in created and "onclick" not in created


def test_the_ballot_of_a_review_with_no_topic_does_not_ask_about_each_topic(app, client, world, api):
    """A review judging no topic (opened with the confirmation): the ballot's words ask only the overall question;
    they asked to rate each topic, with no topic on the ballot."""
    _seat_committee(api, world)
    bureau = api(world.bureau)
    review = bureau.post("/reviews", json={"reason": "县里要求提前评议", "confirm_empty": True}).get_json()
    bureau.post(f"/reviews/{review['id']}/roll", json={"seat_ids": [world.communities[0].seat.id]})
    login(client, world.secretaries[0].username)
    vote = client.get(f"/reviews/{review['id']}/vote").get_data(as_text=True)
    assert "选票只问您是否支持委员会的选题" in vote and "请评价每个议题" not in vote
    assert vote.count('<fieldset class="choices">') == 1


def test_the_ballot_of_a_review_with_topics_asks_about_each(app, client, world):
    with_topic = _open_review(app, world)
    login(client, "sec_a2")
    vote = client.get(f"/reviews/{with_topic}/vote").get_data(as_text=True)
    assert "请评价每个议题是否有效" in vote and TITLE in vote


def test_a_closed_sealed_review_says_it_awaits_the_trustees_and_offers_nothing_more(app, world):
    """SPEC §5.1: a sealed review's rule waits for the trustees' count. Meanwhile its page says check-in and
    voting are closed, how many were present and who is still awaited, and offers neither the vote, the roll nor
    the close again; once counted it shows the arithmetic."""
    from datetime import timedelta

    from salon import clock
    from salon.ballots import services as ballots
    from salon.extensions import db
    from salon.reviews import services as reviews
    from tests.sealed_keys import decrypt, key_provider, make_key
    from tests.services.test_reviews import committee_topic, nineteen, seat, sit_committee

    with app.test_request_context():
        users = nineteen(world)
        start = clock.utcnow() - timedelta(days=200)
        sit_committee(world, users, start)
        committee_topic(world, users, start + timedelta(days=60))
        key = make_key("p1-k7", user_ids=[world.bureau.id, users[5].id, users[6].id])
        with key_provider(app, key, kinds={"review"}):
            review = reviews.open_review(world.programme, world.bureau, confirm_empty=True)
        reviews.take_roll(review, world.bureau, [seat(u) for u in users[:3]])
        poll = ballots.get(review.poll_id)
        overall = {o.code: o.id for q in poll.questions if q.code == "overall" for o in q.options}
        ballots.cast(poll.id, seat(users[0]), [overall["oppose"]], world.programme.id)
        reviews.close_review(review, world.programme, world.bureau)
        db.session.commit()
        review_id, poll_id = review.id, poll.id
    bureau, present = app.test_client(), app.test_client()
    login(bureau, world.bureau.username)
    login(present, users[1].username)  # present, has not voted
    for client in (bureau, present):
        page = client.get(f"/reviews/{review_id}").get_data(as_text=True)
        assert 'id="counting"' in page and 'class="awaiting-trustees"' in page and "awaited-trustees" in page
        assert 'id="vote"' not in page and 'id="close-review"' not in page and "/roll" not in page
        assert "3" in re.search(r'<section class="card" id="counting">\s*<p>(.*?)</p>', page).group(1)

    with app.test_request_context():
        assert decrypt(ballots.get(poll_id), key)
        db.session.commit()
    page = bureau.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert 'id="counting"' not in page and 'id="arithmetic"' in page


def test_closing_a_sealed_review_says_the_rule_waits_for_the_trustees(app, world):
    """The close of a sealed review ends check-in and voting, but the rule waits for the trustees' count: the
    bureau is told so, not that the review is closed."""
    from datetime import timedelta

    from salon import clock
    from salon.extensions import db
    from salon.reviews import services as reviews
    from salon.reviews.models import Review, ReviewState
    from tests.sealed_keys import key_provider, make_key
    from tests.services.test_reviews import committee_topic, nineteen, seat, sit_committee

    with app.test_request_context():
        users = nineteen(world)
        start = clock.utcnow() - timedelta(days=200)
        sit_committee(world, users, start)
        committee_topic(world, users, start + timedelta(days=60))
        key = make_key("p1-k8", user_ids=[world.bureau.id, users[5].id, users[6].id])
        with key_provider(app, key, kinds={"review"}):
            review = reviews.open_review(world.programme, world.bureau, confirm_empty=True)
        reviews.take_roll(review, world.bureau, [seat(u) for u in users[:3]])
        db.session.commit()
        review_id = review.id
    bureau = app.test_client()
    login(bureau, world.bureau.username)
    page = bureau.post(f"/reviews/{review_id}/close", data={"understood": "y"},
                       follow_redirects=True).get_data(as_text=True)
    assert "签到和投票已结束。托管人解密计票后即适用改选规则。" in page and "评议已结束" not in page
    assert db.session.get(Review, review_id).state == ReviewState.OPEN
