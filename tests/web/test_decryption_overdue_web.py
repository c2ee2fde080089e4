"""The pages and home tasks when the trustees do not decrypt in time (docs/sealed-ballots.md; salon.rules.trustees
.DECRYPT_DAYS): one second before the decryption deadline the decision waits, as before; at it the bureau is asked
to decide (a committee member to pick), the decide and pick pages enable their form and say the trustees did not
decrypt in time, naming them, and that there is no tally. An overdue election: the bureau is warned, naming the
awaited trustees, and a trustee's own task says it is overdue. The clock is fixed and moved by the test."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from salon import clock
from salon.rules import trustees as trustee_rules
from tests.web.test_awaiting_count_home import AWAITS, DECIDE, PICK, awaited_votes, home, login

SECOND = timedelta(seconds=1)
DAYS = timedelta(days=trustee_rules.DECRYPT_DAYS)
OVERDUE_TASK = "托管人未按时解密计票（仍在等待：{names}）：请在没有计票的情况下决定。"
OVERDUE_PAGE = "托管人未按时解密本次投票的计票：议题可以在没有计票的情况下决定。决定者没有计票可依"
NO_RATIONALE = "本次投票未公布票数：请说明选择理由。"


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_the_bureau_decides_an_overdue_vote_from_its_home_task_and_page(app, client, world, at):
    closed = at(clock.utcnow().replace(microsecond=0))
    _key, [(session_id, _poll_id)], names = awaited_votes(app, world, [1], committee=False)
    decide = f"/topics/sessions/{session_id}/decide"
    login(client, "bureau_a")
    at(closed + DAYS - SECOND)
    assert DECIDE.format(n=1) not in home(client)
    assert 'id="decide-fields" disabled' in page(client, decide)

    at(closed + DAYS)
    text = home(client)
    assert DECIDE.format(n=1) in text and OVERDUE_TASK.format(names="、".join(names)) in text
    form = page(client, decide)
    assert 'id="decide-overdue"' in form and OVERDUE_PAGE in form and "、".join(names) in form
    assert 'id="decide-fields" disabled' not in form and 'id="decide-fields"' in form
    nomination = re.search(r'<input[^>]*name="nomination_id"[^>]*value="(\d+)"', form).group(1)
    refused = client.post(decide, data={"nomination_id": nomination, "rationale": ""})
    assert refused.status_code == 422 and NO_RATIONALE in html.unescape(refused.get_data(as_text=True))
    done = client.post(decide, data={"nomination_id": nomination, "rationale": "托管人未按时解密，依据问题轻重"})
    assert done.status_code == 302
    assert DECIDE.format(n=1) not in home(client)


def test_a_committee_member_is_asked_to_pick_once_overdue_and_a_secretary_is_not(app, client, world, at):
    closed = at(clock.utcnow().replace(microsecond=0))
    _key, [(session_id, _poll_id)], names = awaited_votes(app, world, [9], committee=True)
    login(client, "sec_a1")
    at(closed + DAYS - SECOND)
    assert PICK.format(n=9) not in home(client)
    at(closed + DAYS)
    text = home(client)
    assert PICK.format(n=9) in text and OVERDUE_TASK.format(names="、".join(names)) in text
    pick = page(client, f"/committee/sessions/{session_id}/pick")
    assert OVERDUE_PAGE in pick and 'id="pick-fields" disabled' not in pick
    assert "（截至 " in pick  # the committee's deadline, from the decryption deadline
    from salon.extensions import db
    from tests.services.test_committee import secretaries

    with app.test_request_context():
        secretaries(world, 4)  # sec_c0: a fourth secretary, not on the committee
        db.session.commit()
    login(client, "sec_c0")  # not on the committee (and not the bureau): nothing to decide
    text = home(client)
    assert PICK.format(n=9) not in text and AWAITS not in text and "请在没有计票的情况下决定" not in text


def test_an_overdue_election_warns_the_bureau_and_its_trustees(app, client, world, at):
    from salon.committee import services as committee
    from salon.extensions import db
    from tests.services.test_trustees import make_ready
    from tests.web.test_trustees_web import drawn

    now = at(clock.utcnow().replace(microsecond=0))
    with app.test_request_context():
        term = drawn(world)
        make_ready(term)
        names = [t.user.display_name for t in term.trustees if t.user_id != world.bureau.id]
        election = committee.open_election(world.programme, world.bureau, now=now)
        for user, community in zip(world.secretaries, world.communities):
            committee.nominate(election, user, community.seat.id, now=now)
        poll = committee.open_vote(election, world.programme, world.bureau, now=now)
        assert poll.sealed
        closed = at(now + timedelta(hours=1))
        committee.close_vote(election, world.programme, world.bureau, now=closed)
        db.session.commit()
    warning = "计票解密已逾期：托管人应在"
    login(client, "bureau_a")
    at(closed + DAYS - SECOND)
    assert warning not in home(client)
    login(client, "sec_a1")
    text = home(client)
    assert "1 个已结束的投票等待您解密：" in text and "已逾期" not in text

    at(closed + DAYS)
    text = home(client)
    assert "1 个已结束的投票等待您解密，其中 1 个已逾期" in text and warning not in text  # a trustee, not the bureau
    login(client, "bureau_a")
    text = home(client)
    assert "选题委员会选举已于" in text and warning in text
    assert all(name in text.split(warning)[1] for name in names)
    awaited = text.split(warning)[1].split(AWAITS)[1].split("。")[0].split("、")
    assert sorted(awaited) == sorted([world.bureau.display_name, *names])  # nobody has decrypted


@pytest.mark.parametrize("who", ["sec_a1", "bureau_a"])
def test_the_home_page_does_not_issue_a_statement_per_overdue_vote(app, world, at, who):
    from tests.web.test_history_cost import counting

    closed = at(clock.utcnow().replace(microsecond=0))
    awaited_votes(app, world, [9], committee=True)
    client = app.test_client()
    login(client, who)
    at(closed + DAYS)
    home(client)  # the first view may open or close a poll: not the steady cost
    with counting() as one:
        page = home(client)
    # A member is asked for their pick; the bureau, whose turn comes after the committee's days, is asked nothing.
    assert ("请在没有计票的情况下决定" in page) == (who == "sec_a1") and AWAITS not in page
    at(closed)
    awaited_votes(app, world, [10, 11], committee=False)
    at(closed + DAYS)
    home(client)
    with counting() as three:
        page = home(client)
    assert page.count("请在没有计票的情况下决定") == (3 if who == "sec_a1" else 0)
    assert len([s for s in three if not s.startswith("BEGIN")]) == len([s for s in one if not s.startswith("BEGIN")])
