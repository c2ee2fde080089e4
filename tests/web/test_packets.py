"""The session packet (SPEC §7) and the after-session pages (SPEC §6) through the test client: the PDF's text
and fonts, the printable page, guest links with a fixed clock, overdue highlighting at the boundary."""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from datetime import date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import update

from salon import clock
from salon.extensions import db
from salon.packets.models import GuestLink
from salon.programmes.models import SeatHolding
from salon.schedule.models import SessionStatus
from tests.conftest import login
from tests.outcome_helpers import decided_session, record

GUESTS = [("王科长", "县医保局"), ("李经理", "某保险公司")]
RESOLUTIONS = ["由患者本人书面承诺替代社区证明", "各社区不再开具无法核实的证明"]
# Every test here runs at this moment (12:00 in Shanghai), and every date below is built from it, so the suite
# answers the same whatever day it runs.
NOW = datetime(2026, 11, 23, 4, 0)
ACTIONS = [("印发告知承诺制通知", "县医保局", date(2026, 11, 22), "in_progress"),
           ("修改理赔须知", "某保险公司", date(2026, 11, 23), "open"),
           ("向各社区通报做法", "陕拖社区", date(2026, 10, 1), "done")]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    _at(monkeypatch, NOW)


@pytest.fixture
def sessions(world):
    """Session 1 held with resolutions and action items; session 2 coming, decided, with guests. Both are
    chaired by the first community, whose secretary is secretaries[0]."""
    db.session.execute(update(SeatHolding).values(started_at=datetime(2020, 1, 1)))
    now = NOW
    first = decided_session(world.programme, world.bureau, world.communities[0], 1, now - timedelta(days=40),
                            "五小服务过程中的问题", world.communities, world.secretaries)
    record(first, world.bureau, RESOLUTIONS, ACTIONS)
    second = decided_session(world.programme, world.bureau, world.communities[0], 2, now + timedelta(days=6),
                             "如何破解社区万能章", world.communities[2:] + world.communities[:1], world.secretaries,
                             guests=GUESTS, status=SessionStatus.PLANNED)
    return first.id, second.id


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _pdf_text(body: bytes) -> str:
    return _flat("".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages))


def _fonts(body: bytes) -> list[tuple[str, bool]]:
    """(name, embedded) for every font any page uses, descendant fonts included."""
    found = {}
    for page in PdfReader(io.BytesIO(body)).pages:
        fonts = (page.get("/Resources") or {}).get_object().get("/Font") or {}
        for ref in fonts.get_object().values():
            font = ref.get_object()
            for each in [font] + [d.get_object() for d in font.get("/DescendantFonts") or []]:
                descriptor = each.get("/FontDescriptor")
                if descriptor is None and each.get("/Subtype") == "/Type0":
                    continue
                embedded = descriptor is not None and any(
                    key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3"))
                found[str(each.get("/BaseFont"))] = embedded
    return sorted(found.items())


def test_packet_pdf_holds_everything_and_embeds_every_font(client, world, sessions):
    _first, second = sessions
    login(client, "sec_a2")  # any secretary of the programme reads the packet
    response = client.get(f"/packets/sessions/{second}/packet.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    body = response.data
    assert len(body) < 1_000_000
    text = _pdf_text(body)
    for expected in ["第2期", "如何破解社区万能章", "陕拖社区", "第1期", *(c.name for c in world.communities),
                     *(name for name, _unit in GUESTS), *(unit for _name, unit in GUESTS),
                     *RESOLUTIONS, *(what for what, *_rest in ACTIONS), "签到表", "议程", "签名",
                     "景翼社区书记"]:
        assert _flat(expected) in text, expected
    assert "城东社区" not in text  # another programme's community
    fonts = _fonts(body)
    assert fonts and all(embedded for _name, embedded in fonts), fonts
    assert all("WenQuanYi" in name for name, _embedded in fonts), fonts


def test_pdffonts_says_every_font_is_embedded(client, world, sessions, tmp_path):
    if shutil.which("pdffonts") is None:
        # CI installs poppler-utils and sets SALON_REQUIRE_PDFFONTS=1: there a missing pdffonts fails the test.
        if os.environ.get("SALON_REQUIRE_PDFFONTS") == "1":
            pytest.fail("pdffonts is required (SALON_REQUIRE_PDFFONTS=1): install poppler-utils")
        pytest.skip("poppler-utils' pdffonts is not installed")
    login(client, "bureau_a")
    path = tmp_path / "packet.pdf"
    path.write_bytes(client.get(f"/packets/sessions/{sessions[1]}/packet.pdf").data)
    lines = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()
    rows = [line.split() for line in lines[2:] if line.strip()]
    assert rows
    for row in rows:
        # name type [type…] encoding emb sub uni object-id generation: emb is the fifth column from the end.
        assert row[-5] == "yes", lines


def test_counts_below_the_minimum_are_withheld(client, world):
    now = clock.utcnow()
    session = decided_session(world.programme, world.bureau, world.communities[0], 1, now + timedelta(days=3),
                              "少数票议题", world.communities[:2], world.secretaries[:1],
                              status=SessionStatus.PLANNED)
    login(client, "bureau_a")
    text = _pdf_text(client.get(f"/packets/sessions/{session.id}/packet.pdf").data)
    assert "票数不公布" in text and "投票人数：1/3" in text
    page = client.get(f"/packets/sessions/{session.id}").get_data(as_text=True)
    assert "票数不公布" in page


def test_printable_page_has_the_same_content(client, world, sessions):
    login(client, "sec_a3")
    page = client.get(f"/packets/sessions/{sessions[1]}").get_data(as_text=True)
    for expected in ["第2期", "如何破解社区万能章", *(c.name for c in world.communities), *RESOLUTIONS,
                     *(what for what, *_rest in ACTIONS), *(name for name, _unit in GUESTS)]:
        assert expected in page, expected
    assert 'href="/static/packet.css"' in page or "packet.css" in page


def test_no_packet_before_the_topic_is_decided(client, api, world):
    from salon.schedule.models import Session

    session = Session(programme_id=world.programme.id, number=5, starts_at=clock.utcnow() + timedelta(days=30),
                      chair_community_id=world.communities[0].id)
    db.session.add(session)
    db.session.commit()
    login(client, "bureau_a")
    assert client.get(f"/packets/sessions/{session.id}").status_code == 404
    assert client.post(f"/packets/sessions/{session.id}/links", data={"label": "x"}).status_code == 404
    assert api(world.bureau).post(f"/sessions/{session.id}/guest-links", json={}).status_code == 409
    assert db.session.query(GuestLink).count() == 0


def _token_from(page: str) -> str:
    match = re.search(r"/packet/([A-Za-z0-9_.\-]+)", page)
    assert match, page[:500]
    return match.group(1)


def test_guest_link_before_and_after_expiry_and_revocation(app, client, world, sessions, monkeypatch):
    _first, second = sessions
    login(client, "sec_a1")  # the chair
    created = client.post(f"/packets/sessions/{second}/links", data={"label": "县医保局 王科长"})
    assert created.status_code == 200
    token = _token_from(created.get_data(as_text=True))
    link = db.session.query(GuestLink).one()
    link_id, created_at, expires = link.id, link.created_at, link.expires_at
    assert expires - created_at == timedelta(days=7)  # the programme's default
    guest = app.test_client()
    monkeypatch.setattr(clock, "utcnow", lambda: expires - timedelta(seconds=1))
    opened = guest.get(f"/packet/{token}")
    assert opened.status_code == 200 and "如何破解社区万能章" in opened.get_data(as_text=True)
    assert opened.headers["Cache-Control"] == "no-store" and opened.headers["Referrer-Policy"] == "no-referrer"
    assert guest.get(f"/packet/{token}/packet.pdf").status_code == 200
    monkeypatch.setattr(clock, "utcnow", lambda: expires)
    assert guest.get(f"/packet/{token}").status_code == 404
    assert guest.get(f"/packet/{token}/packet.pdf").status_code == 404
    # Revoked before it expires: it stops at once.
    monkeypatch.setattr(clock, "utcnow", lambda: created_at + timedelta(days=1))
    assert guest.get(f"/packet/{token}").status_code == 200
    assert client.post(f"/packets/links/{link_id}/revoke").status_code == 302
    assert guest.get(f"/packet/{token}").status_code == 404


def test_guest_link_setting_and_scope(app, client, world, sessions):
    first, second = sessions
    world.programme.guest_link_days = 2
    db.session.commit()
    login(client, "bureau_a")
    token = _token_from(client.post(f"/packets/sessions/{second}/links", data={"label": ""}).get_data(as_text=True))
    link = db.session.query(GuestLink).one()
    assert link.expires_at - link.created_at == timedelta(days=2)
    guest = app.test_client()
    page = guest.get(f"/packet/{token}?session_id={first}").get_data(as_text=True)
    assert "第2期" in page and "如何破解社区万能章" in page
    # The link opens nothing else: no session pages, no other packet, no menu.
    assert "/topics/" not in page and "/outcomes/" not in page and "Log out" not in page and "退出" not in page
    assert guest.get(f"/packets/sessions/{first}/packet.pdf").status_code == 302  # to the log-in page
    assert guest.get(f"/packets/sessions/{second}").status_code == 302
    assert guest.get(f"/outcomes/sessions/{second}").status_code == 302
    # A forged token, or one signed for a different link, opens nothing.
    assert guest.get(f"/packet/{token[:-2]}xx").status_code == 404
    assert guest.get("/packet/not-a-token/packet.pdf").status_code == 404


def test_non_chair_secretary_cannot_make_guest_links(client, world, sessions):
    login(client, "sec_a2")
    assert client.post(f"/packets/sessions/{sessions[1]}/links", data={"label": "x"}).status_code == 403
    assert client.get(f"/packets/sessions/{sessions[1]}").status_code == 200


def test_guest_links_through_the_api(api, world, sessions):
    _first, second = sessions
    chair = api(world.secretaries[0])
    made = chair.post(f"/sessions/{second}/guest-links", json={"label": "李经理"})
    assert made.status_code == 201 and made.get_json()["state"] == "active" and "/packet/" in made.get_json()["url"]
    assert chair.post(f"/sessions/{second}/guest-links", json={"label": "x" * 81}).status_code == 422
    assert api(world.secretaries[1]).get(f"/sessions/{second}/guest-links").status_code == 403
    revoked = chair.delete(f"/guest-links/{made.get_json()['id']}")
    assert revoked.get_json()["state"] == "revoked" and revoked.get_json()["url"] is None
    content = api(world.secretaries[2]).get(f"/sessions/{second}/packet").get_json()
    assert content["number"] == 2 and content["title"] == "如何破解社区万能章"
    assert [r["text"] for r in content["previous_resolutions"]] == RESOLUTIONS
    pdf = api(world.secretaries[2]).get(f"/sessions/{second}/packet.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def _at(monkeypatch, moment: datetime) -> None:
    monkeypatch.setattr(clock, "utcnow", lambda: moment)


def test_overdue_is_highlighted_at_the_boundary(client, world, sessions, monkeypatch):
    first, _second = sessions
    # 2026-11-23 12:00 in Shanghai: due the 22nd is overdue, due the 23rd (today) is not.
    login(client, "bureau_a")
    page = client.get(f"/outcomes/sessions/{first}").get_data(as_text=True)
    rows = {m.group(2): "overdue" in m.group(1)
            for m in re.finditer(r'<li class="([^"]*)">\s*<span><a href="/outcomes/actions/\d+">([^<]+)</a>', page)}
    assert rows == {"印发告知承诺制通知": True, "修改理赔须知": False, "向各社区通报做法": False}
    home = client.get("/").get_data(as_text=True)
    assert "1 项待办事项已逾期" in home
    overdue = client.get("/outcomes/overdue").get_data(as_text=True)
    assert "印发告知承诺制通知" in overdue and "修改理赔须知" not in overdue
    # The session page shows it too.
    assert "逾期待办事项：1 项" in client.get(f"/sessions/{first}").get_data(as_text=True)
    # Local midnight in Shanghai (16:00 UTC): the item due the 23rd is now overdue as well.
    _at(monkeypatch, NOW + timedelta(hours=12))
    assert "2 项待办事项已逾期" in client.get("/").get_data(as_text=True)


def test_overdue_items_of_a_community_show_on_its_secretarys_home(client, world, sessions, monkeypatch):
    first, _second = sessions
    login(client, "bureau_a")
    made = client.post(f"/outcomes/sessions/{first}/actions",
                       data={"what": "渭运社区的事", "owner_unit": "渭运社区", "due_on": "2026-11-01", "status": "open"})
    assert made.status_code == 302
    client.post("/logout")
    login(client, "sec_a2")  # 渭运社区
    assert "已逾期：渭运社区的事" in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login(client, "sec_a3")
    assert "渭运社区的事" not in client.get("/").get_data(as_text=True)


def test_the_chairs_home_page_offers_the_packet(client, world, sessions):
    login(client, "sec_a1")
    home = client.get("/").get_data(as_text=True)
    assert "第2期会议材料已备好" in home and f"/packets/sessions/{sessions[1]}" in home
    client.post("/logout")
    login(client, "sec_a2")
    assert "会议材料已备好" not in client.get("/").get_data(as_text=True)


def test_recording_through_the_pages(client, world, sessions):
    first, _second = sessions
    login(client, "sec_a1")  # the chair
    assert client.post(f"/outcomes/sessions/{first}/attendance",
                       data={"community_ids": [str(c.id) for c in world.communities[:2]]}).status_code == 302
    assert client.post(f"/outcomes/sessions/{first}/minutes", data={"summary": "会议纪要正文"}).status_code == 302
    assert client.post(f"/outcomes/sessions/{first}/resolutions", data={"text": "第三项决议"}).status_code == 302
    bad = client.post(f"/outcomes/sessions/{first}/resolutions", data={"text": "决" * 1001})
    assert bad.status_code == 422 and "1000" in bad.get_data(as_text=True)
    bad = client.post(f"/outcomes/sessions/{first}/actions", data={"what": "x", "owner_unit": "", "status": "open"})
    assert bad.status_code == 422
    page = client.get(f"/outcomes/sessions/{first}").get_data(as_text=True)
    assert "会议纪要正文" in page and "第三项决议" in page and "到会社区 2 / 3 个" in page
    client.post("/logout")
    login(client, "sec_a2")  # reads, cannot write
    page = client.get(f"/outcomes/sessions/{first}").get_data(as_text=True)
    assert "第三项决议" in page and 'action="/outcomes/sessions' not in page
    assert client.post(f"/outcomes/sessions/{first}/resolutions", data={"text": "不行"}).status_code == 403


def test_outcomes_through_the_api(api, world, sessions, monkeypatch):
    first, _second = sessions
    chair = api(world.secretaries[0])
    made = chair.post(f"/sessions/{first}/action-items",
                      json={"what": "新事项", "owner_unit": "渭运社区", "due_on": "2026-11-22"})
    assert made.status_code == 201
    item = made.get_json()
    assert item["owner_community_id"] == world.communities[1].id and item["status"] == "open"
    overdue = api(world.secretaries[2]).get("/action-items/overdue").get_json()
    assert [o["what"] for o in overdue] == ["印发告知承诺制通知", "新事项"] and all(o["overdue"] for o in overdue)
    updated = chair.post(f"/action-items/{item['id']}/updates", json={"status": "done", "note": "已办结"})
    assert updated.status_code == 201 and updated.get_json()["new_status"] == "done"
    one = chair.get(f"/action-items/{item['id']}").get_json()
    assert one["status"] == "done" and one["overdue"] is False and one["updates"][0]["note"] == "已办结"
    assert chair.post(f"/action-items/{item['id']}/updates", json={"status": "finished"}).status_code == 422
    assert chair.post(f"/action-items/{item['id']}/updates", json={}).status_code == 422
    bad = chair.post(f"/sessions/{first}/action-items", json={"what": "x", "owner_unit": "y", "due_on": "1900-01-01"})
    assert bad.status_code == 422 and "due_on" in bad.get_json()["error"]["fields"]
    put = chair.put(f"/sessions/{first}/attendance", json={"community_ids": [world.other_community.id]})
    assert put.status_code == 422 and "community_ids" in put.get_json()["error"]["fields"]
    put = chair.put(f"/sessions/{first}/attendance", json={"community_ids": [c.id for c in world.communities]})
    assert put.status_code == 200 and all(c["present"] for c in put.get_json()["communities"])
    outcome = api(world.secretaries[1]).get(f"/sessions/{first}/outcome").get_json()
    assert [r["number"] for r in outcome["resolutions"]] == [1, 2] and outcome["can_write"] is False
    assert api(world.secretaries[1]).post(f"/sessions/{first}/resolutions", json={"text": "x"}).status_code == 403
    assert api(world.other_bureau).get(f"/sessions/{first}/outcome").status_code == 404


@pytest.mark.parametrize("number", ["2147483648", "99999999999999999999999"])
def test_ids_no_row_can_have_are_404(client, api, world, number):
    login(client, "bureau_a")
    for path in (f"/outcomes/sessions/{number}", f"/outcomes/actions/{number}", f"/packets/sessions/{number}",
                 f"/packets/sessions/{number}/packet.pdf", f"/packets/sessions/{number}/links"):
        assert client.get(path).status_code == 404, path
    bureau = api(world.bureau)
    for path in (f"/sessions/{number}/outcome", f"/action-items/{number}", f"/sessions/{number}/packet"):
        response = bureau.get(path)
        assert response.status_code == 404 and response.is_json, path
    assert bureau.delete(f"/guest-links/{number}").status_code == 404


def test_control_characters_and_wrong_types_change_nothing(api, world, sessions):
    first, _second = sessions
    chair = api(world.secretaries[0])
    for body in ({"text": "a\x00b"}, {"text": 12}, {"text": ""}, {"text": "x", "extra": 1}):
        response = chair.post(f"/sessions/{first}/resolutions", json=body)
        assert response.status_code == 422 and response.is_json, body
    assert len(chair.get(f"/sessions/{first}/resolutions").get_json()) == len(RESOLUTIONS)
    response = chair.put(f"/sessions/{first}/attendance", json={"community_ids": "all"})
    assert response.status_code == 422 and "community_ids" in response.get_json()["error"]["fields"]


def test_overdue_items_come_a_page_at_a_time(app, client, api, world, sessions, monkeypatch):
    """SPEC §9: years of undone items do not make the overdue list (page or API) grow: 20 at a time, in order."""
    from salon.outcomes import services as outcome_services
    from salon.schedule.models import Session

    first, _second = sessions
    with app.test_request_context():
        session = db.session.get(Session, first)
        items = record(session, world.bureau, actions=[(f"逾期事项{n:02d}", "县民政局", date(2026, 1, 1) + timedelta(days=n),
                                                        "open") for n in range(25)])
        today = outcome_services.today(world.programme)
        expected = [o.item.id for o in outcome_services.overdue_items(world.programme.id, today)]
    assert len(expected) == 26 and {i.id for i in items} <= set(expected)
    login(client, "bureau_a")
    page = client.get("/outcomes/overdue").get_data(as_text=True)
    assert "逾期事项00" in page and "逾期事项19" in page and "逾期事项20" not in page and "共 26 项" in page
    assert "更多逾期事项" in page
    more = re.search(r'href="(/outcomes/overdue\?after=\d+)"', page).group(1)
    rest = client.get(more).get_data(as_text=True)
    assert "逾期事项20" in rest and "逾期事项19" not in rest and "更多逾期事项" not in rest  # the last page
    bureau = api(world.bureau)
    seen, cursor = [], None
    while True:
        response = bureau.get("/action-items/overdue?limit=10" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200 and len(response.get_json()) <= 10
        seen += [i["id"] for i in response.get_json()]
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            assert "Link" not in response.headers
            break
        assert response.headers["Link"].endswith('rel="next"')
    assert seen == expected
    assert len(bureau.get("/action-items/overdue").get_json()) == 20
    assert "cursor" in bureau.get("/action-items/overdue?cursor=abc").get_json()["error"]["fields"]
    assert client.get("/outcomes/overdue?after=abc").status_code in (400, 422)
