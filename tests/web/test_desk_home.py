"""The bureau's home page (issue 9): tasks from the programme's state, each linking to where it is done, with
copy-ready notices for the chat group."""
from __future__ import annotations

import re

from salon.home import notices
from tests.conftest import login
from tests.web.test_topics import nominate, sessions  # noqa: F401 - fixture


def _home(client) -> str:
    return client.get("/").get_data(as_text=True)


def test_bureau_home_follows_a_session_through_its_stages(client, api, world, sessions):  # noqa: F811
    s2 = sessions[1]
    login(client, "bureau_a")
    page = _home(client)
    assert "没有待办" not in page and "Nothing is waiting" not in page
    assert 'data-stage="nominations_open"' in page and f'/sessions/{s2.id}#nominations' in page
    assert "0" in page and "data-copy=" in page
    notice = re.search(r'<textarea[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert f"http://salon.test/sessions/{s2.id}" in notice and "推荐" in notice

    assert nominate(api(world.secretaries[0]), s2, "万能章").status_code == 201
    assert api(world.bureau).post(f"/sessions/{s2.id}/voting/open").status_code in (200, 201)
    page = _home(client)
    assert 'data-stage="voting_open"' in page and "0 of 3" not in page  # Chinese by default
    assert f"http://salon.test/topics/sessions/{s2.id}/vote" in page

    assert api(world.bureau).post(f"/sessions/{s2.id}/voting/close").status_code in (200, 201)
    page = _home(client)
    assert f"/topics/sessions/{s2.id}/decide" in page

    nomination_id = api(world.bureau).get(f"/sessions/{s2.id}/topic").get_json()["nominations"][0]["id"]
    assert api(world.bureau).post(f"/sessions/{s2.id}/decision",
                                  json={"nomination_id": nomination_id, "rationale": "唯一"}).status_code == 201
    page = _home(client)
    assert 'data-stage="topic_decided"' in page and "万能章" in page
    assert f"/topics/sessions/{s2.id}/agenda#guests" in page


def test_notices_are_chinese_and_rooms_can_add_stages(app, world, sessions):  # noqa: F811
    with app.test_request_context():
        text = notices.notice("voting_open", programme=world.programme, session=sessions[1],
                              deadline=sessions[1].starts_at, link="http://x/vote")
        assert "投票" in text and "http://x/vote" in text
        notices.register("test_stage", lambda link: f"看这里 {link}")
        try:
            assert notices.notice("test_stage", link="L") == "看这里 L"
        finally:
            notices._builders.pop("test_stage")


def test_one_session_page_and_old_addresses_redirect(client, api, world, sessions):  # noqa: F811
    s2 = sessions[1]
    login(client, "sec_a1")
    for old in (f"/schedule/sessions/{s2.id}", f"/topics/sessions/{s2.id}"):
        response = client.get(old)
        assert response.status_code == 301 and response.headers["Location"].endswith(f"/sessions/{s2.id}")
    page = client.get(f"/sessions/{s2.id}").get_data(as_text=True)
    for part in ('id="when"', 'id="nominations"', 'id="vote"', 'id="decision"', 'id="agenda"'):
        assert part in page
    assert f"/topics/sessions/{s2.id}/nominate" in page and "景翼社区" in page
    assert client.get("/sessions/999999").status_code == 404


def test_topics_list_shows_what_is_active_first(client, world, sessions):  # noqa: F811
    login(client, "bureau_a")
    page = client.get("/topics/").get_data(as_text=True)
    active, history = page.index('id="active"'), page.index('id="history"')
    assert active < page.index(f'/sessions/{sessions[1].id}"') < history
    assert page.index(f'/sessions/{sessions[0].id}"') > history
    assert "1 more planned sessions" in page or "还有 1 期" in page


def test_account_page_holds_tokens_for_everyone(client, world):
    login(client, "sec_a1")
    home = client.get("/").get_data(as_text=True)
    assert "/account/tokens" not in home and 'href="/account"' in home
    assert "/account/tokens" in client.get("/account").get_data(as_text=True)


def test_generator_tells_the_bureau_when_a_new_session_is_too_close(client, world, monkeypatch):
    from datetime import datetime

    from salon import clock

    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2026, 11, 21, 2, 0))  # 第1期 would be on the 26th
    login(client, "bureau_a")
    response = client.post("/schedule/generate", data={"months": "3"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/schedule")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "flash-error" in page and "太近" in page
    home = _home(client)
    assert "#when" in home  # the home page says what to do about it, and links there
