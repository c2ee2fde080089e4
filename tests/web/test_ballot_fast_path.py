"""The ballot's fast path (salon.ballots.api.PollBallot.seat_only): the token check reads the holder and seat as
plain values, and must follow exactly the rules of the full check every other API route uses."""
from __future__ import annotations

from datetime import timedelta

import pytest

from salon import clock
from salon.accounts import auth
from salon.accounts import services as accounts
from salon.ballots import services as ballots
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules import ballots as rules
from tests.legacy_polls import legacy_opening


@pytest.fixture(autouse=True)
def _opened_before_0013(monkeypatch):
    """This file tests the plain path (counters, receipt codes, the scrub), which only polls opened before
    migration 0013 take: no poll opens plain any more (tests/legacy_polls.py, docs/secrecy.md)."""
    with legacy_opening(monkeypatch):
        yield


@pytest.fixture
def poll(app, world):
    with app.test_request_context():
        poll = ballots.create_poll(world.programme.id, "test", "测试", closes_at=clock.utcnow() + timedelta(days=1),
                                   opens_at=clock.utcnow())
        question = ballots.add_question(poll, "Q", rules.APPROVAL, 2)
        options = [ballots.add_option(question, f"选项{i}").id for i in range(3)]
        ballots.open_poll(poll, [c.seat.id for c in world.communities], world.bureau)
        db.session.commit()
        return poll.id, options


def _cast(client, raw: str, poll_id: int, choices, **headers):
    return client.post(f"/api/v1/polls/{poll_id}/ballot", json={"choices": choices},
                       headers={"Authorization": f"Bearer {raw}", **headers})


def test_holder_seat_and_language_come_with_the_token(app, client, world, poll):
    poll_id, options = poll
    _token, raw = accounts.create_token(world.secretaries[0], "phone")
    world.secretaries[0].locale = "en"
    db.session.commit()
    first = _cast(client, raw, poll_id, options[:2])
    assert first.status_code == 201 and first.get_json()["receipt"]
    again = _cast(client, raw, poll_id, [])
    assert again.status_code == 409
    assert again.get_json()["error"]["message"].startswith("Your community has already voted")  # user's language
    assert ballots.turnout(poll_id) == 1


def test_bureau_has_no_seat(app, client, world, poll):
    _token, raw = accounts.create_token(world.bureau, "script")
    db.session.commit()
    assert _cast(client, raw, poll[0], []).status_code == 403


@pytest.mark.parametrize("how", ["revoked", "deactivated", "forged", "other programme"])
def test_a_token_that_no_longer_speaks_for_a_seat_is_refused(app, client, world, poll, how):
    poll_id, options = poll
    secretary = world.other_secretary if how == "other programme" else world.secretaries[1]
    token, raw = accounts.create_token(secretary, "phone")
    if how == "revoked":
        accounts.revoke_token(secretary, token.id)
    elif how == "deactivated":
        accounts.deactivate(secretary)
    elif how == "forged":
        raw = raw[:-4] + "AAAA"
    db.session.commit()
    response = _cast(client, raw, poll_id, options[:1])
    assert response.status_code == (404 if how == "other programme" else 401)
    assert ballots.turnout(poll_id) == 0


def test_the_seat_follows_the_hand_over(app, client, world, poll):
    poll_id, options = poll
    _token, old_raw = accounts.create_token(world.secretaries[2], "phone")
    db.session.commit()
    with app.test_request_context():
        community = db.session.merge(world.communities[2])
        successor, _invitation = programmes.hand_over_seat(community, None, "sec_new", "新书记", "correct horse 1")
        _token, new_raw = accounts.create_token(successor, "phone")
        db.session.commit()
    assert _cast(client, old_raw, poll_id, options[:1]).status_code == 401  # the old holder's account closed
    assert _cast(client, new_raw, poll_id, options[:1]).status_code == 201
    assert _cast(client, new_raw, poll_id, []).status_code == 409


# --- the one-statement fast path (salon.ballots.fast), PostgreSQL only ------------------------------------

@pytest.fixture
def fast_answers(monkeypatch):
    """Which requests the fast path answered itself (True) or handed to the regular path (False)."""
    from salon.ballots import fast
    from salon.ballots.api import PollBallot

    seen = []

    def spy(**kwargs):
        answered = fast.answer(**kwargs)
        seen.append(answered is not None)
        return answered

    monkeypatch.setattr(PollBallot, "fast_path", staticmethod(spy))
    return seen


def _tokens(world, n=3):
    raws = [accounts.create_token(world.secretaries[i], "phone")[1] for i in range(n)]
    db.session.commit()
    return raws


def test_the_fast_path_answers_like_the_regular_one(app, client, world, poll, fast_answers, database_url):
    poll_id, options = poll
    raws = _tokens(world)
    first = _cast(client, raws[0], poll_id, options[:1])  # the process has not seen the poll open yet
    second = _cast(client, raws[1], poll_id, options[1:3])
    assert first.status_code == second.status_code == 201
    assert sorted(first.get_json()) == sorted(second.get_json()) == ["poll_id", "receipt"]
    assert first.get_json()["poll_id"] == second.get_json()["poll_id"] == poll_id
    assert {k: v for k, v in first.headers if k != "Content-Length"} == \
        {k: v for k, v in second.headers if k != "Content-Length"}
    on_postgres = database_url.startswith("postgresql")
    assert fast_answers == [False, on_postgres]
    # A second ballot for the seat is handed to the regular path, which refuses it as before.
    again = _cast(client, raws[1], poll_id, [])
    assert again.status_code == 409 and "seat" in again.get_json()["error"]["fields"]
    # Choices that do not fit, and bodies of another shape, get the regular path's errors.
    assert _cast(client, raws[2], poll_id, options).status_code == 422  # three options, at most two
    assert _cast(client, raws[2], poll_id, [options[0], options[0]]).status_code == 422
    assert _cast(client, raws[2], poll_id, [True]).status_code == 422
    extra = client.post(f"/api/v1/polls/{poll_id}/ballot", json={"choices": [], "x": 1},
                        headers={"Authorization": f"Bearer {raws[2]}"})
    assert extra.status_code == 422 and "x" in extra.get_json()["error"]["fields"]
    assert fast_answers[2:] == [False] * 5
    assert ballots.turnout(poll_id) == 2
    third = _cast(client, raws[2], poll_id, [])
    assert third.status_code == 201 and fast_answers[-1] is on_postgres
    with app.test_request_context():
        poll_row = ballots.get_poll(poll_id, world.programme.id)
        ballots.close_poll(poll_row, world.bureau)
        db.session.commit()
        published = ballots.receipts(poll_row)
        result = ballots.results(poll_row)
    receipts = {r.get_json()["receipt"] for r in (first, second, third)}
    assert sorted(receipts) == published
    assert result.turnout == 3 and result.counts == {options[0]: 1, options[1]: 1, options[2]: 1}
    assert sum(result.blanks.values()) == 1


@pytest.mark.parametrize("how", ["closed", "handed over", "revoked", "deactivated", "forged", "other programme",
                                 "bureau", "not eligible"])
def test_the_fast_path_never_counts_what_the_regular_path_refuses(app, client, world, poll, fast_answers, how):
    poll_id, options = poll
    raws = _tokens(world)
    assert _cast(client, raws[0], poll_id, options[:1]).status_code == 201  # the process now knows the poll
    secretary = world.secretaries[1]
    raw = raws[1]
    expected = 409
    with app.test_request_context():
        if how == "closed":
            ballots.close_poll(ballots.get_poll(poll_id, world.programme.id), world.bureau)
        elif how == "handed over":
            community = db.session.merge(world.communities[1])
            programmes.hand_over_seat(community, None, "sec_next", "接任书记", "correct horse 1")
            expected = 401
        elif how == "revoked":
            from salon.accounts.models import ApiToken

            token = db.session.scalar(db.select(ApiToken).where(ApiToken.user_id == secretary.id))
            accounts.revoke_token(db.session.merge(secretary), token.id)
            expected = 401
        elif how == "deactivated":
            accounts.deactivate(db.session.merge(secretary))
            expected = 401
        elif how == "forged":
            raw = raw[:-4] + ("AAAA" if raw[-4:] != "AAAA" else "BBBB")
            expected = 401
        elif how == "other programme":
            _token, raw = accounts.create_token(db.session.merge(world.other_secretary), "phone")
            expected = 404
        elif how == "bureau":
            _token, raw = accounts.create_token(db.session.merge(world.bureau), "script")
            expected = 403
        else:
            from salon.ballots.models import EligibleSeat
            db.session.execute(db.delete(EligibleSeat).where(EligibleSeat.poll_id == poll_id,
                                                             EligibleSeat.seat_id == world.communities[1].seat.id))
            expected = 403
        db.session.commit()
    response = _cast(client, raw, poll_id, options[1:2])
    assert response.status_code == expected
    assert fast_answers[1] is False
    assert ballots.turnout(poll_id) == 1


def test_a_ballot_the_statement_cannot_fully_count_leaves_nothing(app, world, poll, database_url):
    """The fast path's statement is its own transaction: a receipt stored without all its counts would stay.
    Its guard makes the statement fail instead; then nothing of the ballot remains."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the fast path runs on PostgreSQL only")
    from salon.ballots import fast
    from salon.ballots.models import Counter

    poll_id, options = poll
    raws = _tokens(world, 2)
    with app.test_request_context(f"/api/v1/polls/{poll_id}/ballot", method="POST", json={"choices": [options[0]]},
                                  headers={"Authorization": f"Bearer {raws[0]}"}):
        assert ballots.cast(poll_id, world.communities[0].seat.id, [options[0]], world.programme.id)
        db.session.commit()  # the process now knows the poll is open
    db.session.execute(db.delete(Counter).where(Counter.option_id == options[1]))  # an option loses its counters
    db.session.commit()
    with app.test_request_context(f"/api/v1/polls/{poll_id}/ballot", method="POST", json={"choices": [options[1]]},
                                  headers={"Authorization": f"Bearer {raws[1]}"}):
        assert fast.answer(poll_id=poll_id) is None
    assert ballots.turnout(poll_id) == 1
    with app.test_request_context(f"/api/v1/polls/{poll_id}/ballot", method="POST", json={"choices": [options[0]]},
                                  headers={"Authorization": f"Bearer {raws[1]}"}):
        assert fast.answer(poll_id=poll_id) is not None  # the same seat, an option still counted: counted
    assert ballots.turnout(poll_id) == 2


def test_a_body_nested_too_deep_leaves_the_fast_path_and_gets_the_regular_400(app, client, world, poll,
                                                                                database_url):
    """A short body nested thousands deep (under the fast path's size limit) must not reach json.loads'
    recursion limit on the fast path: it takes the regular path, whose body check answers 400 naming the body."""
    poll_id, options = poll
    raws = _tokens(world, 2)
    assert _cast(client, raws[0], poll_id, options[:1]).status_code == 201  # the process knows the poll is open
    deep = '{"choices": ' + "[" * 2000 + "]" * 2000 + "}"
    response = client.post(f"/api/v1/polls/{poll_id}/ballot", data=deep, content_type="application/json",
                           headers={"Authorization": f"Bearer {raws[1]}"})
    assert response.status_code == 400 and "body" in response.get_json()["error"]["fields"]
    assert ballots.turnout(poll_id) == 1


def test_a_fast_ballot_arriving_during_a_close_waits_and_is_refused(app, world, poll, fast_answers, database_url):
    """The fast path's one statement takes the poll's lock, shared, after its snapshot was taken: a close
    holding the lock makes it wait, and once the close commits the statement still reads the poll as open.
    It must count nothing even so (the close rewrote the counter rows it would add to: its guard fails it), and
    the regular path answers that voting has closed."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the fast path runs on PostgreSQL only")
    import threading
    import time

    from sqlalchemy import text

    from salon.ballots.models import Counter
    from salon.database import POLL_LOCK_CLASS

    poll_id, options = poll
    raws = _tokens(world, 2)
    assert _cast(app.test_client(), raws[0], poll_id, options[:1]).status_code == 201  # the poll is now known open
    answers = []

    def ballot():
        with app.app_context():
            answers.append(_cast(app.test_client(), raws[1], poll_id, options[1:2], **{"Accept-Language": "en"}))

    with app.test_request_context():
        ballots.close_poll(ballots.get_poll(poll_id, world.programme.id), world.bureau)  # holds the lock, exclusive
        thread = threading.Thread(target=ballot)
        thread.start()
        deadline, waiting = time.monotonic() + 10, []
        while not waiting and time.monotonic() < deadline:
            time.sleep(0.05)
            with db.engine.connect() as conn:
                waiting = list(conn.scalars(text(
                    "SELECT a.query FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND NOT l.granted AND l.classid = CAST(:class AS oid)"
                    " AND l.objid = CAST(:poll AS oid) AND l.objsubid = 2"),
                    {"class": POLL_LOCK_CLASS, "poll": poll_id}))
        # The fast path's statement waits for the close, on the poll's lock.
        assert len(waiting) == 1 and waiting[0].startswith("WITH holder AS") and not answers
        db.session.commit()
    thread.join(30)
    assert fast_answers == [False, False]  # the first: not yet known open; the second: the statement failed
    assert len(answers) == 1 and answers[0].status_code == 409
    assert answers[0].get_json()["error"]["message"].startswith("Voting has closed")
    assert answers[0].get_json()["error"]["fields"] == {"poll": [answers[0].get_json()["error"]["message"]]}
    assert ballots.turnout(poll_id) == 1
    assert db.session.scalar(db.select(db.func.sum(Counter.n)).where(Counter.poll_id == poll_id)) == 1
    with app.test_request_context():
        assert len(ballots.receipts(ballots.get_poll(poll_id, world.programme.id))) == 1


def test_a_blank_ballot_arriving_during_a_close_is_refused(app, world, poll, fast_answers, database_url):
    """A blank ballot (no choice at all) adds one to its question's blank counter, so the fast statement's
    guard catches a close that committed while it waited, as for any other ballot. Counted after the close, it
    would change a turnout and a receipt list already published."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the poll's advisory lock is PostgreSQL's")
    import threading
    import time

    from sqlalchemy import text

    from salon.database import POLL_LOCK_CLASS

    poll_id, options = poll
    raws = _tokens(world, 3)
    assert _cast(app.test_client(), raws[0], poll_id, options[:1]).status_code == 201  # the poll is now known open
    assert _cast(app.test_client(), raws[2], poll_id, []).status_code == 201  # a blank ballot is a ballot
    answers = []

    def ballot():
        with app.app_context():
            answers.append(_cast(app.test_client(), raws[1], poll_id, [], **{"Accept-Language": "en"}))

    with app.test_request_context():
        ballots.close_poll(ballots.get_poll(poll_id, world.programme.id), world.bureau)  # holds the lock, exclusive
        thread = threading.Thread(target=ballot)
        thread.start()
        deadline, waiting = time.monotonic() + 10, 0
        while not waiting and time.monotonic() < deadline:
            time.sleep(0.05)
            with db.engine.connect() as conn:
                waiting = conn.scalar(text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND classid = CAST(:class AS oid) AND objid = CAST(:poll AS oid)"),
                    {"class": POLL_LOCK_CLASS, "poll": poll_id})
        assert waiting == 1 and not answers  # the blank ballot waits for the close
        db.session.commit()
    thread.join(30)
    assert fast_answers[-1] is False  # the statement failed: the regular path answered
    assert len(answers) == 1 and answers[0].status_code == 409
    assert answers[0].get_json()["error"]["message"].startswith("Voting has closed")
    assert ballots.turnout(poll_id) == 2
    with app.test_request_context():
        assert len(ballots.receipts(ballots.get_poll(poll_id, world.programme.id))) == 2


def test_only_the_ballot_statement_runs_on_the_generic_plan(app, client, world, poll, fast_answers, database_url):
    """The fast path's statement runs on its prepared generic plan (planning it per execution cost more than
    running it); the setting goes with the statement, so the connection goes back to the pool with PostgreSQL's
    default and the pages' statements keep their own plans (issue 18)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the fast path runs on PostgreSQL only")
    from sqlalchemy import event

    poll_id, options = poll
    raws = _tokens(world, 3)
    assert _cast(client, raws[0], poll_id, options[:1]).status_code == 201  # now the process knows the poll
    used = []

    def prepare_at_once(dbapi_connection, _record, _proxy):
        dbapi_connection.prepare_threshold = 0  # psycopg prepares a statement the first time it runs
        used.append(dbapi_connection)

    event.listen(db.engine, "checkout", prepare_at_once)
    try:
        assert _cast(client, raws[1], poll_id, options[1:2]).status_code == 201
        assert _cast(client, raws[2], poll_id, [options[0], options[2]]).status_code == 201
    finally:
        event.remove(db.engine, "checkout", prepare_at_once)
    assert fast_answers[1:] == [True, True]
    generic = custom = 0
    for connection in set(used):  # back in the pool, idle: read their state directly
        try:
            assert connection.execute("SHOW plan_cache_mode").fetchone()[0] == "auto"
            for plans in connection.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                                            "WHERE statement LIKE 'WITH holder AS%%'"):
                generic, custom = generic + plans[0], custom + plans[1]
        finally:
            connection.rollback()
            connection.prepare_threshold = 5
    assert (generic, custom) == (2, 0)


TOKEN_CASES = ["valid", "deactivated", "revoked", "wrong prefix", "wrong role", "unknown", "malformed", "no scheme",
               "too long"]


@pytest.mark.parametrize("how", TOKEN_CASES)
def test_the_fast_statement_and_the_regular_check_agree_on_every_kind_of_token(app, world, how, database_url):
    """The bearer-token rule has one definition (salon.accounts.services: bearer_token for the header,
    TOKEN_JOIN_SQL and TOKEN_VALID_SQL for the rows); the ballot's statement reads it in raw SQL for speed
    (salon.ballots.fast.HOLDER_CTE). Both must find the same holder and seat, or none, for every kind of
    token. API tokens do not expire: a deactivated account is what ends a token short of its revocation."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the fast statement runs on PostgreSQL only")
    from salon.ballots import fast

    secretary = world.bureau if how == "wrong role" else world.secretaries[0]
    token, raw = accounts.create_token(secretary, "phone")
    if how == "revoked":
        accounts.revoke_token(secretary, token.id)
    elif how == "deactivated":
        accounts.deactivate(secretary)
    db.session.commit()
    header = {"wrong prefix": f"Bearer xyz_{raw[4:]}", "unknown": f"Bearer {raw[:-4]}AAAA",
              "malformed": f"Bearer{raw}", "no scheme": raw, "too long": f"Bearer {raw}{'A' * 200}"}.get(
        how, f"bearer  {raw} " if how == "valid" else f"Bearer {raw}")

    found = accounts.bearer_token(header)
    with app.test_request_context():
        holder = auth.token_holder(found or "")
        regular = (holder.programme_id, holder.seat_id) if holder and holder.is_secretary and holder.seat_id else None
        user, seat_id = auth.user_and_seat_for_token(found or "")
        assert (holder is None) == (user is None)
        assert holder is None or (holder.id, holder.seat_id) == (user.id, seat_id)
        statement = None
        if found is not None:
            cursor = db.session.connection().connection.cursor()  # the driver's own, as the fast path runs it
            cursor.execute(f"WITH {fast.HOLDER_CTE} SELECT programme_id, seat_id FROM holder",
                           {"token_hash": accounts.hash_token(found)})
            row = cursor.fetchone()
            statement = tuple(row) if row is not None else None
        db.session.rollback()
    assert statement == regular
    expected = (world.programme.id, world.communities[0].seat.id) if how == "valid" else None
    assert regular == expected
