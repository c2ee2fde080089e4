"""The browser's own defences (issue 18, OWASP ASVS V14.4) as a browser enforces them: script that is not
Salon's own file never runs and is reported (the journeys' CSP watch catches it), no other page can frame
Salon's, and what moved from inline handlers to salon.js still works: print, select-all, confirmations."""
from __future__ import annotations

import pytest

from salon.demo import BUREAU_LOGIN
from tests.e2e.conftest import log_in
from tests.e2e.test_packet_journey import _third_session_upcoming

pytestmark = pytest.mark.e2e


def test_injected_handlers_are_refused_and_reported(live_server, new_page):
    page = new_page(1280)
    log_in(page, live_server.url, *BUREAU_LOGIN)
    assert page.csp_violations == []
    page.evaluate("""() => document.body.insertAdjacentHTML('beforeend',
        '<img id=probe src="/static/favicon.svg" onload="window.ran = 1">')""")
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.ran = 2';"
                  " document.body.append(s); }")
    page.wait_for_function("document.getElementById('probe').complete")
    page.wait_for_timeout(200)  # the violation event is queued as a task after the refusal
    assert page.evaluate("window.ran") is None
    found = "\n".join(page.csp_violations)
    assert "script-src-attr" in found and "script-src-elem" in found, found
    page.csp_violations.clear()  # expected here; any other violation fails the journey


def test_what_moved_to_salon_js_still_works(live_server, new_page):
    base, page = live_server.url, new_page(1280)
    sid = _third_session_upcoming(live_server.database_url)
    log_in(page, base, *BUREAU_LOGIN)

    # Print (the packet's button): window.print is called.
    assert page.goto(f"{base}/packets/sessions/{sid}").ok
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.click("button[data-print]")
    assert page.evaluate("window.printed") == 1

    # A read-only link field: one click selects all of it.
    page.goto(base + "/account/tokens")
    page.fill("input[name=name]", "CSP")
    page.click("form.form button[type=submit]")
    field = page.locator("input[data-select-all]")
    field.click()
    value = field.input_value()
    assert len(value) > 20
    assert page.evaluate("(f) => [f.selectionStart, f.selectionEnd]", field.element_handle()) == [0, len(value)]

    # A confirmation (data-confirm): dismissing it keeps the form from being sent, accepting sends it.
    page.goto(base + "/account/tokens")
    revoke = page.locator("form[data-confirm] button[type=submit]").first
    if revoke.count() == 0:  # the token list has no confirmation: take one that has
        page.goto(base + "/schedule/manage")
        revoke = page.locator("form[data-confirm] button[type=submit]").first
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    url = page.url
    revoke.click()
    page.wait_for_timeout(300)
    assert questions and page.url == url
    with page.expect_navigation():
        page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
        revoke.click()
    assert len(questions) == 2


def test_no_other_page_can_frame_salon(live_server, browser):
    # A page of another origin (about:blank with content) framing the log-in page: the frame is there, but
    # Chromium puts its error page in it instead of Salon's form. Chromium logs that refusal in the framed
    # page's own process, which the journeys' CSP watch does not see; and this page is not for axe-core to
    # check, hence a context of its own.
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto("about:blank")
        with page.expect_event("framenavigated", lambda frame: frame != page.main_frame):
            page.set_content(f'<iframe src="{live_server.url}/login" width=600 height=400></iframe>')
        assert len(page.frames) == 2
        frame = page.frames[1]
        frame.wait_for_load_state()
        assert frame.url.startswith("chrome-error:"), frame.url
        assert frame.locator("input[name=password]").count() == 0
    finally:
        context.close()
