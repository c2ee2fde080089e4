"""Journey of the half-year review on a phone (360 px): the bureau holds the review and shows the check-in
QR code; a secretary opens the QR code's link, checks in, votes (radio groups, confirmation in the page, sealed in the browser, the receipt
its fingerprint: SPEC §5.1); the bureau closes the review, which then awaits the drawn trustees; three of them
decrypt by one click each on their own devices; the result page spells out the arithmetic, and the election it
triggers is open: the secretary stands with one button, and the committee page says why the bureau decides
meanwhile.
Selectors avoid wording except the arithmetic itself (zh-Hans, the default)."""
from __future__ import annotations

import re

from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from salon.demo import BUREAU_LOGIN, SECRETARY_PASSWORD
from tests.e2e.conftest import fits_width, log_in, poll_id_of, require_sealing, trustees_decrypt, vote_sealed

pytestmark = pytest.mark.e2e


def _no_quorum(database_url: str) -> None:
    """Set-up: the bureau has switched the quorum off (a setting), so one person present can decide."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE programmes SET review_quorum = :f"), {"f": False})
    engine.dispose()


def _second_review_due(database_url: str) -> None:
    """Set-up: six more months of the demo committee's service have passed, so its second review is due."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        term_id, started = conn.execute(text(
            "SELECT id, started_at FROM committee_terms WHERE ended_at IS NULL")).one()
        if isinstance(started, str):  # SQLite hands back text
            started = datetime.fromisoformat(started)
        conn.execute(text("UPDATE committee_terms SET started_at = :s WHERE id = :i"),
                     {"s": started - timedelta(days=190), "i": term_id})
    engine.dispose()


def test_qr_check_in_review_ballot_result_and_election(live_server, new_page, shot):
    require_sealing()
    _no_quorum(live_server.database_url)
    _second_review_due(live_server.database_url)
    base = live_server.url
    desk = new_page(360)
    def accept(dialog):
        dialog.accept()

    desk.on("dialog", accept)
    log_in(desk, base, *BUREAU_LOGIN)
    desk.goto(f"{base}/reviews/")
    desk.click("#hold-review")
    desk.wait_for_selector("#open-review")
    shot(desk, "review-open-confirm-360")
    assert fits_width(desk)
    if desk.locator("#no-topic").count():  # no committee topic held since the demo's first review: say so
        desk.check("input[name=confirm_empty]")
    desk.click("#open-review")
    desk.wait_for_url(re.compile(r".*/reviews/\d+$"))
    review_url = desk.url
    desk.click("a[href$='/qr']")
    desk.wait_for_selector("#qr svg")
    shot(desk, "review-qr-360")
    assert fits_width(desk)
    link = desk.get_attribute("#checkin-link", "href")
    assert "/reviews/checkin/" in link

    phone = new_page(360)
    log_in(phone, base, "sec05", SECRETARY_PASSWORD)
    phone.goto(link)
    phone.click("main form button[type=submit]")
    phone.wait_for_url("**/vote")
    radios = phone.locator("form.form fieldset").last.locator("input[type=radio]")
    radios.nth(1).check()  # overall: support, oppose, abstain, blank → oppose
    shot(phone, "review-vote-360")
    assert fits_width(phone)
    vote_sealed(phone, shot, "review-vote")
    shot(phone, "review-receipt-360")

    desk.goto(review_url)
    asked = []
    desk.remove_listener("dialog", accept)
    desk.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    desk.check("#understood")
    desk.click("#close-review button")
    desk.wait_for_selector(".awaiting-trustees")  # sealed: the rule applies once the trustees have counted
    assert asked and "无法撤销" in asked[0]
    assert desk.locator("#arithmetic").count() == 0 and desk.locator(".awaited-trustees").count() == 1
    shot(desk, "review-awaiting-360")
    assert fits_width(desk)
    assert len(trustees_decrypt(new_page, live_server, poll_id_of(desk))) == 3  # the drawn term: 3 of 4

    phone.goto(review_url)
    arithmetic = phone.inner_text("#arithmetic")
    assert "反对 1 人 / 参会 1 人 = 100.0%，高于 60%：委员会改选" in arithmetic
    shot(phone, "review-result-360")
    assert fits_width(phone)
    phone.click("#election")
    phone.wait_for_url("**/committee/elections/*")
    assert phone.locator("form[action$='/candidates']").count() >= 1  # standing is open
    shot(phone, "review-election-360")
    assert fits_width(phone)
    phone.click("#stand button")  # one button: the secretary stands (a recalled member may stand again)
    phone.wait_for_selector("#candidates .badge.ok")
    assert phone.locator("#candidates .badge.ok").count() == 1
    shot(phone, "review-election-standing-360")
    assert fits_width(phone)
    phone.goto(f"{base}/committee/")
    assert "半年评议" in phone.inner_text("#why-bureau")  # recalled: the bureau decides meanwhile, and why
