"""Issue 17's sealed journey, a session's topic on phones (360 px): a secretary nominates; the bureau opens the
vote, sealed to the sitting committee's trustees; the secretary (on a page slowed down 4x, like a cheap phone)
seals and casts in the browser, the page posting only the sealed ballot, and keeps the receipt, the ballot's
fingerprint; two more secretaries vote; the bureau closes the vote and the result page says the trustees are
awaited (m of k, by name); three trustees each restore their key from its backup on their own device and
decrypt by one click; the result appears; the bulletin board lists the fingerprint and its download passes the
standalone verifier; the committee decides by two signed picks (one refused without the rationale a pick
against the count needs); the bureau edits the agenda; the secretary finds the receipt in the published list.
Selectors avoid wording except the numbers shown, so it runs in either language."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from salon.demo import BUREAU_LOGIN, SECRETARY_PASSWORD
from tests.e2e.conftest import (ROOT, fits_width, log_in, poll_id_of, require_sealing, trustees_decrypt,
                                vote_sealed)

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


DEMO_TOPIC = "社区养老服务站如何用起来 (示例)"  # the demo's nomination for this session
OURS = "如何让居民议事会开得起来"

# Prepare and seal the page's own ballot again in the page, timed (nothing is posted): the whole cost of sealing.
_TIME_SEALING = """async (rows) => {
    const sealed = await import('/static/sealed.js');
    const spec = JSON.parse(document.getElementById('ballot-form').dataset.sealSpec);
    const started = performance.now();
    const prepared = sealed.prepare(spec.poll, spec.public_key, spec.questions, undefined, spec.protocol || 1);
    const middle = performance.now();
    sealed.sealPrepared(prepared, rows);
    return [middle - started, performance.now() - middle];
}"""


def _choose(page, title: str) -> list[list[int]]:
    """Tick one nomination on the vote page; answers the ballot's rows (0/1 per position) for _TIME_SEALING."""
    page.locator("label.choice", has_text=title).locator("input").check()
    spec = json.loads(page.locator("#ballot-form").get_attribute("data-seal-spec"))
    chosen = int(page.locator("label.choice", has_text=title).locator("input").get_attribute("value"))
    return [[1 if option == chosen else 0 for option in q["option_ids"]] for q in spec["questions"]]


def test_nominate_seal_decrypt_verify_decide_agenda_receipt(live_server, new_page, shot, tmp_path):
    require_sealing()
    sid = _future_session(live_server.database_url)
    base = live_server.url

    phone = new_page(360)
    log_in(phone, base, "sec01", SECRETARY_PASSWORD)
    phone.goto(f"{base}/topics/sessions/{sid}")
    phone.click(f"a[href$='/topics/sessions/{sid}/nominate']")
    phone.fill("input[name=title]", OURS)
    phone.fill("textarea[name=problem]", "议事会到会率低，例如上月只有三人参加。")
    phone.fill("input[name=outside_units]", "县民政局")
    shot(phone, "topics-nominate-360")
    assert fits_width(phone)
    phone.click("form.form button[type=submit]")
    phone.wait_for_url(f"**/sessions/{sid}")
    assert OURS in phone.content()

    desk = new_page(360)
    desk.on("dialog", lambda dialog: dialog.accept())
    log_in(desk, base, *BUREAU_LOGIN)
    desk.goto(f"{base}/topics/sessions/{sid}")
    desk.click(f"form[action$='/topics/sessions/{sid}/open-vote'] button")
    desk.wait_for_load_state()

    # The secretary's phone is slow: 4x CPU throttling on this page (Chrome DevTools Protocol).
    cdp = phone.context.new_cdp_session(phone)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    phone.goto(f"{base}/topics/sessions/{sid}/vote")
    assert phone.locator("#sealed-note").count() == 1  # the page says it seals in the browser
    rows = _choose(phone, OURS)
    shot(phone, "topics-vote-360")
    assert fits_width(phone)
    prepare_ms, seal_ms = phone.evaluate(_TIME_SEALING, rows)
    vote = vote_sealed(phone, shot, "topics-vote")
    print(f"\nsealing a {len(rows[0])}-option topic ballot at 4x CPU throttling: prepare {prepare_ms:.0f} ms + "
          f"seal {seal_ms:.0f} ms in the page; {vote.seconds * 1000:.0f} ms from the click on cast to the "
          f"sealed ballot's request (prepared while the voter read)")
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    receipt = vote.receipt
    shot(phone, "topics-receipt-360")
    assert fits_width(phone)
    for login in ("sec02", "sec03"):  # SPEC §5: counts are published from three ballots
        voter = new_page(360)
        log_in(voter, base, login, SECRETARY_PASSWORD)
        voter.goto(f"{base}/topics/sessions/{sid}/vote")
        _choose(voter, OURS)
        vote_sealed(voter)
    blank_voter = new_page(360)  # a blank ballot: nothing ticked, sealed in the browser with its blank position set
    log_in(blank_voter, base, "sec04", SECRETARY_PASSWORD)
    blank_voter.goto(f"{base}/topics/sessions/{sid}/vote")
    vote_sealed(blank_voter)

    desk.goto(f"{base}/topics/sessions/{sid}")
    desk.check("#close-vote-understood")  # an irreversible action: the box, then the dialog
    desk.click(f"form[action$='/topics/sessions/{sid}/close-vote'] button")
    desk.wait_for_url(f"**/topics/sessions/{sid}/results")
    phone.goto(f"{base}/topics/sessions/{sid}/results")
    waiting = phone.inner_text(".awaiting-trustees")
    assert "0" in waiting and "3" in waiting  # 0 of the 3 trustees needed (the committee's four: k = 3)
    awaited = phone.inner_text(".awaited-trustees")
    assert len(awaited.split("：", 1)[-1].split(":", 1)[-1].split("、")) == 4, awaited  # all four, by name
    assert phone.locator("ul.tally .count").count() == 0  # no count before the trustees decrypt
    shot(phone, "topics-results-awaiting-360")
    assert fits_width(phone)

    poll_id = poll_id_of(phone)
    decrypted = trustees_decrypt(new_page, live_server, poll_id, shot, "topics")
    assert len(decrypted) == 3 and decrypted[0] == BUREAU_LOGIN[0]
    phone.goto(f"{base}/topics/sessions/{sid}/results")
    assert phone.locator(".awaiting-trustees").count() == 0
    row = phone.locator("ul.tally li", has_text=OURS)
    assert row.locator(".count").inner_text().strip().startswith("3")  # the three ballots approve it
    assert phone.inner_text("#blank-count").strip() == "空白票：1 张。"  # sec04's, counted sealed (salon-sealed-2)
    shot(phone, "topics-results-counted-360")
    assert fits_width(phone)

    # The bulletin board: the secretary's fingerprint is on it; its download passes the standalone verifier.
    phone.click(f"a[href$='/polls/{poll_id}/board']")
    phone.wait_for_url(f"**/polls/{poll_id}/board")
    assert receipt in phone.locator("ul.receipts").inner_text()
    phone.fill("#receipt", receipt)
    phone.click("form.inline-search button")
    phone.wait_for_selector("#fingerprint-found")
    shot(phone, "topics-board-360")
    assert fits_width(phone)
    with phone.expect_download() as download:
        phone.click("#board-download")
    board = tmp_path / f"board-{poll_id}.json"
    download.value.save_as(board)
    checked = subprocess.run([sys.executable, str(ROOT / "tools" / "verify_board.py"), str(board),
                              "--receipt", receipt], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "OK" in checked.stdout
    tampered = tmp_path / "tampered.json"
    tampered.write_text(board.read_text().replace(receipt, receipt[:-1] + ("0" if receipt[-1] != "0" else "1")))
    assert subprocess.run([sys.executable, str(ROOT / "tools" / "verify_board.py"), str(tampered)],
                          capture_output=True, text=True, timeout=120).returncode != 0

    # The demo's committee sits (sec01, sec02 and sec05), so its members decide by signed picks (SPEC §3.3).
    phone.goto(f"{base}/committee/sessions/{sid}/pick")
    phone.locator("label.choice", has_text=DEMO_TOPIC).locator("input").check()
    phone.click("form.form button[type=submit]")
    assert phone.locator("[role=alert]").count() > 0  # not the most approved: a rationale is needed
    phone.locator("label.choice", has_text=OURS).locator("input").check()
    phone.fill("textarea[name=rationale]", "得票最多，社区普遍关心。")
    phone.click("form.form button[type=submit]")
    phone.wait_for_url(f"**/committee/sessions/{sid}/pick")
    second = new_page(360)
    log_in(second, base, "sec02", SECRETARY_PASSWORD)
    second.goto(f"{base}/committee/sessions/{sid}/pick")
    second.locator("label.choice", has_text=OURS).locator("input").check()
    second.click("form.form button[type=submit]")  # the most approved: no rationale needed
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
    phone.fill("input[name=receipt]", receipt.upper())  # as pasted, in whatever case
    phone.click("form.inline-search button")
    assert phone.locator(".flash-success").count() == 1
    assert OURS in phone.locator("main").inner_text()
    shot(phone, "topics-results-360")
    assert fits_width(phone)
