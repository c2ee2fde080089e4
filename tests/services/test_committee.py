"""The committee against a real database: the first election's prompt, standing, fewer candidates than
seats, a clean win, a tie settled by runoff, a tied runoff settled by lot that is recomputed from the
published receipts alone, and the committee's signed picks deciding a topic (SPEC §3.3, §4)."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from salon import clock
from salon.ballots import services as ballots
from salon.committee import services
from salon.committee.models import ElectionState
from salon.errors import Conflict, Forbidden, ValidationFailed
from salon.extensions import db
from salon.programmes import services as programmes
from salon.programmes.models import Seat
from salon.rules import topics as topic_rules
from salon.schedule.models import Session, SessionStatus
from salon.topics import services as topics
from salon.topics.models import Nomination
from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def secretaries(world, n: int) -> list:
    users = list(world.secretaries)
    for i in range(n - len(users)):
        community = programmes.add_community(world.programme, world.bureau, f"委员测试社区{i}")
        user, _ = programmes.hand_over_seat(community, world.bureau, f"sec_c{i}", f"书记{i}", PASSWORD)
        users.append(user)
    db.session.flush()
    return users


def seat(user) -> int:
    return programmes.seat_of(user).id


def elect(world, users, stand: int, ballots_by_voter: list[list[int]], seats: int = 3):
    """Open an election, let the first `stand` users stand, cast the given ballots (candidate indexes)."""
    programme = world.programme
    programme.committee_size = seats
    election = services.open_election(programme, world.bureau)
    for user in users[:stand]:
        services.nominate(election, user, seat(user))
    poll = services.open_vote(election, programme, world.bureau, fewer_ok=True)
    options = {o.ref_id: o.id for o in poll.questions[0].options}
    for voter, picks in zip(users, ballots_by_voter):
        ballots.cast(poll.id, seat(voter), [options[seat(users[i])] for i in picks], programme.id)
    services.close_vote(election, programme, world.bureau)
    return election


def test_first_election_is_due_once_the_bureau_sessions_are_held(world):
    programme = world.programme
    assert programme.bureau_sessions == 3
    now = clock.utcnow()
    for n in (1, 2):
        db.session.add(Session(programme_id=programme.id, number=n, starts_at=now - timedelta(days=60 - n),
                               status=SessionStatus.HELD))
    db.session.flush()
    assert not services.first_election_due(programme)
    db.session.add(Session(programme_id=programme.id, number=3, starts_at=now - timedelta(days=1),
                           status=SessionStatus.HELD))
    db.session.flush()
    assert services.first_election_due(programme)
    services.open_election(programme, world.bureau)
    assert not services.first_election_due(programme)
    with pytest.raises(Conflict):
        services.open_election(programme, world.bureau)


def test_standing_by_accepting_and_fewer_candidates_than_seats(world):
    users = secretaries(world, 5)
    programme = world.programme
    election = services.open_election(programme, world.bureau)
    services.nominate(election, users[0], seat(users[0]))  # stands at once
    services.nominate(election, users[0], seat(users[1]))  # nominated by another: not yet
    assert [c.accepted_at is not None for c in services.candidates(election.id)] == [True, False]
    with pytest.raises(Conflict):
        services.nominate(election, users[2], seat(users[1]))
    with pytest.raises(Conflict):
        services.accept(election, users[3])  # nobody nominated them
    services.accept(election, users[1])
    assert services.fewer_candidates_than_seats(election)
    with pytest.raises(Conflict) as told:
        services.open_vote(election, programme, world.bureau)
    assert "2" in told.value.message and "3" in told.value.message
    with pytest.raises(Forbidden):
        services.nominate(election, world.bureau, seat(users[2]))
    services.extend_standing(election, world.bureau, 3)
    with pytest.raises(ValidationFailed):
        services.extend_standing(election, world.bureau, 0)
    services.nominate(election, users[2], seat(users[2]))
    assert not services.fewer_candidates_than_seats(election)
    services.open_vote(election, programme, world.bureau)
    assert election.state == ElectionState.VOTING


def test_standing_closes_at_its_deadline(world):
    users = secretaries(world, 3)
    election = services.open_election(world.programme, world.bureau)
    with pytest.raises(Conflict):
        services.nominate(election, users[0], seat(users[0]), now=election.standing_until)


def test_clean_win_seats_the_committee_and_it_decides(world):
    users = secretaries(world, 6)
    election = elect(world, users, 4, [[0, 1, 2], [0, 1], [0, 2], [3], [1], [2]])
    assert election.state == ElectionState.CLOSED and election.lot_seed is None
    standing = services.standing(world.programme.id)
    assert sorted(m.seat_id for m in standing.members) == sorted(seat(u) for u in users[:3])
    assert services.sitting_term(world.programme.id) is not None
    session = Session(programme_id=world.programme.id, number=4, starts_at=clock.utcnow() + timedelta(days=30))
    assert topics.decider_for(session, world.programme) == topic_rules.COMMITTEE


def test_two_ballots_are_enough_to_name_winners_though_counts_stay_withheld(world):
    users = secretaries(world, 4)
    election = elect(world, users, 4, [[0, 1, 2], [0, 1, 2]])
    assert not ballots.results(ballots.get(election.poll_id)).published
    assert sorted(m.seat_id for m in services.standing(world.programme.id).members) == \
        sorted(seat(u) for u in users[:3])


def test_tie_for_the_last_seat_is_settled_by_runoff(world):
    users = secretaries(world, 6)
    # 0: 3 approvals; 1, 2, 3: 2 each → 0 wins, runoff among 1, 2, 3 for 2 seats
    election = elect(world, users, 4, [[0, 1], [0, 2], [0, 3], [1, 2, 3]])
    assert election.state == ElectionState.RUNOFF and election.runoff_seats == 2
    runoff = ballots.get(election.runoff_poll_id)
    options = {o.ref_id: o.id for o in runoff.questions[0].options}
    assert set(options) == {seat(u) for u in users[1:4]}
    for voter, picks in zip(users, [[1, 2], [1, 2], [3]]):
        ballots.cast(runoff.id, seat(voter), [options[seat(users[i])] for i in picks], world.programme.id)
    services.close_vote(election, world.programme, world.bureau)
    assert election.state == ElectionState.CLOSED and election.lot_seed is None
    members = sorted(m.seat_id for m in services.standing(world.programme.id).members)
    assert members == sorted(seat(u) for u in users[:3])


def test_tied_runoff_is_settled_by_lot_that_anyone_can_redo(app, world, api):
    users = secretaries(world, 6)
    election = elect(world, users, 4, [[0, 1], [0, 2], [0, 3], [1, 2, 3]])
    runoff = ballots.get(election.runoff_poll_id)
    options = {o.ref_id: o.id for o in runoff.questions[0].options}
    for voter, picks in zip(users, [[1], [2], [3], []]):  # 1 : 1 : 1 — tied again
        ballots.cast(runoff.id, seat(voter), [options[seat(users[i])] for i in picks], world.programme.id)
    services.close_vote(election, world.programme, world.bureau)
    assert election.state == ElectionState.CLOSED and election.lot_seed
    db.session.commit()

    # From the published data alone (the API, as any secretary sees it):
    me = api(users[0])
    published = me.get(f"/elections/{election.id}").get_json()
    receipts = me.get(f"/polls/{published['runoff']['id']}/receipts").get_json()["receipts"]
    assert len(receipts) == 4
    text = published["lot_seed_text"]  # the election, the moment the runoff closed, its receipts
    lines = text.split("\n")
    assert lines[0] == f"election {election.id}" and lines[2:] == sorted(receipts)
    assert lines[1] == ballots.get(election.runoff_poll_id).closed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    seed = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert seed == published["lot_seed"]
    # Every tied candidate's digest, lowest first; the first runoff_seats are drawn.
    rows = published["lot"]
    names = {c["seat_id"]: c["community"] for c in published["candidates"]}
    assert sorted(r["seat_id"] for r in rows) == sorted(published["lot_candidates"])
    for row in rows:
        assert row["public_id"] == names[row["seat_id"]]
        assert row["digest"] == hashlib.sha256(f"{seed}:{row['public_id']}".encode("utf-8")).hexdigest()
    assert [r["digest"] for r in rows] == sorted(r["digest"] for r in rows)
    drawn = {r["seat_id"] for r in rows[:published["lot_seats"]]}
    assert {r["seat_id"] for r in rows if r["drawn"]} == drawn
    elected = {m["seat_id"] for m in published["elected"]}
    assert elected == {seat(users[0])} | drawn


def committee_session(world, users):
    """A session after the bureau's, with three nominations and a closed topic vote (1 leads)."""
    programme = world.programme
    now = clock.utcnow()
    session = Session(programme_id=programme.id, number=9, starts_at=now + timedelta(days=20),
                      status=SessionStatus.PLANNED, chair_community_id=world.communities[0].id)
    db.session.add(session)
    db.session.flush()
    noms = []
    for i in range(3):
        nom = Nomination(programme_id=programme.id, session_id=session.id,
                         community_id=programmes.seat_of(users[i]).community_id, title=f"议题{i}", problem="问题")
        db.session.add(nom)
        noms.append(nom)
    db.session.flush()
    poll = topics.build_poll(session, programme, world.bureau, now)
    options = {o.ref_id: o.id for o in poll.questions[0].options}
    for voter, pick in zip(users, [0, 0, 0, 1, 2, 0]):
        ballots.cast(poll.id, seat(voter), [options[noms[pick].id]], programme.id)
    ballots.close_poll(poll, world.bureau)
    return session, noms


def test_committee_picks_signed_first_majority_decides(world):
    users = secretaries(world, 6)
    elect(world, users, 3, [[0, 1, 2]] * 3)
    session, noms = committee_session(world, users)
    with pytest.raises(Forbidden):
        topics.decide(session, world.bureau, noms[0].id, "")
    with pytest.raises(Forbidden):
        services.record_pick(session, users[4], noms[0].id, "")  # not a member
    with pytest.raises(ValidationFailed):
        services.record_pick(session, users[0], noms[1].id, "")  # not the most approved: explain
    services.record_pick(session, users[0], noms[1].id, "县医保局能到会")
    assert topics.decision_of(session.id) is None
    services.record_pick(session, users[1], noms[0].id, "")
    assert topics.decision_of(session.id) is None
    services.record_pick(session, users[2], noms[1].id, "同意")
    decision = topics.decision_of(session.id)
    assert decision.nomination_id == noms[1].id and decision.decider == topic_rules.COMMITTEE
    assert "县医保局能到会" in decision.rationale and not decision.followed_tally
    assert [p.user_id for p in services.picks(session.id)] == [users[0].id, users[1].id, users[2].id]
    with pytest.raises(Conflict):
        services.record_pick(session, users[1], noms[1].id, "x")


def test_recalled_committee_hands_decisions_back_to_the_bureau(world):
    users = secretaries(world, 4)
    elect(world, users, 3, [[0, 1, 2]] * 3)
    term = services.sitting_term(world.programme.id)
    services.end_term(term, "recalled", world.bureau, clock.utcnow())
    assert services.sitting_term(world.programme.id) is None
    standing = services.standing(world.programme.id)
    assert standing.term is None and standing.last_term.end_reason == "recalled"
    with pytest.raises(Conflict):
        services.end_term(term, "recalled", world.bureau, clock.utcnow())
    services.open_election(world.programme, world.bureau, reason="recall")  # sitting members may stand again


def test_runoff_settling_one_seat_and_tying_on_the_other_draws_only_that_seat(app, world, api):
    users = secretaries(world, 6)
    election = elect(world, users, 4, [[0, 1], [0, 2], [0, 3], [1, 2, 3]])  # runoff among 1, 2, 3 for 2 seats
    runoff = ballots.get(election.runoff_poll_id)
    options = {o.ref_id: o.id for o in runoff.questions[0].options}
    for voter, picks in zip(users, [[1], [1], [2], [3]]):  # 1 wins outright; 2 and 3 tie for the last seat
        ballots.cast(runoff.id, seat(voter), [options[seat(users[i])] for i in picks], world.programme.id)
    services.close_vote(election, world.programme, world.bureau)
    db.session.commit()

    published = api(users[5]).get(f"/elections/{election.id}").get_json()
    assert published["runoff_seats"] == 2 and published["lot_seats"] == 1
    assert published["lot_candidates"] == sorted([seat(users[2]), seat(users[3])])
    seed = published["lot_seed"]
    order = sorted(published["lot_candidates"], key=lambda seat_id: hashlib.sha256(
        f"{seed}:{programmes.get_scoped(Seat, seat_id, world.programme.id).community.name}".encode()).hexdigest())
    elected = {m["seat_id"] for m in published["elected"]}
    assert len(elected) == 3 and elected == {seat(users[0]), seat(users[1]), order[0]}
    export = api(world.bureau).get(f"/elections/{election.id}/export.csv").get_data(as_text=True)
    assert f"抽签决定,{seed}" in export and "抽签席位数,1" in export


def test_the_election_page_prints_the_draw_for_the_seats_the_lot_filled(app, client, world):
    users = secretaries(world, 6)
    election = elect(world, users, 4, [[0, 1], [0, 2], [0, 3], [1, 2, 3]])
    runoff = ballots.get(election.runoff_poll_id)
    options = {o.ref_id: o.id for o in runoff.questions[0].options}
    for voter, picks in zip(users, [[1], [1], [2], [3]]):
        ballots.cast(runoff.id, seat(voter), [options[seat(users[i])] for i in picks], world.programme.id)
    services.close_vote(election, world.programme, world.bureau)
    db.session.commit()
    from tests.conftest import login

    login(client, "sec_a1")
    body = client.get(f"/committee/elections/{election.id}").get_data(as_text=True)
    lot = body.split('id="lot-candidates"')[1].split("</ol>")[0]
    assert election.lot_seed in body
    names = {s: programmes.get_scoped(Seat, s, world.programme.id).community.name for s in map(seat, users)}
    assert names[seat(users[2])] in lot and names[seat(users[3])] in lot and names[seat(users[1])] not in lot

    # Each line printed on the page, run in a shell as a reader would paste it, gives the digest printed beside
    # it; the seed is the SHA-256 of the printed seed text; the lowest digest took the seat.
    import html
    import re
    import subprocess

    seed_text = html.unescape(body.split('id="lot-seed-text">')[1].split("</pre>")[0])
    assert hashlib.sha256(seed_text.encode()).hexdigest() == election.lot_seed
    rows = re.findall(r'<code class="digest">([0-9a-f]{64})</code><br><code class="command">(.*?)</code>', lot)
    assert len(rows) == 2
    for digest, command in rows:
        out = subprocess.run(["sh", "-c", html.unescape(command)], capture_output=True, text=True, check=True,
                             env={"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"}).stdout
        assert out.split()[0] == digest
    assert rows[0][0] < rows[1][0]
    first = html.unescape(lot.split('data-public-id="')[1].split('"')[0])
    drawn = next(s for s, name in names.items() if name == first)
    members = {m.seat_id for m in services.standing(world.programme.id).members}
    assert members == {seat(users[0]), seat(users[1]), drawn}
