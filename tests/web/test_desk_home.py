"""The bureau's home page (issue 9): tasks from the programme's state, each linking to where it is done, with
copy-ready notices for the chat group."""
from __future__ import annotations

import html
import re

from salon import registry
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
        notices.register(app, "test_stage", lambda link: f"看这里 {link}")
        try:
            assert notices.notice("test_stage", link="L") == "看这里 L"
        finally:
            registry.of(app).notices.pop("test_stage")


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


def _notice(page: str, stage: str) -> str:
    """The copy-ready text of the task at `stage`, as the bureau copies it."""
    item = re.search(rf'<li[^>]*data-stage="{stage}"[^>]*>(.*?)</li>', page, re.S)
    assert item is not None, f"no task at stage {stage}"
    assert "data-copy=" in item.group(1)  # the copy button
    return html.unescape(re.search(r'<textarea[^>]*>(.*?)</textarea>', item.group(1), re.S).group(1))


def test_the_bureau_gets_a_notice_when_the_packet_is_ready(app, client, world):
    from datetime import timedelta

    from salon import clock
    from salon.schedule.models import SessionStatus
    from tests.outcome_helpers import decided_session

    starts = clock.utcnow() + timedelta(days=6)
    session = decided_session(world.programme, world.bureau, world.communities[0], 2, starts, "如何破解社区万能章",
                              world.communities, world.secretaries, status=SessionStatus.PLANNED)
    login(client, "bureau_a")
    text = _notice(_home(client), "packet_ready")
    assert f"http://salon.test/packets/sessions/{session.id}" in text
    assert "第2期" in text and "会议材料" in text and "民政局三楼会议室" in text
    with app.test_request_context():
        from flask_babel import force_locale

        from salon.i18n import session_time

        with force_locale("zh_Hans"):
            assert f"{session_time(starts)}前" in text  # the deadline: the session's start, in the group's words
    # The chair's secretary is offered the packet too, but the notice for the group is the bureau's to send.
    chair = app.test_client()
    login(chair, "sec_a1")
    chair_home = _home(chair)
    assert f"/packets/sessions/{session.id}" in chair_home and 'data-stage="packet_ready"' not in chair_home


def test_the_bureau_gets_the_review_notice_for_the_group_without_the_check_in_link(app, client, world, monkeypatch):
    from datetime import timedelta

    from salon import clock
    from salon.reviews import services as reviews
    from tests.web.test_review_report import _open_review

    review_id = _open_review(app, world)
    with app.test_request_context():
        closes = reviews.get_review(review_id, world.programme.id).checkin_until
    login(client, "bureau_a")
    page = _home(client)
    assert f'/reviews/{review_id}/qr' in page
    qr = client.get(f"/reviews/{review_id}/qr").get_data(as_text=True)
    assert "<svg" in qr and "/reviews/checkin/" in qr  # the code to show at the venue while check-in is open
    text = _notice(page, "review_checkin")
    assert "签到" in text and f"{world.programme.checkin_hours} 小时" in text
    with app.test_request_context():
        from flask_babel import force_locale

        from salon.i18n import session_time

        with force_locale("zh_Hans"):
            assert session_time(closes) in text  # until when the link works
    # The notice leads to the review's page, which tells a secretary to scan the code at the venue; the signed
    # check-in link itself never goes to the group, so nobody checks in from home.
    assert "/reviews/checkin/" not in text
    link = re.search(r"http://salon\.test(/reviews/\d+)", text).group(1)
    assert link == f"/reviews/{review_id}"
    with app.test_request_context():
        before = reviews.present_seats(review_id)
    secretary = app.test_client()
    login(secretary, "sec_a2")
    assert secretary.get(link).status_code == 200
    with app.test_request_context():
        assert reviews.present_seats(review_id) == before  # reading the page checks nobody in
    # Once check-in is over, the task and its notice are gone.
    monkeypatch.setattr(clock, "utcnow", lambda: closes + timedelta(minutes=1))
    assert 'data-stage="review_checkin"' not in _home(client)
    assert "<svg" not in client.get(f"/reviews/{review_id}/qr").get_data(as_text=True)
