"""Hostile text typed into the pages comes back intact and inert (issue 11 §5): script and onerror
payloads never run (any alert/confirm/prompt fails the test), right-to-left and zero-width characters come
back as they went in (a name isolated in <bdi> wherever it shows), NUL is refused under its field, a
10,000-character text is refused naming the field, and the calendar feed carries the text unchanged. A lone
surrogate cannot leave a browser: its form encoding turns it into U+FFFD before the request is sent, so that is
what comes back."""
from __future__ import annotations

import re
import urllib.request

import pytest
from icalendar import Calendar

from salon.demo import BUREAU_LOGIN, SECRETARY_PASSWORD
from tests.e2e.conftest import log_in
from tests.e2e.test_topic_journeys import _future_session

pytestmark = pytest.mark.e2e

RTL, ZERO_WIDTH = "\u202e\u2067", "\u200b\u200c\u200d\ufeff"
NAME = f"<script>alert(1)</script>{RTL}东华{ZERO_WIDTH}社区"
TITLE = f"<img src=x onerror=alert(2)>{RTL}议题{ZERO_WIDTH}"
PROBLEM = f"</textarea><script>alert(3)</script>{RTL}问题{ZERO_WIDTH}" + "长" * 4000
LONG = "字" * 10_000


def trap(page, fired: list) -> None:
    """Any dialog is a script that ran: record it and dismiss it."""
    page.on("dialog", lambda dialog: (fired.append(dialog.message), dialog.dismiss()))


def assert_inert_and_intact(page, *texts: str) -> None:
    text = page.evaluate("document.body.textContent")
    for expected in texts:
        assert expected in text, f"{page.url} does not show {expected[:40]!r} intact"
    # Nothing the text carried became markup: no image, no script but the site's own.
    assert page.locator("img[src=x]").count() == 0, page.url
    scripts = page.evaluate("[...document.scripts].map(s => s.src ? new URL(s.src).pathname : s.textContent)")
    assert scripts == ["/static/salon.js"], f"{page.url} runs {scripts}"


def bare_names(page, name: str) -> list[str]:
    """Where the page shows `name` without isolating it (<bdi>): a right-to-left override in it would reorder
    the text around it. <option> and <textarea> cannot hold markup."""
    return page.evaluate("""(name) => {
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), bare = [];
        while (walker.nextNode()) {
            const node = walker.currentNode;
            if (node.data.includes(name) && !node.parentElement.closest("bdi, option, textarea"))
                bare.push(node.parentElement.outerHTML.slice(0, 160));
        }
        return bare;
    }""", name)


def field_error(page, name: str) -> bool:
    return page.locator(f".field.has-error :is(input, textarea)[name={name}]").count() == 1


def test_hostile_text_is_shown_intact_and_never_runs(live_server, new_page, shot):
    base, fired = live_server.url, []
    sid = _future_session(live_server.database_url)

    desk = new_page(1280)
    trap(desk, fired)
    log_in(desk, base, *BUREAU_LOGIN)

    # NUL is refused; nothing is added.
    desk.goto(base + "/communities")
    before = desk.locator("a[href*='/communities/']").count()
    desk.fill("input[name=name]", "新\x00社区")
    with desk.expect_response(lambda r: r.request.method == "POST") as answer:
        desk.click("form.form button[type=submit]")
    assert answer.value.status == 422
    desk.wait_for_load_state()
    assert field_error(desk, "name")  # the error sits under the field, not on an error page
    desk.goto(base + "/communities")
    assert desk.locator("a[href*='/communities/']").count() == before

    # The chair of the next session gets a hostile name.
    desk.goto(f"{base}/schedule/sessions/{sid}")
    community = int(re.search(r"/communities/(\d+)", desk.get_attribute("a[href*='/communities/']", "href")).group(1))
    desk.goto(f"{base}/communities/{community}")
    desk.fill("input[name=name]", NAME)
    desk.click("form:has(input[name=name]) button[type=submit]")
    desk.wait_for_load_state()
    for path in (f"/communities/{community}", "/communities", "/schedule", f"/schedule/sessions/{sid}",
                 f"/schedule/communities/{community}"):
        desk.goto(base + path)
        assert_inert_and_intact(desk, NAME)
        assert bare_names(desk, NAME) == [], f"{path} shows the name outside <bdi>"
    shot(desk, "hostile-community-1280")

    # A secretary nominates with hostile text; 10,000 characters are refused naming the field.
    phone = new_page(360)
    trap(phone, fired)
    log_in(phone, base, "sec01", SECRETARY_PASSWORD)
    phone.goto(f"{base}/topics/sessions/{sid}/nominate")
    phone.fill("input[name=title]", TITLE)
    phone.eval_on_selector("textarea[name=problem]", "(el, text) => { el.value = text; }", LONG)
    phone.fill("input[name=outside_units]", "\ud800县民政局")
    phone.click("form.form button[type=submit]")
    assert field_error(phone, "problem")
    assert phone.input_value("input[name=title]") == TITLE
    phone.eval_on_selector("textarea[name=problem]", "(el, text) => { el.value = text; }", PROBLEM)
    phone.click("form.form button[type=submit]")
    phone.wait_for_url(f"**/sessions/{sid}")
    assert_inert_and_intact(phone, TITLE)
    shot(phone, "hostile-topic-session-360")
    nomination = phone.get_attribute(f"a[href*='/topics/nominations/']:has-text('议题')", "href")
    phone.goto(base + nomination)
    assert_inert_and_intact(phone, TITLE, PROBLEM, "\ufffd县民政局")
    shot(phone, "hostile-nomination-360")
    phone.goto(base + nomination + "/edit")
    assert phone.input_value("input[name=title]") == TITLE
    assert phone.input_value("textarea[name=problem]") == PROBLEM

    desk.goto(f"{base}/topics/sessions/{sid}")
    assert_inert_and_intact(desk, TITLE, NAME)

    # The calendar feed carries the name unchanged.
    desk.goto(base + "/schedule/feeds")
    desk.click("form.form button[type=submit]")
    link = desk.input_value("input.copy")
    with urllib.request.urlopen(link, timeout=10) as response:
        calendar = Calendar.from_ical(response.read())
    summaries = [str(event["SUMMARY"]) for event in calendar.walk("VEVENT")]
    assert any(NAME in summary for summary in summaries), summaries[:3]

    assert fired == [], f"hostile text ran as script: {fired}"
