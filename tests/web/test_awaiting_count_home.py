"""The home page while a sealed topic vote's count awaits the trustees (SPEC §3.3, §5.1): no task invites a
decision or a pick that the page would refuse; the bureau and the committee's members are told instead that the
count awaits the trustees, by name. Once decrypted, the usual tasks come back. The session and pick pages say that
the committee's deadline has not started. The home page's statements do not grow with the votes awaited."""
from __future__ import annotations

import html

import pytest

from salon.ballots import services as ballots
from salon.extensions import db
from tests.conftest import login as first_login
from tests.sealed_keys import decrypt, key_provider, make_key
from tests.services.test_sealed_minimum import topic_vote
from tests.web.test_history_cost import counting

DECIDE = "第{n}期投票已结束：请确定议题。"
PICK = "第 {n} 期：请提交您的委员会选定意见。"
AWAITS = "计票尚待托管人："
NO_DEADLINE_YET = "决定期限在计票结果出来后才开始计算；在此之前民政局不会代为决定"


def login(client, username):
    client.post("/logout")
    first_login(client, username)


def home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def awaited_votes(app, world, numbers, committee: bool):
    """Sealed topic votes of sessions `numbers`, closed, the bureau's share decrypted (1 of the 2 needed):
    trustees 2 and 3 (secretaries 1 and 2) are awaited."""
    trustees = [world.bureau, *world.secretaries[:2]]
    key = make_key("p1-k9", user_ids=[u.id for u in trustees])
    with app.test_request_context():
        if committee:
            from tests.services.test_sealed_deciding import sitting_committee

            sitting_committee(world)
        polls = []
        for number in numbers:
            with key_provider(app, key, kinds={"topic"}):
                session, _noms, poll = topic_vote(world, 3, number=number)
                ballots.close_poll(poll, world.bureau)
            assert decrypt(poll, key, trustees=[1]) is False
            polls.append((session.id, poll.id))
        db.session.commit()
        names = [u.display_name for u in trustees[1:]]
    return key, polls, names


def test_the_bureau_is_not_asked_to_decide_before_the_count_and_is_told_whom_it_awaits(app, client, world):
    key, [(session_id, poll_id)], names = awaited_votes(app, world, [1], committee=False)  # the bureau decides
    login(client, "bureau_a")
    page = home(client)
    assert DECIDE.format(n=1) not in page and f"/topics/sessions/{session_id}/decide" not in page
    assert "托管人尚未解密计票" in page and f"{AWAITS}{'、'.join(names)}" in page
    login(client, "sec_a3")  # a secretary who decides nothing is not told
    assert AWAITS not in home(client)
    with app.test_request_context():
        assert decrypt(ballots.get(poll_id), key, trustees=[2])
        db.session.commit()
    login(client, "bureau_a")
    page = home(client)
    assert DECIDE.format(n=1) in page and AWAITS not in page


@pytest.mark.parametrize("who", ["sec_a1", "bureau_a"])
def test_committee_members_and_the_bureau_see_the_count_awaited_not_a_pick(app, client, world, who):
    key, [(session_id, poll_id)], names = awaited_votes(app, world, [9], committee=True)
    login(client, who)
    page = home(client)
    assert PICK.format(n=9) not in page
    assert f"{AWAITS}{'、'.join(names)}" in page
    session_page = html.unescape(client.get(f"/sessions/{session_id}").get_data(as_text=True))
    assert 'id="deadline-awaits-count"' in session_page and NO_DEADLINE_YET in session_page
    if who == "sec_a1":
        pick = html.unescape(client.get(f"/committee/sessions/{session_id}/pick").get_data(as_text=True))
        assert NO_DEADLINE_YET in pick
    with app.test_request_context():
        assert decrypt(ballots.get(poll_id), key, trustees=[2])
        db.session.commit()
    page = home(client)
    assert AWAITS not in page
    if who == "sec_a1":
        assert PICK.format(n=9) in page
    session_page = html.unescape(client.get(f"/sessions/{session_id}").get_data(as_text=True))
    assert NO_DEADLINE_YET not in session_page and "（截至 " in session_page  # the deadline, from the count


@pytest.mark.parametrize("who", ["sec_a1", "bureau_a"])
def test_the_home_page_does_not_issue_a_statement_per_vote_awaited(app, world, who):
    _key, _polls, _names = awaited_votes(app, world, [9], committee=True)
    client = app.test_client()
    login(client, who)
    home(client)  # the first view may open or close a poll: not the steady cost
    with counting() as one:
        assert AWAITS in home(client)
    _key, _polls, _names = awaited_votes(app, world, [10, 11], committee=False)
    home(client)
    with counting() as three:
        page = home(client)
    assert page.count(AWAITS) == 3
    assert len([s for s in three if not s.startswith("BEGIN")]) == len([s for s in one if not s.startswith("BEGIN")])
