"""The ceremony's deadlines on the pages (SPEC §5.1; docs/sealed-ballots.md, "Deadlines"): a trustee's home task
and the term's page show when the step ends; the bureau's home page says who has not done it before the moment,
and who was dropped after; the first request after the moment applies it — the home page, the term's page, even
the late trustee's own refused post. The clock is fixed and moved by the test."""
from __future__ import annotations

import html
from datetime import timedelta

import pytest
from flask_babel import format_datetime

from salon import clock
from salon.extensions import db
from salon.rules import trustees as rules
from salon.sealed import threshold
from salon.sealed.group import SeededNonces
from salon.trustees import services
from salon.trustees.models import DEALING, TrusteeTerm
from tests.conftest import login as first_login

STEP = timedelta(days=rules.STEP_DAYS)


def login(client, username):
    client.post("/logout")
    first_login(client, username)


@pytest.fixture
def ceremony(app, world, at):
    """A drawn term whose trustees 1 (the bureau) to 3 have dealt; trustee 4 has not. Answers (term id, start,
    the late trustee's username and name, the deadline as the pages print it, a secretary who dealt)."""
    start = at(clock.utcnow().replace(second=0, microsecond=0))
    with app.test_request_context():
        term = services.draw(services.announce_draw(world.programme, world.bureau), world.bureau)
        for t in term.trustees[:3]:
            public = threshold.deal(term.key_term, t.index, term.threshold, SeededNonces(f"w{t.index}")).public()
            services.post_dealing(term, t.user, public["commitments"][0], public["commitments"], public["proofs"], 1)
        late, prompt = term.trustees[3], term.trustees[1]
        shown = format_datetime(start + STEP, "yyyy-MM-dd HH:mm")
        db.session.commit()
        return term.id, start, late.user.username, late.user.display_name, shown, prompt.user.username


def text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_before_the_deadline_the_pages_show_it_and_the_bureau_sees_who_is_late(client, world, ceremony):
    term_id, _start, late_user, late_name, shown, prompt = ceremony
    login(client, late_user)
    home = text(client.get("/"))
    assert f"请在 {shown} 前在您自己的设备上打开密钥仪式" in home  # their own task, with the deadline
    page = text(client.get(f"/trustees/{term_id}"))
    assert 'id="deadline"' in page and f"这一步截止于 {shown}" in page and f"尚未完成：{late_name}" in page
    login(client, "bureau_a")
    home = text(client.get("/"))
    assert f"抽签产生的托管人：{late_name} 尚未完成发布承诺；到 {shown}" in home
    assert "因逾期被除名" not in home
    # A secretary who has dealt sees no task of the ceremony, and not the bureau's list of who is late.
    login(client, prompt)
    home = text(client.get("/"))
    assert "尚未完成发布承诺" not in home and "打开密钥仪式" not in home


def test_the_home_page_after_the_deadline_drops_the_late_and_the_bureau_sees_who(app, client, world, ceremony, at):
    term_id, start, _late_user, late_name, _shown, _prompt = ceremony
    login(client, "bureau_a")
    at(start + STEP - timedelta(seconds=1))
    assert "因逾期被除名" not in text(client.get("/"))
    at(start + STEP)
    home = text(client.get("/"))  # the first request after the moment applies it
    assert f"因逾期被除名：{late_name}" in home
    with app.test_request_context():
        term = db.session.get(TrusteeTerm, term_id)
        assert (term.state, term.round, len(term.active)) == (DEALING, 2, 3)
        assert term.deadline == start + STEP + STEP
        new_deadline = format_datetime(term.deadline, "yyyy-MM-dd HH:mm")
    assert f"到 {new_deadline}" in home  # the restarted round's fresh deadline, the three to deal again
    page = text(client.get(f"/trustees/{term_id}"))
    assert "已除名：未在期限内完成发布承诺" in page
    index = text(client.get("/trustees/"))
    assert "逾期除名：1 人" in index


def test_the_late_trustees_own_post_after_the_deadline_is_refused_and_the_drop_kept(app, client, world,
                                                                                      ceremony, at):
    term_id, start, late_user, _late_name, _shown, _prompt = ceremony
    login(client, late_user)
    at(start + STEP)
    with app.test_request_context():
        term = db.session.get(TrusteeTerm, term_id)
        public = threshold.deal(term.key_term, 4, term.threshold, SeededNonces("late")).public()
    posted = client.post(f"/trustees/{term_id}/device/dealing",
                         json={"round": 1, "transport_key": public["commitments"][0],
                               "commitments": public["commitments"], "proofs": public["proofs"]})
    assert posted.status_code == 409 and "state" in posted.get_json()["error"]["fields"]
    with app.test_request_context():  # refused, yet the drop is written (salon.database.keep_if_refused)
        term = db.session.get(TrusteeTerm, term_id)
        assert term.round == 2 and [t.dropped_for for t in term.trustees] == [None, None, None, "deadline"]
    page = text(client.get(f"/trustees/{term_id}"))
    assert 'id="dropped"' in page and "您未在这一步的期限内完成发布承诺" in page
    state = client.get(f"/trustees/{term_id}/device").get_json()
    assert state["me"] is None and state["dropped"] == [4]


def test_the_api_gives_the_deadline_and_applies_it(api, world, ceremony, at):
    term_id, start, _late_user, _late_name, _shown, _prompt = ceremony
    bureau = api(world.bureau)
    listed = bureau.get("/trustees/terms").get_json()
    assert listed[0]["deadline"].startswith((start + STEP).strftime("%Y-%m-%dT%H:%M"))
    at(start + STEP)
    state = bureau.get(f"/trustees/terms/{term_id}").get_json()
    assert state["dropped"] == [4] and state["round"] == 2
    assert state["deadline"].startswith((start + STEP + STEP).strftime("%Y-%m-%dT%H:%M"))
