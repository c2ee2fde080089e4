"""Topics through the API and the pages: nominations, the vote, the decision, the agenda, bad input."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from salon import clock
from salon.extensions import db
from salon.schedule.models import Session, SessionStatus
from salon.topics.models import Nomination
from tests.conftest import login

pytestmark = pytest.mark.rolled_back  # one transaction per test, rolled back; world built once


@pytest.fixture
def sessions(app, world):
    """Session 1 held a month ago; session 2 in 40 days (nominations open); all chaired by community 0."""
    now = clock.utcnow()
    made = []
    for number, days, status in ((1, -30, SessionStatus.HELD), (2, 40, SessionStatus.PLANNED),
                                 (3, 70, SessionStatus.PLANNED)):
        s = Session(programme_id=world.programme.id, number=number, starts_at=now + timedelta(days=days),
                    duration_minutes=120, chair_community_id=world.communities[0].id, status=status)
        db.session.add(s)
        made.append(s)
    db.session.commit()
    return made


def nominate(client, session, title="议题", **extra):
    return client.post(f"/sessions/{session.id}/nominations",
                       json={"title": title, "problem": "问题和案例", **extra})


def test_nominate_limit_edit_withdraw(api, world, sessions):
    s2 = sessions[1]
    sec = api(world.secretaries[0])
    assert nominate(sec, s2, "一").status_code == 201
    second = nominate(sec, s2, "二")
    assert second.status_code == 201
    third = nominate(sec, s2, "三")
    assert third.status_code == 409 and "community" in third.get_json()["error"]["fields"]
    nid = second.get_json()["id"]
    assert sec.patch(f"/nominations/{nid}", json={"title": "二改"}).get_json()["title"] == "二改"
    other = api(world.secretaries[1])
    assert other.patch(f"/nominations/{nid}", json={"title": "x"}).status_code == 403
    assert other.delete(f"/nominations/{nid}").status_code == 403
    assert sec.delete(f"/nominations/{nid}").status_code == 204
    assert nominate(sec, s2, "三").status_code == 201  # a withdrawn one frees its place
    assert sec.get(f"/nominations/{nid}").status_code == 404


@pytest.mark.parametrize("body,field", [
    ({"title": "x" * 81, "problem": "p"}, "title"),
    ({"title": "", "problem": "p"}, "title"),
    ({"title": "t", "problem": "p" * 5001}, "problem"),
    ({"title": "t"}, "problem"),
    ({"title": 5, "problem": "p"}, "title"),
    ({"title": "t", "problem": "p", "outside_units": "u" * 501}, "outside_units"),
    ({"title": "t", "problem": "p", "surprise": 1}, "surprise"),
])
def test_bad_nominations_name_the_field_and_change_nothing(api, world, sessions, body, field):
    response = api(world.secretaries[0]).post(f"/sessions/{sessions[1].id}/nominations", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count(Nomination.id))) == 0


def test_edge_lengths_accepted(api, world, sessions):
    assert nominate(api(world.secretaries[0]), sessions[1], "题" * 80, problem="问" * 5000).status_code == 201


def test_malformed_json_and_other_programmes_ids(api, world, sessions):
    sec = api(world.secretaries[0])
    response = sec.post(f"/sessions/{sessions[1].id}/nominations", data="{not json",
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert api(world.other_secretary).post(f"/sessions/{sessions[1].id}/nominations",
                                           json={"title": "t", "problem": "p"}).status_code == 404
    assert sec.get("/sessions/999999/topic").status_code == 404


def test_nominations_closed_after_window_and_before_previous_held(api, world, sessions, monkeypatch):
    sec = api(world.secretaries[0])
    assert nominate(sec, sessions[2], "太早").status_code == 409  # session 2 has not been held yet
    s2 = sessions[1]
    closes = s2.starts_at - timedelta(days=14)
    monkeypatch.setattr(clock, "utcnow", lambda: closes - timedelta(minutes=1))
    assert nominate(sec, s2, "最后一分钟").status_code == 201
    monkeypatch.setattr(clock, "utcnow", lambda: closes)
    assert nominate(sec, s2, "晚了").status_code == 409


def full_round(api, world, sessions, picks):
    """Nominate three topics for session 2, vote with the given picks (indexes) per secretary, close."""
    s2 = sessions[1]
    ids = [nominate(api(world.secretaries[i]), s2, f"议题{i}").get_json()["id"] for i in range(3)]
    bureau = api(world.bureau)
    poll = bureau.post(f"/sessions/{s2.id}/voting/open").get_json()
    assert poll["state"] == "open"
    options = {o["ref_id"]: o["id"] for o in poll["questions"][0]["options"]}
    receipts = []
    for i, pick in enumerate(picks):
        r = api(world.secretaries[i]).post(f"/polls/{poll['id']}/ballot",
                                           json={"choices": [options[ids[j]] for j in pick]})
        assert r.status_code == 201
        receipts.append(r.get_json()["receipt"])
    hidden = bureau.get(f"/polls/{poll['id']}").get_json()["results"]
    assert not hidden["published"] and hidden["counts"] == [] and hidden["turnout"] == len(picks)
    closed = bureau.post(f"/sessions/{s2.id}/voting/close").get_json()
    return s2, ids, poll["id"], receipts, closed


def test_vote_decide_rationale_and_agenda(api, world, sessions):
    s2, ids, poll_id, receipts, closed = full_round(api, world, sessions, [[0], [0, 1], [1, 2]])
    assert closed["results"]["published"] and closed["results"]["turnout"] == 3
    listed = api(world.secretaries[0]).get(f"/polls/{poll_id}/receipts").get_json()
    assert listed["receipts"] == sorted(receipts) and listed["turnout"] == 3
    bureau = api(world.bureau)
    no_reason = bureau.post(f"/sessions/{s2.id}/decision", json={"nomination_id": ids[2]})
    assert no_reason.status_code == 422 and "rationale" in no_reason.get_json()["error"]["fields"]
    assert api(world.secretaries[0]).post(f"/sessions/{s2.id}/decision",
                                          json={"nomination_id": ids[0]}).status_code == 403
    foreign = bureau.post(f"/sessions/{s2.id}/decision", json={"nomination_id": 999999})
    assert foreign.status_code == 422 and "nomination_id" in foreign.get_json()["error"]["fields"]
    decided = bureau.post(f"/sessions/{s2.id}/decision", json={"nomination_id": ids[2], "rationale": "医保局能来"})
    assert decided.status_code == 201 and not decided.get_json()["followed_tally"]
    assert bureau.post(f"/sessions/{s2.id}/decision", json={"nomination_id": ids[0]}).status_code == 409
    seen = api(world.secretaries[2]).get(f"/sessions/{s2.id}/decision").get_json()
    assert seen["rationale"] == "医保局能来" and seen["decided_by"] == world.bureau.display_name
    agenda = bureau.get(f"/sessions/{s2.id}/agenda").get_json()["items"]
    assert len(agenda) == 6 and sum(i["minutes"] for i in agenda) == 120
    assert agenda[0]["starts_at"].startswith(s2.starts_at.isoformat()[:16])
    # The chair (community 0's secretary) edits; another secretary may not.
    new = [{"title": "开场", "minutes": 10}, {"title": "讨论", "minutes": 100, "note": "书面承诺"}]
    assert api(world.secretaries[1]).put(f"/sessions/{s2.id}/agenda", json={"items": new}).status_code == 403
    edited = api(world.secretaries[0]).put(f"/sessions/{s2.id}/agenda", json={"items": new})
    assert edited.status_code == 200 and edited.get_json()["items"][1]["note"] == "书面承诺"
    assert api(world.secretaries[0]).put(f"/sessions/{s2.id}/agenda",
                                         json={"items": [{"title": "x", "minutes": 0}]}).status_code == 422
    guest = api(world.secretaries[0]).post(f"/sessions/{s2.id}/guests",
                                           json={"name": "王", "unit": "县医保局", "contact": "123"})
    assert guest.status_code == 201
    assert api(world.secretaries[1]).post(f"/sessions/{s2.id}/guests",
                                          json={"name": "李", "unit": "x"}).status_code == 403
    assert api(world.secretaries[1]).get(f"/sessions/{s2.id}/guests").get_json()[0]["contact"] == ""


def test_most_approved_needs_no_rationale_and_carry_over(api, world, sessions, monkeypatch):
    s2, ids, _poll, _r, _c = full_round(api, world, sessions, [[0], [0, 1], [1, 0]])
    bureau = api(world.bureau)
    assert bureau.post(f"/sessions/{s2.id}/decision", json={"nomination_id": ids[0]}).status_code == 201
    sec1 = api(world.secretaries[1])
    assert sec1.post(f"/nominations/{ids[1]}/carry-over").status_code == 409  # session 3 not open yet
    held = s2.starts_at + timedelta(hours=3)
    monkeypatch.setattr(clock, "utcnow", lambda: held)
    carried = sec1.post(f"/nominations/{ids[1]}/carry-over")
    assert carried.status_code == 201 and carried.get_json()["session_id"] == sessions[2].id
    assert carried.get_json()["carried_from_id"] == ids[1]
    assert sec1.post(f"/nominations/{ids[1]}/carry-over").status_code == 409
    assert api(world.secretaries[0]).post(f"/nominations/{ids[0]}/carry-over").status_code == 409


def test_below_minimum_counts_withheld_and_rationale_always_needed(api, world, sessions):
    s2, ids, poll_id, _r, closed = full_round(api, world, sessions, [[0], [0]])
    assert not closed["results"]["published"] and closed["results"]["counts"] == []
    assert closed["results"]["turnout"] == 2
    bureau = api(world.bureau)
    assert bureau.post(f"/sessions/{s2.id}/decision", json={"nomination_id": ids[0]}).status_code == 422
    assert bureau.post(f"/sessions/{s2.id}/decision",
                       json={"nomination_id": ids[0], "rationale": "票数不足"}).status_code == 201


def test_edit_frozen_once_voting_opens(api, world, sessions):
    s2 = sessions[1]
    sec = api(world.secretaries[0])
    nid = nominate(sec, s2).get_json()["id"]
    api(world.bureau).post(f"/sessions/{s2.id}/voting/open")
    assert sec.patch(f"/nominations/{nid}", json={"title": "改"}).status_code == 409
    assert sec.delete(f"/nominations/{nid}").status_code == 409
    assert nominate(sec, s2, "新").status_code == 409


def test_voting_opens_and_closes_lazily_on_time(api, world, sessions, monkeypatch):
    s2 = sessions[1]
    nominate(api(world.secretaries[0]), s2)
    from salon.rules.topics import days_before

    opens = days_before(s2.starts_at, 14, "Asia/Shanghai")
    closes = days_before(s2.starts_at, 7, "Asia/Shanghai")
    monkeypatch.setattr(clock, "utcnow", lambda: opens - timedelta(minutes=1))
    assert api(world.bureau).get(f"/sessions/{s2.id}/topic").get_json()["poll"] is None
    monkeypatch.setattr(clock, "utcnow", lambda: opens)
    poll = api(world.bureau).get(f"/sessions/{s2.id}/topic").get_json()["poll"]
    assert poll["state"] == "open"
    monkeypatch.setattr(clock, "utcnow", lambda: closes - timedelta(minutes=1))
    assert api(world.secretaries[1]).post(f"/polls/{poll['id']}/ballot", json={"choices": []}).status_code == 201
    monkeypatch.setattr(clock, "utcnow", lambda: closes)
    late = api(world.secretaries[2]).post(f"/polls/{poll['id']}/ballot", json={"choices": []})
    assert late.status_code == 409
    assert api(world.bureau).get(f"/polls/{poll['id']}").get_json()["state"] == "closed"


def test_vote_page_confirms_then_shows_receipt_and_home_tasks(client, api, world, sessions):
    s2 = sessions[1]
    nid = nominate(api(world.secretaries[1]), s2).get_json()["id"]
    login(client, "sec_a1")
    assert "您已推荐 0 个，最多 2 个" in client.get("/").get_data(as_text=True)
    poll = api(world.bureau).post(f"/sessions/{s2.id}/voting/open").get_json()
    option = poll["questions"][0]["options"][0]["id"]
    home = client.get("/").get_data(as_text=True)
    assert f"/topics/sessions/{s2.id}/vote" in home
    review = client.post(f"/topics/sessions/{s2.id}/vote", data={"choices": [str(option)]})
    assert review.status_code == 200 and 'name="confirmed" value="1"' in review.get_data(as_text=True)
    assert api(world.bureau).get(f"/polls/{poll['id']}").get_json()["results"]["turnout"] == 0
    cast = client.post(f"/topics/sessions/{s2.id}/vote", data={"choices": [str(option)], "confirmed": "1"})
    assert cast.status_code == 200 and 'id="receipt"' in cast.get_data(as_text=True)
    again = client.post(f"/topics/sessions/{s2.id}/vote", data={"choices": [str(option)], "confirmed": "1"})
    assert again.status_code in (200, 409)
    assert api(world.bureau).get(f"/polls/{poll['id']}").get_json()["results"]["turnout"] == 1
    del nid


def test_pages_query_count_does_not_grow_with_history(app, client, world):
    from salon.topics import services

    def add_sessions(start, count):
        now = clock.utcnow()
        for n in range(start, start + count):
            db.session.add(Session(programme_id=world.programme.id, number=n, status=SessionStatus.HELD,
                                   starts_at=now - timedelta(days=400 - n), duration_minutes=120,
                                   chair_community_id=world.communities[0].id))
        db.session.commit()

    def count(url):
        queries = []
        listener = lambda *a, **k: queries.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(queries)

    login(client, "sec_a1")
    add_sessions(1, 2)
    few = (count("/topics/"), count("/"))
    add_sessions(3, 30)
    assert (count("/topics/"), count("/")) == few
    del services
