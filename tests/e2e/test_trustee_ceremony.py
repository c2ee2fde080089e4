"""Journey of the key ceremony on phones (360 px, SPEC §5.1): the bureau draws three secretaries as trustees;
each of the four opens the term's page in their own browser (a context each: their own device and storage),
and the pages deal, exchange encrypted shares, check them and confirm without a further click, until the key is
ready. The key the server publishes is the one every device computed; each device keeps its part and offers its
backup, which restores on a fresh device; then, with a closed sealed poll, three trustees decrypt by one click
each and the poll counts. A second journey: a dealer's device sends one trustee a share that does not open; that
trustee's device complains with its evidence, the dealer is dropped, and the three others make the key.

The server runs in this process (waitress in a thread) so that the closed poll can be a test double's
(tests/sealed_doubles.py): this journey checks the trustees' devices, not the ballot engine."""
from __future__ import annotations

import json
import threading

import pytest
from playwright.sync_api import expect

from salon import create_app
from salon.extensions import db
from tests import sealed_doubles
from tests.conftest import PASSWORD, base_config, build_world
from tests.e2e.conftest import fits_width, log_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def ceremony_server(tmp_path):
    from waitress import create_server

    app = create_app(base_config("sqlite:///" + str(tmp_path / "e2e.sqlite"), str(tmp_path)) |
                     {"SERVER_NAME": None, "TESTING": False, "WTF_CSRF_ENABLED": True})
    with app.app_context():
        db.create_all()
        world = build_world()
        from salon.trustees import services

        with app.test_request_context():
            term = services.draw(services.announce_draw(world.programme, world.bureau), world.bureau)
            db.session.commit()
        names = {t.index: t.user.username for t in term.trustees}
        term_id, programme_id = term.id, world.programme.id
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.effective_port}", term_id, programme_id, names
    server.close()


def test_four_trustees_reach_a_ready_key_and_decrypt_by_one_click(ceremony_server, new_page, shot, tmp_path,
                                                                  monkeypatch):
    sealed_doubles.use_fake_polls(monkeypatch)  # the server runs in this process: it answers about the fake poll
    app, base, term_id, programme_id, names = ceremony_server
    pages = {}
    for index, username in sorted(names.items()):
        page = new_page(360)
        log_in(page, base, username, PASSWORD)
        page.goto(f"{base}/trustees/{term_id}")
        pages[index] = page
    for page in pages.values():  # every device works on its own; the last to confirm makes the key ready
        page.wait_for_selector("#backup:not([hidden])", timeout=90000)
    for page in pages.values():
        page.reload()
        assert page.locator("#term-state.ok").count() == 1
    assert fits_width(pages[2])
    shot(pages[2], "trustees-ready-360")

    with app.app_context():
        from salon.trustees import services

        term = services.get_term(term_id, programme_id)
        record = term.key_record
        assert record["threshold"] == 3 and len(record["trustees"]) == 4
        key = services.poll_key(term)
    stored = {i: json.loads(p.evaluate("k => localStorage.getItem(k)",
                                       p.locator("#device").get_attribute("data-storage-key")))
              for i, p in pages.items()}
    assert all(s["public_key"] == record["public_key"] for s in stored.values())
    assert all("coefficients" not in s and "transport" not in s for s in stored.values())

    # The backup restores on a fresh device of the same trustee.
    with pages[3].expect_download() as download:
        pages[3].click("#backup-download")
    backup = tmp_path / "backup.json"
    download.value.save_as(backup)
    assert json.loads(backup.read_text())["secret"] == stored[3]["secret"]
    fresh = new_page(360)
    log_in(fresh, base, names[3], PASSWORD)
    fresh.goto(f"{base}/trustees/{term_id}")
    fresh.wait_for_selector("#restore:not([hidden])")
    fresh.set_input_files("#restore-file", str(backup))
    fresh.wait_for_selector("#backup:not([hidden])")

    # A closed poll sealed to this key: trustees 1, 2 and the restored 3 decrypt by one click each.
    with app.app_context():
        poll = sealed_doubles.closed_sealed_poll(app, programme_id, key, [[0, 1], [1], [1, 2]], poll_id=77)
    for page in (pages[1], pages[2], fresh):
        page.goto(f"{base}/trustees/{term_id}")
        page.click("button[data-decrypt]")
        page.wait_for_selector("#decrypt .badge.ok")
    shot(fresh, "trustees-decrypted-360")
    assert poll.counts == [[1, 3, 1]]


def test_a_bad_share_is_complained_about_its_dealer_dropped_and_the_others_make_the_key(ceremony_server, new_page,
                                                                                      shot):
    app, base, term_id, programme_id, names = ceremony_server
    pages = {}
    for index, username in sorted(names.items()):
        page = new_page(360)
        log_in(page, base, username, PASSWORD)
        pages[index] = page

    def spoil(route):
        """Trustee 2's device, as a faulty or dishonest one: its share for trustee 3 is altered in flight."""
        body = route.request.post_data_json
        for item in body["shares"]:
            if item["recipient"] == 3:
                last = item["ciphertext"][-1]
                item["ciphertext"] = item["ciphertext"][:-1] + ("0" if last != "0" else "1")
        route.continue_(post_data=json.dumps(body))

    pages[2].route(f"**/trustees/{term_id}/device/shares", spoil)
    for page in pages.values():
        page.goto(f"{base}/trustees/{term_id}")
    # Trustee 3's device finds the share it cannot open, complains; the complaint is upheld at once.
    pages[3].wait_for_selector("#device-note:not([hidden])", timeout=90000)
    assert pages[3].locator("#device-note").inner_text() == pages[3].locator("#device").get_attribute(
        "data-msg-upheld")
    expect(pages[2].locator("#device-status")).to_have_text(
        pages[2].locator("#device").get_attribute("data-msg-dropped"), timeout=90000)
    for index in (1, 3, 4):  # the others deal again, without trustee 2, to a ready key
        pages[index].wait_for_selector("#backup:not([hidden])", timeout=90000)

    with app.app_context():
        from salon.trustees import services

        term = services.get_term(term_id, programme_id)
        assert [t["index"] for t in term.key_record["trustees"]] == [1, 3, 4]
        assert (term.key_record["threshold"], term.round) == (2, 2)
        [complaint] = term.complaints
        assert (complaint.by, complaint.against, complaint.verdict, complaint.reason) == (
            3, 2, "upheld", "does-not-open")

    # The bureau (trustee 1) and the complainer see the complaint, its evidence and its verdict on the term's page.
    for index in (1, 3):
        page = pages[index]
        page.reload()
        assert page.locator("#term-state.ok").count() == 1
        item = page.locator("#complaints li.complaint[data-verdict=upheld]")
        assert item.count() == 1
        item.locator("summary").click()
        assert item.locator("code").first.inner_text() == complaint.evidence["ciphertext"]
        assert page.locator("#trustees li").nth(1).locator(".badge.off").count() == 1  # trustee 2: dropped
        assert fits_width(page)
    shot(pages[1], "trustees-complaint-upheld-360")
    pages[2].reload()  # the dealer dropped: told so, and no device runs for them any more
    assert pages[2].locator("#dropped").count() == 1 and pages[2].locator("#device").count() == 0
    pages[1].goto(f"{base}/trustees/")
    assert pages[1].locator("#terms .badge.off").count() == 1  # the terms list counts the upheld complaint
