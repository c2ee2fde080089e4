"""Journey of the schedule: the bureau generates the schedule and swaps two chairs at a desk; a chair
sees the change on a phone-sized page and in the calendar feed."""
import urllib.request

import pytest
from icalendar import Calendar
from sqlalchemy import create_engine, text

from salon.demo import BUREAU_LOGIN, SECRETARY_PASSWORD
from tests.e2e.conftest import fits_width, log_in

pytestmark = pytest.mark.e2e


def _session_ids(page) -> list[int]:
    rows = page.locator("section.card").first.locator("li.session")
    return [int(rows.nth(i).get_attribute("id").split("-")[1]) for i in range(rows.count())]


def _chair_login(database_url: str, session_id: int) -> str:
    """The login of the secretary whose community chairs the session (the demo's rotation decides which)."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        login = conn.execute(text(
            "SELECT u.username FROM salon_sessions s JOIN seats ON seats.community_id = s.chair_community_id "
            "JOIN seat_holdings h ON h.seat_id = seats.id AND h.ended_at IS NULL JOIN users u ON u.id = h.user_id "
            "WHERE s.id = :i"), {"i": session_id}).scalar_one()
    engine.dispose()
    return login


def test_bureau_swaps_two_chairs_and_the_chair_sees_it_on_a_phone_and_in_the_feed(live_server, new_page, shot):
    desk = new_page(1280)
    log_in(desk, live_server.url, *BUREAU_LOGIN)
    desk.goto(live_server.url + "/schedule/manage")
    desk.fill("input[name=months]", "24")
    desk.click("form[action$='/schedule/generate'] button[type=submit]")
    desk.wait_for_url("**/schedule")
    upcoming = _session_ids(desk)
    assert len(upcoming) >= 23
    shot(desk, "schedule-generated-1280")

    first, second = upcoming[0], upcoming[1]
    chair = _chair_login(live_server.database_url, first)
    desk.goto(f"{live_server.url}/schedule/sessions/{first}")  # the old address leads to the session page
    desk.click("details.bureau-tools summary")
    desk.select_option("form[action$='/swap'] select[name=other_session_id]", str(second))
    desk.click("form[action$='/swap'] button[type=submit]")
    desk.wait_for_url("**/schedule")
    assert desk.locator(".flash-success").count() == 1

    phone = new_page(360)
    log_in(phone, live_server.url, chair, SECRETARY_PASSWORD)
    phone.goto(live_server.url + "/schedule")
    mine = phone.locator("section.card").first.locator("li.session.mine").first
    assert mine.get_attribute("id") == f"session-{second}"
    assert mine.locator(".badge.swap").count() == 1
    assert fits_width(phone)
    shot(phone, "schedule-after-swap-360")

    phone.goto(f"{live_server.url}/schedule/sessions/{second}")
    assert fits_width(phone)
    shot(phone, "session-my-duty-360")

    phone.goto(live_server.url + "/schedule/feeds")
    phone.click("form.form button[type=submit]")
    link = phone.input_value("input.copy")
    assert "/calendar/" in link and fits_width(phone)
    shot(phone, "calendar-links-360")
    with urllib.request.urlopen(link, timeout=10) as response:
        calendar = Calendar.from_ical(response.read())
    uids = {str(event["UID"]) for event in calendar.walk("VEVENT")}
    assert any(uid.startswith(f"salon-session-{second}@") for uid in uids)
    assert not any(uid.startswith(f"salon-session-{first}@") for uid in uids)
