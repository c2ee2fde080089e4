"""Issue 9's journey: the bureau at a desk (1280 px) and a secretary on a phone (360 px) walk a session's month
from the home page alone — every step is reached from a task on the home page or a link on the page it leads to;
no address is typed after logging in. The vote is sealed in the browser (SPEC §5.1); the trustees' decryption,
one more home-page task, is left to the topic journey (test_topic_journeys.py). Screenshots of the home page,
the session page and the topics list."""
from __future__ import annotations

import pytest

from salon.demo import BUREAU_LOGIN, SECRETARY_PASSWORD
from tests.e2e.conftest import fits_width, log_in, require_sealing, vote_sealed
from tests.e2e.test_topic_journeys import _future_session

pytestmark = pytest.mark.e2e


def _home(page):
    page.click("a.brand")
    page.wait_for_load_state()


def _task(page, href_end: str):
    """Follow the home page's task whose link ends with href_end."""
    _home(page)
    page.click(f"ul.tasks a[href$='{href_end}']")
    page.wait_for_load_state()


def test_a_month_from_the_home_page(live_server, new_page, shot):
    require_sealing()  # the demo's polls open sealed (SPEC §5.1): the vote is sealed in the browser
    sid = _future_session(live_server.database_url)  # nominations open today, voting opens in 6 days
    base = live_server.url

    desk = new_page(1280, 900)
    desk.on("dialog", lambda dialog: dialog.accept())
    log_in(desk, base, *BUREAU_LOGIN)
    assert desk.locator("ul.tasks li[data-stage=nominations_open]").count() == 1
    notice = desk.locator("ul.tasks li[data-stage=nominations_open] textarea").input_value()
    assert f"/sessions/{sid}" in notice
    desk.click("ul.tasks li[data-stage=nominations_open] summary")
    desk.click("ul.tasks li[data-stage=nominations_open] button[data-copy]")
    shot(desk, "desk-home-1280")

    phone = new_page(360)
    log_in(phone, base, "sec01", SECRETARY_PASSWORD)
    shot(phone, "desk-home-360")
    assert fits_width(phone)
    phone.click(f"ul.tasks a[href$='/topics/sessions/{sid}/nominate']")
    phone.fill("input[name=title]", "社区养老服务站如何运营")
    phone.fill("textarea[name=problem]", "服务站建成后使用率低，例如每天只有两三位老人。")
    phone.click("form.form button[type=submit]")
    phone.wait_for_url(f"**/sessions/{sid}")
    assert "社区养老服务站如何运营" in phone.content()

    _task(desk, f"/sessions/{sid}#nominations")  # the session page: the bureau may open voting early
    desk.click(f"form[action$='/topics/sessions/{sid}/open-vote'] button")
    desk.wait_for_load_state()

    _task(phone, f"/topics/sessions/{sid}/vote")
    assert phone.locator("details.nomination-text").count() >= 1  # each nomination's text, to read before voting
    assert fits_width(phone)
    shot(phone, "desk-vote-360")
    phone.check("input[name=choices]")
    vote_sealed(phone)  # confirmed in the page; the receipt is the sealed ballot's fingerprint

    _home(desk)
    assert desk.locator("ul.tasks li[data-stage=voting_open]").count() == 1
    desk.click("ul.tasks li[data-stage=voting_open] a")
    desk.check("#close-vote-understood")  # an irreversible action: the box, then the dialog
    desk.click(f"form[action$='/topics/sessions/{sid}/close-vote'] button")
    desk.wait_for_url(f"**/topics/sessions/{sid}/results")
    # One sealed ballot, below the minimum of 3 (SPEC §5): a topic vote's outcome needs no count there, so nothing
    # is decrypted and the vote is counted at its close (the trustees' one click: the topic journey).
    assert desk.locator(".sealed-withheld").count() == 1 and desk.locator(".awaiting-trustees").count() == 0
    _home(desk)  # the bureau is trustee 1: nothing of this vote awaits its decryption
    assert desk.locator("ul.tasks a[href*='/trustees/']").count() == 0

    # The demo's committee sits (SPEC §3.3): each member picks from a task on their home page, signed by name,
    # and the first nomination two of the three pick is the topic. sec01 and sec02 are members.
    for member in (phone, new_page(360)):
        if member is not phone:
            log_in(member, base, "sec02", SECRETARY_PASSWORD)
        _task(member, f"/committee/sessions/{sid}/pick")
        member.check("input[name=nomination_id]")
        member.fill("textarea[name=rationale]", "社区普遍关心。")
        member.click("form.form button[type=submit]")
        member.wait_for_load_state()
    assert "社区养老服务站如何运营" in phone.content() or phone.locator("#picks li").count() >= 1

    _task(desk, f"/topics/sessions/{sid}/agenda#guests")
    desk.fill("input[name=name]", "李主任")
    desk.fill("input[name=unit]", "县卫健局")
    desk.click(f"form[action$='/topics/sessions/{sid}/guests'] button[type=submit]")
    desk.wait_for_load_state()
    assert "李主任" in desk.content()

    _home(desk)
    assert desk.locator("ul.tasks li[data-stage=topic_decided]").count() == 1
    desk.click("ul.tasks li[data-stage=topic_decided] a")
    desk.wait_for_url(f"**/sessions/{sid}")
    assert "李主任" in desk.content()
    shot(desk, "desk-session-1280")

    desk.click("nav.menu a[href$='/topics/']")
    desk.wait_for_load_state()
    shot(desk, "desk-topics-1280")

    _home(phone)
    phone.click(f"ul.tasks a[href*='/sessions/{sid}']")
    phone.wait_for_load_state()
    assert "社区养老服务站如何运营" in phone.content() and "李主任" in phone.content()
    assert fits_width(phone)
    shot(phone, "desk-session-360")
    phone.click("nav.menu a[href$='/topics/']")
    assert fits_width(phone)
    shot(phone, "desk-topics-360")
