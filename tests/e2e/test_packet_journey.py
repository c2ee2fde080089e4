"""Journey of the session packet on a phone (360 px): the chair opens the packet from the home page, creates a
guest link, and the link opens the packet (page and PDF) in a fresh browser without logging in. Also looks at
what was built after a session. Selectors avoid wording, so it runs in either language."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from salon.demo import SECRETARY_PASSWORD
from tests.e2e.conftest import fits_width, log_in

pytestmark = pytest.mark.e2e


def _third_session_upcoming(database_url: str) -> int:
    """The demo's session 3 (decided, chaired by 陕拖社区, sec03) moved to two hours from now, so its chair's
    home page offers its packet."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        session_id = conn.execute(text(
            "SELECT s.id FROM salon_sessions s JOIN programmes p ON p.id = s.programme_id "
            "WHERE s.number = 3 ORDER BY p.id LIMIT 1")).scalar()
        starts = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0) + timedelta(hours=2)
        conn.execute(text("UPDATE salon_sessions SET starts_at = :s, status = 'PLANNED' WHERE id = :i"),
                     {"s": starts, "i": session_id})
    engine.dispose()
    return session_id


def test_chair_shares_the_packet_with_a_guest(live_server, new_page, shot):
    base = live_server.url
    sid = _third_session_upcoming(live_server.database_url)

    chair = new_page(360)
    log_in(chair, base, "sec03", SECRETARY_PASSWORD)
    chair.goto(base + "/")
    shot(chair, "packet-home-360")
    chair.click(f"ul.tasks a[href$='/packets/sessions/{sid}']")
    chair.wait_for_url(f"**/packets/sessions/{sid}")
    assert "如何破解社区万能章" in chair.content() and "陕拖社区" in chair.content()
    assert fits_width(chair)
    shot(chair, "packet-page-360")
    pdf = chair.context.request.get(f"{base}/packets/sessions/{sid}/packet.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    chair.click(f"a[href$='/packets/sessions/{sid}/links']")
    chair.wait_for_url(f"**/packets/sessions/{sid}/links")
    chair.fill("input[name=label]", "县医保局 王科长")
    chair.click("form.form button[type=submit]")
    chair.wait_for_selector("#new-link")
    assert fits_width(chair)
    shot(chair, "packet-links-360")
    link = chair.inner_text("#new-link").strip()
    assert "/packet/" in link

    guest = new_page(360)  # a fresh context: no cookies, never logged in
    guest.goto(link)
    content = guest.content()
    assert "如何破解社区万能章" in content and "王科长" in content
    assert "/logout" not in content and "/topics/" not in content
    assert fits_width(guest)
    shot(guest, "packet-guest-360")
    pdf = guest.context.request.get(link + "/packet.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    # The same link does not open anything else.
    guest.goto(f"{base}/packets/sessions/{sid}")
    assert "/login" in guest.url


def test_after_the_session_page_on_a_phone(live_server, new_page, shot):
    base = live_server.url
    bureau = new_page(360)
    log_in(bureau, base, "bureau", "demo-bureau-2023")
    bureau.goto(base + "/outcomes/overdue")
    assert "某保险公司" in bureau.content()  # the demo's overdue item
    bureau.click("ul.rows li.overdue a")
    bureau.wait_for_load_state()
    assert fits_width(bureau)
    shot(bureau, "outcomes-action-360")
    bureau.click("a[href*='/outcomes/sessions/']")
    bureau.wait_for_load_state()
    assert bureau.locator("li.overdue").count() == 1
    assert fits_width(bureau)
    shot(bureau, "outcomes-session-360")
