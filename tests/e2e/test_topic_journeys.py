"""Journey of a session's topic on a phone (360 px): a secretary nominates, votes with the confirmation
step and keeps the receipt; the bureau closes the poll; the demo's sitting committee decides by two signed
picks (one with the rationale the lone ballot requires); the bureau edits the agenda; the secretary finds the
receipt in the published list. Selectors avoid wording, so it runs in either language."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from salon.demo import BUREAU_LOGIN, SECRETARY_PASSWORD
from tests.e2e.conftest import fits_width, log_in

pytestmark = pytest.mark.e2e


def _future_session(database_url: str) -> int:
    """The demo's next planned session, moved 20 days ahead so its nominations are open today."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        session_id = conn.execute(text(
            "SELECT s.id FROM salon_sessions s JOIN programmes p ON p.id = s.programme_id "
            "WHERE s.status = 'PLANNED' ORDER BY p.id, s.number LIMIT 1")).scalar()
        # 20 days ahead at 14:30 in Shanghai (06:30 UTC), the programme's usual time
        starts = (datetime.now(timezone.utc) + timedelta(days=20)).replace(tzinfo=None, hour=6, minute=30, second=0,
                                                                          microsecond=0)
        conn.execute(text("UPDATE salon_sessions SET starts_at = :s WHERE id = :i"), {"s": starts, "i": session_id})
    engine.dispose()
    return session_id


def test_nominate_vote_decide_agenda_receipt(live_server, new_page, shot):
    sid = _future_session(live_server.database_url)
    base = live_server.url

    phone = new_page(360)
    log_in(phone, base, "sec01", SECRETARY_PASSWORD)
    phone.goto(f"{base}/topics/sessions/{sid}")
    phone.click(f"a[href$='/topics/sessions/{sid}/nominate']")
    phone.fill("input[name=title]", "如何让居民议事会开得起来")
    phone.fill("textarea[name=problem]", "议事会到会率低，例如上月只有三人参加。")
    phone.fill("input[name=outside_units]", "县民政局")
    shot(phone, "topics-nominate-360")
    assert fits_width(phone)
    phone.click("form.form button[type=submit]")
    phone.wait_for_url(f"**/sessions/{sid}")
    assert "如何让居民议事会开得起来" in phone.content()

    desk = new_page(360)
    desk.on("dialog", lambda dialog: dialog.accept())
    log_in(desk, base, *BUREAU_LOGIN)
    desk.goto(f"{base}/topics/sessions/{sid}")
    desk.click(f"form[action$='/topics/sessions/{sid}/open-vote'] button")
    desk.wait_for_load_state()

    phone.goto(f"{base}/topics/sessions/{sid}/vote")
    phone.check("input[name=choices]")
    shot(phone, "topics-vote-360")
    assert fits_width(phone)
    phone.click("form.form button[type=submit]")
    phone.wait_for_selector("#cast")
    shot(phone, "topics-vote-confirm-360")
    phone.click("#cast")
    receipt = phone.inner_text("#receipt").strip()
    assert len(receipt) == 14
    shot(phone, "topics-receipt-360")
    assert fits_width(phone)

    desk.goto(f"{base}/topics/sessions/{sid}")
    desk.check("#close-vote-understood")  # an irreversible action: the box, then the dialog
    desk.click(f"form[action$='/topics/sessions/{sid}/close-vote'] button")
    desk.wait_for_url(f"**/topics/sessions/{sid}/results")
    # The demo's committee sits (sec01, sec02 and sec05), so its members decide by signed picks (SPEC §3.3).
    phone.goto(f"{base}/committee/sessions/{sid}/pick")
    phone.check("input[name=nomination_id]")
    phone.click("form.form button[type=submit]")
    assert phone.locator("[role=alert]").count() > 0  # one ballot: no tally to follow, a rationale is needed
    phone.check("input[name=nomination_id]")
    phone.fill("textarea[name=rationale]", "唯一的推荐议题，社区普遍关心。")
    phone.click("form.form button[type=submit]")
    phone.wait_for_url(f"**/committee/sessions/{sid}/pick")
    second = new_page(360)
    log_in(second, base, "sec02", SECRETARY_PASSWORD)
    second.goto(f"{base}/committee/sessions/{sid}/pick")
    second.check("input[name=nomination_id]")
    second.fill("textarea[name=rationale]", "同意。")
    second.click("form.form button[type=submit]")
    second.wait_for_url(f"**/committee/sessions/{sid}/pick")
    assert second.locator("#picks li").count() == 2
    shot(second, "committee-picks-360")
    assert fits_width(second)
    desk.goto(f"{base}/topics/sessions/{sid}/agenda")
    desk.click(f"a[href$='/topics/sessions/{sid}/agenda/edit']")
    desk.fill("input[name='items-0-title']", "主持人开场并介绍嘉宾")
    desk.click("form.form button[type=submit]")
    desk.wait_for_url(f"**/topics/sessions/{sid}/agenda")
    assert "主持人开场并介绍嘉宾" in desk.content()
    shot(desk, "topics-agenda-360")
    assert fits_width(desk)

    phone.goto(f"{base}/topics/sessions/{sid}/results")
    assert receipt in phone.content()
    phone.fill("input[name=receipt]", receipt)
    phone.click("form.inline-search button")
    assert phone.locator(".flash-success").count() == 1
    assert "唯一的推荐议题" in phone.content()
    shot(phone, "topics-results-360")
    assert fits_width(phone)
