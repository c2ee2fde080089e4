"""The committee through real life (SPEC §4.1, issue 15), on a phone (360 px), from the demo.

The demo's committee was elected with 渭运社区 11 approvals, 景翼社区 9 and 西苑社区 8; 城关社区 (4) and 荆山社区 (3)
stood and were not elected. First the bureau hands 西苑社区's seat over (换届): the place falls vacant and 城关社区
moves up; then 城关社区 leaves the programme and 荆山社区 moves up — the committee page says who and why.

Then a committee topic and the half-year review that judges it: the session of the month is voted on by eight
secretaries, decided by two members' picks and held that morning, with a resolution and an action item; at the
review the bureau marks three communities present, the eight each open the QR code's link on their own phone,
check in, rate the topic and vote (seven oppose the committee's choice of topics, one supports it); the bureau
is asked before closing (dismissed once: nothing changes), then closes; the result page spells out 反对 7 人 /
参会 11 人 = 63.6%，高于 60%：委员会改选 and the topic's counts add up to the ballots; in the election it opens
four secretaries stand, the bureau opens the vote before standing closes (asked first), the eight vote, the
bureau closes voting early (asked first), and the new committee sits. Every page fits 360 px (`open_phone`) and passes axe-core (the `shot` and `new_page` fixtures).

Its polls are sealed, as every poll is (SPEC §5.1): after each close the demo's trustees decrypt on their own
devices (`trustees_decrypt`), and the result pages show the count once they have.

The two tests are independent of each other's order: the review's secretaries and roll are communities the
vacancy test does not touch. Selectors avoid wording except community names and the arithmetic (zh-Hans)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from salon.demo import BUREAU_LOGIN, SECRETARY_PASSWORD
from tests.e2e.conftest import _page_key, fits_width, log_in, poll_id_of, trustees_decrypt, vote_sealed
from tests.e2e.test_review_journey import _second_review_due
from tests.e2e.test_topic_journeys import _future_session

pytestmark = pytest.mark.e2e

# sec09 … sec16: 杜村, 莲湖, 荆山, 温泉, 窦村, 新庄, 迎宾, 金城 (salon/demo.py); the last one supports.
VOTERS = [f"sec{n:02d}" for n in range(9, 17)]
ON_THE_ROLL = ["凤凰社区", "庄里社区", "槐院社区"]  # marked present by the bureau; they do not vote
STAND = {"sec09": "杜村社区", "sec10": "莲湖社区", "sec12": "温泉社区", "sec13": "窦村社区"}
TOPIC = "社区养老服务站如何用起来 (示例)"  # the demo's nomination for the session of the month
# Each voter's answer on that topic in the review: effective, partly, not effective (radio 0, 1, 2), or blank.
EFFECT = [0, 0, 0, 1, 1, 1, 2, None]


def _held_earlier_today(database_url: str, session_id: int) -> None:
    """Set-up: the session's day has come and it was held this morning (three hours ago; nobody can make time
    pass): SPEC §4.1 counts a session held earlier on the review's own day."""
    engine = create_engine(database_url)
    starts = (datetime.now(timezone.utc) - timedelta(hours=3)).replace(tzinfo=None, microsecond=0)
    with engine.begin() as conn:
        conn.execute(text("UPDATE salon_sessions SET starts_at = :s, duration_minutes = 120 WHERE id = :i"),
                     {"s": starts, "i": session_id})
    engine.dispose()


@pytest.fixture
def open_phone(new_page):
    """new_page at 360 px, each page it reaches remembered; at the end every one of them (one per path) is
    opened again in its own browser context and must fit 360 px (the `shot`s check the pages as shown)."""
    seen: list = []

    def make():
        page = new_page(360)
        page.on("request", lambda request: seen.append((page.context, request.url))
                if request.is_navigation_request() and request.method == "GET" else None)
        return page

    yield make
    wide, checked = [], set()
    for context, url in seen:
        if _page_key(url) in checked:
            continue
        checked.add(_page_key(url))
        page = context.new_page()
        if page.goto(url).ok and not fits_width(page):
            wide.append(url)
        page.close()
    assert len(checked) >= 5 and not wide, f"wider than 360 px: {wide}"


def _members(page) -> list[str]:
    return [re.sub(r"\s+", " ", line).strip() for line in page.locator("#members li").all_inner_texts()]


def _community_page(desk, base: str, name: str) -> None:
    """The bureau's way to a community: the communities list, then the community's link."""
    desk.goto(f"{base}/communities")
    desk.get_by_role("link", name=name, exact=True).click()
    desk.wait_for_selector("h1")
    assert fits_width(desk)


def test_vacancies_filled_from_the_electing_ranking(live_server, open_phone, shot):
    base = live_server.url
    desk = open_phone()
    asked = []
    desk.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    log_in(desk, base, *BUREAU_LOGIN)
    desk.goto(f"{base}/committee/")
    before = _members(desk)
    assert sorted(m.split(" ")[0] for m in before) == sorted(["渭运社区", "景翼社区", "西苑社区"])
    assert desk.locator("#changes").count() == 0

    # 换届: 西苑社区's seat is handed over to a new secretary, who does not inherit the committee place.
    _community_page(desk, base, "西苑社区")
    desk.fill("input[name=display_name]", "西苑社区新书记 (示例)")
    desk.fill("input[name=username]", "xiyuan.new")
    shot(desk, "life-handover-form-360")
    desk.click("form[action$='/handover'] button[type=submit]")
    invitation = desk.locator("input.copy[readonly]")
    assert invitation.count() == 1
    assert asked and "西苑社区" in asked[-1] and "空缺" in asked[-1]  # the hand-over asked first, saying what happens
    assert "/invite/" in invitation.input_value()
    told = desk.inner_text("main")  # the bureau is told what its hand-over did to the committee
    assert "委员会出现空缺：\u2068西苑社区\u2069" in told and "\u2068城关社区\u2069 递补进入委员会" in told
    shot(desk, "life-handover-done-360")
    assert fits_width(desk)

    desk.goto(f"{base}/committee/")
    sitting = [m.split(" ")[0] for m in _members(desk)]
    assert "西苑社区" not in sitting and "城关社区" in sitting and len(sitting) == 3
    changes = desk.inner_text("#changes")
    assert "西苑社区" in changes and "城关社区" in changes
    assert desk.locator("#why-bureau").count() == 0  # three sit: the committee still decides
    shot(desk, "life-committee-moved-up-360")
    assert fits_width(desk)

    # 城关社区 leaves the programme: its place falls vacant too, and the next in line, 荆山社区, moves up.
    _community_page(desk, base, "城关社区")
    desk.click("form[action$='/deactivate'] button")
    desk.wait_for_url(re.compile(r".*/communities/\d+$"))
    assert asked and "城关社区" in asked[-1]
    told = desk.inner_text("main")
    assert "委员会出现空缺：\u2068城关社区\u2069" in told and "\u2068荆山社区\u2069 递补进入委员会" in told
    shot(desk, "life-community-left-360")
    assert fits_width(desk)
    desk.goto(f"{base}/committee/")
    sitting = [m.split(" ")[0] for m in _members(desk)]
    assert sorted(sitting) == sorted(["渭运社区", "景翼社区", "荆山社区"])
    changes = [line.split("：", 1)[1] for line in desk.locator("#changes li").all_inner_texts()]
    assert [(line.split(" · ")[0], "递补" in line) for line in changes] == [
        ("西苑社区", False), ("城关社区", True), ("城关社区", False), ("荆山社区", True)]  # as it happened
    shot(desk, "life-committee-second-vacancy-360")
    assert fits_width(desk)

    phone = open_phone()  # the secretary who moved up sees the committee as everyone does
    log_in(phone, base, "sec11", SECRETARY_PASSWORD)
    phone.goto(f"{base}/committee/")
    assert "荆山社区" in phone.inner_text("#members")
    assert fits_width(phone)


def _check_in_and_vote(page, link: str, overall: int, effect: int | None, name: str | None, shot) -> None:
    """A secretary opens the QR code's link, checks in, rates the committee's topic (effect: radio index, None
    leaves it blank) and answers the overall question (0 support, 1 oppose)."""
    page.goto(link)
    if name:
        shot(page, f"{name}-checkin-360")
        assert fits_width(page)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/vote")
    questions = page.locator("form.form fieldset")
    assert questions.count() == 2  # the one topic the review judges, then the overall question
    if effect is not None:
        questions.first.locator("input[type=radio]").nth(effect).check()
    questions.last.locator("input[type=radio]").nth(overall).check()
    if name:
        shot(page, f"{name}-vote-360")
        assert fits_width(page)
    vote_sealed(page)


def _committee_topic_held_today(server, desk, phones: dict, open_phone, shot) -> int:
    """The session of the month as the committee runs it: the bureau opens its vote early, the secretaries
    vote, the bureau closes the vote, the trustees count it, two members pick (a majority); it is held this morning
    (set-up), and the bureau records a resolution and an action item. Returns the session's id."""
    base, database_url = server.url, server.database_url
    sid = _future_session(database_url)
    desk.goto(f"{base}/topics/sessions/{sid}")
    desk.click(f"form[action$='/topics/sessions/{sid}/open-vote'] button")
    desk.wait_for_load_state()
    for phone in phones.values():
        phone.goto(f"{base}/topics/sessions/{sid}/vote")
        phone.locator("label.choice", has_text=TOPIC).locator("input").check()
        vote_sealed(phone)
    desk.goto(f"{base}/topics/sessions/{sid}")
    desk.check("#close-vote-understood")
    desk.click(f"form[action$='/topics/sessions/{sid}/close-vote'] button")
    desk.wait_for_url(f"**/topics/sessions/{sid}/results")
    if desk.locator(".awaiting-trustees").count():  # the committee picks once the trustees have counted
        trustees_decrypt(lambda _width: open_phone(), server, poll_id_of(desk))
    for login in ("sec01", "sec02"):  # 景翼社区 and 渭运社区 sit on the committee (with or without the vacancies)
        member = open_phone()
        log_in(member, base, login, SECRETARY_PASSWORD)
        member.goto(f"{base}/committee/sessions/{sid}/pick")
        member.locator("label.choice", has_text=TOPIC).locator("input").check()
        member.click("form.form button[type=submit]")
        member.wait_for_url(f"**/committee/sessions/{sid}/pick")
    assert member.locator("#picks li").count() == 2 and member.locator(".badge.ok").count() == 1  # decided
    _held_earlier_today(database_url, sid)
    desk.goto(f"{base}/outcomes/sessions/{sid}")
    desk.fill("form[action$='/resolutions'] textarea[name=text]", "各社区养老服务站每月公布活动安排 (示例)。")
    desk.click("form[action$='/resolutions'] button[type=submit]")
    desk.wait_for_url(f"**/outcomes/sessions/{sid}")
    desk.click("details:has(form[action$='/actions']) summary")
    desk.fill("form[action$='/actions'] input[name=what]", "编制养老服务站活动清单 (示例)")
    desk.fill("form[action$='/actions'] input[name=owner_unit]", "县卫健局")
    desk.select_option("form[action$='/actions'] select[name=status]", "in_progress")
    desk.click("form[action$='/actions'] button[type=submit]")
    desk.wait_for_url(f"**/outcomes/sessions/{sid}")
    shot(desk, "life-session-outcomes-360")
    assert fits_width(desk)
    return sid


def test_opposition_above_sixty_percent_by_qr_check_in(live_server, open_phone, new_page, shot):
    _second_review_due(live_server.database_url)
    base = live_server.url
    desk = open_phone()
    answer = {"accept": True}
    asked = []

    def on_dialog(dialog):
        asked.append(dialog.message)
        dialog.accept() if answer["accept"] else dialog.dismiss()

    desk.on("dialog", on_dialog)
    log_in(desk, base, *BUREAU_LOGIN)
    phones = {}
    for login in VOTERS:  # each secretary on their own phone
        phones[login] = open_phone()
        log_in(phones[login], base, login, SECRETARY_PASSWORD)
    sid = _committee_topic_held_today(live_server, desk, phones, open_phone, shot)

    desk.goto(f"{base}/reviews/")
    desk.click("#hold-review")
    desk.wait_for_selector("#open-review")
    assert desk.locator("#no-topic").count() == 0 and TOPIC in desk.inner_text("main")  # held this morning
    shot(desk, "life-review-open-360")
    assert fits_width(desk)
    desk.click("#open-review")
    desk.wait_for_url(re.compile(r".*/reviews/\d+$"))
    review_url = desk.url
    assert TOPIC in desk.inner_text("#judged")

    # The roll: three communities marked present by the bureau (present, and they will not vote).
    for name in ON_THE_ROLL:
        desk.locator("label.choice", has_text=name).locator("input").check()
    desk.click("form[action$='/roll'] button[type=submit]")
    desk.wait_for_url(review_url)
    desk.click("a[href$='/qr']")
    desk.wait_for_selector("#qr svg")
    link = desk.get_attribute("#checkin-link", "href")

    for number, (login, effect) in enumerate(zip(VOTERS, EFFECT)):
        _check_in_and_vote(phones[login], link, 0 if login == VOTERS[-1] else 1, effect,
                           "life-review" if number == 0 else None, shot)

    # Closing asks first, in words that say what happens; dismissed, nothing changes.
    desk.goto(review_url)
    assert "11" in desk.inner_text("main section.card >> nth=0")  # present so far: 3 on the roll + 8 checked in
    close = desk.locator("#close-review button[type=submit]")
    assert "irreversible" in close.get_attribute("class")
    look = close.evaluate("b => getComputedStyle(b).backgroundColor")
    plain = desk.locator("form[action$='/roll'] button[type=submit]").evaluate(
        "b => getComputedStyle(b).backgroundColor")
    assert look != plain  # the button that cannot be undone looks like no other
    desk.check("#understood")
    desk.locator("#close-review").scroll_into_view_if_needed()
    shot(desk, "life-review-close-360")
    assert fits_width(desk)
    answer["accept"] = False
    before = len(asked)
    close.click()
    assert len(asked) == before + 1 and "签到" in asked[-1] and "无法撤销" in asked[-1]  # check-in ends
    desk.wait_for_timeout(300)
    desk.goto(review_url)
    assert desk.locator("#close-review").count() == 1 and desk.locator("#arithmetic").count() == 0
    answer["accept"] = True
    desk.check("#understood")
    desk.locator("#close-review button[type=submit]").click()
    desk.wait_for_selector(".awaiting-trustees")  # sealed: the rule is applied once the trustees have counted
    assert len(asked) == before + 2
    assert len(trustees_decrypt(new_page, live_server, poll_id_of(desk))) == 3  # the drawn term: 3 of 4
    desk.goto(review_url)
    desk.wait_for_selector("#arithmetic")

    voter = phones[VOTERS[0]]
    voter.goto(review_url)
    arithmetic = voter.inner_text("#arithmetic")
    assert "反对 7 人 / 参会 11 人 = 63.6%，高于 60%：委员会改选" in arithmetic
    counts = [int(n) for n in voter.locator(f"#topic-{sid} table.counts td").all_inner_texts()]
    assert counts == [3, 3, 1, 0, 1]  # effective, partly, not, no view, no answer: adds up to the 8 ballots
    shot(voter, "life-review-result-360")
    assert fits_width(voter)

    # The election it opens: four stand, the bureau opens the vote, the eight vote, the bureau closes early.
    voter.click("#election")
    voter.wait_for_url("**/committee/elections/*")
    election_url = voter.url
    for login in STAND:
        phone = phones[login]
        phone.goto(election_url)
        phone.click("#stand button")
        phone.wait_for_selector("#candidates")
    voter.goto(election_url)
    assert voter.locator("#candidates .badge.ok").count() == len(STAND)
    shot(voter, "life-election-standing-360")
    assert fits_width(voter)

    desk.goto(election_url)
    shot(desk, "life-election-bureau-standing-360")
    assert fits_width(desk)
    before = len(asked)
    desk.click("#open-vote button[type=submit]")  # standing has days to run: asked first, who loses what
    desk.wait_for_selector("#turnout")
    assert len(asked) == before + 1 and "参选随即结束" in asked[-1]
    # 莲湖 and 温泉 on every ballot, 杜村 on five and 窦村 on three: no tie for the third seat.
    approvals = {login: ["莲湖社区", "温泉社区", "杜村社区" if n < 5 else "窦村社区"] for n, login in enumerate(VOTERS)}
    for number, (login, names) in enumerate(approvals.items()):
        phone = phones[login]
        phone.goto(election_url)
        phone.click("a[href$='/vote']")
        phone.wait_for_url("**/vote")
        for name in names:
            phone.locator("label.choice", has_text=name).locator("input").check()
        if number == 0:
            shot(phone, "life-election-vote-360")
            assert fits_width(phone)
        vote_sealed(phone)

    desk.goto(election_url)
    assert "8" in desk.inner_text("#turnout")
    desk.check("#close-vote-understood")
    shot(desk, "life-election-close-360")
    assert fits_width(desk)
    before = len(asked)
    desk.click("#close-vote button[type=submit]")
    desk.wait_for_load_state()
    assert len(asked) == before + 1
    desk.goto(election_url)
    desk.wait_for_selector(".awaiting-trustees")
    assert len(trustees_decrypt(new_page, live_server, poll_id_of(desk))) == 3
    desk.goto(election_url)
    desk.wait_for_selector("#winners")
    shot(desk, "life-election-result-360")
    assert fits_width(desk)

    voter.goto(f"{base}/committee/")
    sitting = [m.split(" ")[0] for m in _members(voter)]
    assert sorted(sitting) == sorted(["莲湖社区", "温泉社区", "杜村社区"])
    assert voter.locator("#why-bureau").count() == 0
    shot(voter, "life-new-committee-360")
    assert fits_width(voter)
