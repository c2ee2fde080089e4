"""The schedule pages and API through the test client: what a bureau member or a chair sees."""
from __future__ import annotations

from datetime import datetime

import pytest
from icalendar import Calendar
from sqlalchemy import event

from salon import clock, registry
from salon.extensions import db
from salon.schedule import services
from salon.schedule.models import Session, SessionStatus
from tests.conftest import login

pytestmark = pytest.mark.rolled_back  # one transaction per test, rolled back; world built once

NOW = datetime(2026, 11, 1)


@pytest.fixture
def schedule(app, world, monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    with app.test_request_context():
        services.generate(world.programme, world.bureau, 6)
        db.session.commit()
    return services.sessions(world.programme.id)


def test_schedule_page_highlights_my_duty(client, world, schedule):
    login(client, "sec_a1")
    page = client.get("/schedule").get_data(as_text=True)
    assert page.count('class="session mine') == 2  # 景翼社区 chairs sessions 1 and 4 of six
    assert "景翼社区" in page and "渭运社区" in page


def test_schedule_page_query_count_does_not_grow_with_history(app, client, world, schedule):
    login(client, "bureau_a")
    counts = []
    for months in (6, 24):
        with app.test_request_context():
            services.generate(world.programme, world.bureau, months)
            db.session.commit()
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/schedule").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        counts.append(len(seen))
    assert counts[0] == counts[1]


def test_bureau_generates_from_the_page_and_bad_months_are_refused(client, world, schedule):
    login(client, "bureau_a")
    response = client.post("/schedule/generate", data={"months": "40"})
    assert response.status_code == 422 and 'aria-invalid="true"' in response.get_data(as_text=True)
    response = client.post("/schedule/generate", data={"months": "abc"})
    assert response.status_code == 422
    assert client.post("/schedule/generate", data={"months": "8"}).status_code == 302
    assert len(services.sessions(world.programme.id)) == 8


def test_reorder_page_refuses_non_numbers_naming_the_row(client, world, schedule):
    login(client, "bureau_a")
    a, b, c = world.communities
    response = client.post("/schedule/reorder", data={f"position-{a.id}": "1", f"position-{b.id}": "x",
                                                      f"position-{c.id}": "3"})
    assert response.status_code == 422
    assert 'id="position-%d"' % b.id in response.get_data(as_text=True)
    response = client.post("/schedule/reorder", data={f"position-{a.id}": "3", f"position-{b.id}": "2",
                                                      f"position-{c.id}": "1"})
    assert response.status_code == 302
    assert [x.id for x in services.rotation_order(world.programme.id)] == [c.id, b.id, a.id]


def test_blackout_form_names_the_bad_month(client, world, schedule):
    login(client, "bureau_a")
    response = client.post("/schedule/blackouts", data={"blackout_months": "2027-02, 2027-14"})
    assert response.status_code == 422 and "2027-14" in response.get_data(as_text=True)
    assert world.programme.blackout_months in ([], None)


def test_chair_asks_to_swap_and_the_other_accepts_on_the_pages(client, world, schedule):
    first, second = schedule[0], schedule[1]
    login(client, "sec_a1")
    assert client_ok(client.post(f"/schedule/sessions/{first.id}/ask",
                                 data={"other_session_id": str(second.id), "message": "出差"}))
    client.post("/logout")
    login(client, "sec_a2")  # one client at a time: the app context (and its cached user) is shared
    assert "出差" in client.get("/schedule/swaps").get_data(as_text=True)
    request_id = services.inbox(world.secretaries[1]).incoming[0].id
    response = client.post(f"/schedule/swaps/{request_id}/accept")
    assert client_ok(response), response.get_data(as_text=True)[-800:]
    db.session.expire_all()
    assert db.session.get(Session, first.id).chair_community_id == world.communities[1].id
    page = client.get("/schedule").get_data(as_text=True)
    assert page.count("badge swap") == 2


def client_ok(response):
    return response.status_code == 302


def test_ask_form_with_a_bad_session_id_is_a_field_error(client, world, schedule):
    login(client, "sec_a1")
    response = client.post(f"/schedule/sessions/{schedule[0].id}/ask", data={"other_session_id": "abc"})
    assert response.status_code == 422
    response = client.post(f"/schedule/sessions/{schedule[0].id}/ask",
                           data={"other_session_id": str(schedule[1].id), "message": "x" * 301})
    assert response.status_code == 422


def test_feed_url_from_the_page_serves_a_parseable_calendar(client, world, schedule):
    login(client, "sec_a1")
    response = client.post("/schedule/feeds", data={"community_id": str(world.communities[0].id)})
    assert response.status_code == 302
    feed = services.feeds_of(world.secretaries[0])[0]
    token = services.feed_token(feed)
    anonymous = client.application.test_client()
    response = anonymous.get(f"/calendar/{token}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    events = Calendar.from_ical(response.data).walk("VEVENT")
    assert len(events) == 2
    client.post(f"/schedule/feeds/{feed.id}/revoke")
    assert anonymous.get(f"/calendar/{token}.ics").status_code == 404


# --- API ---------------------------------------------------------------------------------------

def test_api_lists_generates_and_edits(api, world, schedule):
    bureau = api(world.bureau)
    listed = bureau.get("/sessions").get_json()
    assert [s["number"] for s in listed] == [1, 2, 3, 4, 5, 6]
    assert listed[0]["local_start"].startswith("2026-11-26T14:30")
    session_id = listed[0]["id"]
    changed = bureau.patch(f"/sessions/{session_id}", json={"venue": "新会场", "locked": True}).get_json()
    assert changed["venue"] == "新会场" and changed["locked"] and changed["sequence"] == listed[0]["sequence"] + 1
    cancelled = bureau.post(f"/sessions/{listed[1]['id']}/cancel").get_json()
    assert cancelled["status"] == "cancelled" and cancelled["number"] is None
    assert bureau.post("/sessions/generate", json={"months": 8}).status_code == 200


@pytest.mark.parametrize("path, body, field", [
    ("/sessions/generate", {"months": "six"}, "months"),
    ("/sessions/generate", {"months": 99}, "months"),
    ("/sessions/generate", {"weeks": 2}, "weeks"),
    ("/rotation", {"order": "1,2"}, "order"),
    ("/rotation", {"order": [1, 1, 2]}, "order"),
    ("/blackouts", {"blackout_months": ["2027-2"]}, "blackout_months"),
    ("/sessions/swap", {"session_id": 999999, "other_session_id": 1}, "session_id"),
])
def test_api_bad_input_names_the_field_and_changes_nothing(api, world, schedule, path, body, field):
    bureau = api(world.bureau)
    before = bureau.get("/sessions").get_json()
    method = "put" if path in ("/rotation", "/blackouts") else "post"
    response = getattr(bureau, method)(path, json=body)
    assert response.status_code in (400, 404, 409, 422), response.get_data(as_text=True)
    assert field in response.get_json()["error"].get("fields", {})
    assert bureau.get("/sessions").get_json() == before


def test_api_malformed_json_is_a_400(api, world, schedule):
    response = api(world.bureau).post("/sessions/generate", data="{not json",
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_api_edit_into_the_past_names_the_date(api, world, schedule):
    response = api(world.bureau).patch(f"/sessions/{schedule[0].id}", json={"date": "2020-01-01"})
    assert response.status_code == 422 and "date" in response.get_json()["error"]["fields"]


def test_api_swap_request_round_trip_and_feeds(api, world, schedule):
    chair1, chair2 = api(world.secretaries[0]), api(world.secretaries[1])
    created = chair1.post("/swaps", json={"session_id": schedule[0].id, "other_session_id": schedule[1].id})
    assert created.status_code == 201
    request_id = created.get_json()["id"]
    assert chair2.get("/swaps").get_json()["incoming"][0]["id"] == request_id
    assert chair2.post(f"/swaps/{request_id}/accept").get_json()["status"] == "accepted"
    duties = chair2.get(f"/communities/{world.communities[1].id}/duties").get_json()
    assert schedule[0].id in [d["id"] for d in duties]
    feed = chair2.post("/feeds", json={"community_id": world.communities[1].id})
    assert feed.status_code == 201 and "/calendar/" in feed.get_json()["url"]
    assert chair2.post("/feeds", json={"community_id": world.other_community.id}).status_code == 404


def test_api_rotation_draw_returns_the_seed(api, world, schedule):
    body = api(world.bureau).post("/rotation/draw").get_json()
    assert body["seed"] and sorted(body["order"]) == sorted(c.id for c in world.communities)


def test_openapi_lists_every_schedule_route(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ["/api/v1/sessions", "/api/v1/sessions/generate", "/api/v1/sessions/{session_id}",
                 "/api/v1/sessions/{session_id}/cancel", "/api/v1/sessions/swap", "/api/v1/rotation",
                 "/api/v1/rotation/draw", "/api/v1/blackouts", "/api/v1/swaps", "/api/v1/swaps/{request_id}/accept",
                 "/api/v1/swaps/{request_id}/decline", "/api/v1/swaps/{request_id}/withdraw", "/api/v1/feeds",
                 "/api/v1/feeds/{feed_id}", "/api/v1/communities/{community_id}/duties"]:
        assert path in paths, path



def test_home_tells_the_chair_of_the_next_duty_and_the_bureau_of_pending_swaps(client, world, schedule):
    login(client, "sec_a2")
    home = client.get("/").get_data(as_text=True)
    assert "渭运社区" in home and "/schedule#session-%d" % schedule[1].id in home
    with client.application.test_request_context():
        services.request_swap(world.secretaries[1], schedule[1], schedule[0])
        db.session.commit()
    client.post("/logout")
    login(client, "bureau_a")
    assert "/schedule/swaps" in client.get("/").get_data(as_text=True)


def test_tick_marks_past_sessions_held(app, world, schedule, monkeypatch):
    later = schedule[0].starts_at.replace(hour=23)
    said = registry.of(app).run_ticks(later)
    assert said == [f"session {schedule[0].id} (No. 1) held"]
    assert db.session.get(Session, schedule[0].id).status == SessionStatus.HELD


def test_api_sessions_come_a_page_at_a_time(api, world, schedule):
    bureau = api(world.bureau)
    everything = bureau.get("/sessions").get_json()
    seen, cursor, pages = [], None, 0
    while True:
        response = bureau.get("/sessions?limit=4" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200
        seen += response.get_json()
        pages += 1
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            assert "Link" not in response.headers
            break
        assert response.headers["Link"].endswith('rel="next"') and f"cursor={cursor}" in response.headers["Link"]
    assert seen == everything and pages == -(-len(everything) // 4)
    assert bureau.get("/sessions?cursor=999999").status_code == 422
    assert "cursor" in bureau.get("/sessions?cursor=abc").get_json()["error"]["fields"]
    assert bureau.get("/sessions?limit=0").status_code == 422
    spec = bureau.get("/openapi.json").get_json()["paths"]["/api/v1/sessions"]["get"]
    assert {p["name"] for p in spec["parameters"]} >= {"cursor", "limit"}
    assert "X-Next-Cursor" in spec["responses"]["200"]["headers"]


def test_api_duties_come_a_page_at_a_time(api, world, schedule):
    bureau = api(world.bureau)
    community = world.communities[0].id
    chaired = [s.id for s in schedule if s.chair_community_id == community]
    assert len(chaired) == 2
    seen, cursor = [], None
    while True:
        response = bureau.get(f"/communities/{community}/duties?limit=1" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200 and len(response.get_json()) == 1
        seen += [d["id"] for d in response.get_json()]
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            break
        assert f"/communities/{community}/duties?" in response.headers["Link"]
    assert seen == chaired
    assert len(bureau.get(f"/communities/{community}/duties").get_json()) == min(len(chaired), 20)
    spec = bureau.get("/openapi.json").get_json()["paths"]["/api/v1/communities/{community_id}/duties"]["get"]
    assert {p["name"] for p in spec["parameters"]} >= {"cursor", "limit"}
    assert "X-Next-Cursor" in spec["responses"]["200"]["headers"]


def test_api_generate_answers_the_coming_sessions_not_the_history(api, world, schedule, monkeypatch):
    from datetime import timedelta

    later = schedule[2].starts_at + timedelta(days=1)  # sessions 1–3 are history now
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    answered = [s["id"] for s in api(world.bureau).post("/sessions/generate", json={"months": 8}).get_json()]
    assert answered and not {s.id for s in schedule[:3]} & set(answered)
    assert {s.id for s in schedule[3:]} <= set(answered)
