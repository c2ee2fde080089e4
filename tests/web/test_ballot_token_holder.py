"""The ballot's seat-only token check (salon.ballots.api.PollBallot.seat_only, salon.accounts.auth.token_holder):
it reads the holder and seat as plain values, and must follow exactly the rules of the full check every other API
route uses. The ballots are sealed by the server (plain choices through the API)."""
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


# --- every kind of token: the seat-only check and the full check agree ----------------------------------------


TOKEN_CASES = ["valid", "deactivated", "revoked", "wrong prefix", "wrong role", "unknown", "malformed", "no scheme",
               "too long"]


@pytest.mark.parametrize("how", TOKEN_CASES)
def test_the_seat_only_check_and_the_full_check_agree_on_every_kind_of_token(app, world, how):
    """The bearer-token rule has one definition (salon.accounts.services: bearer_token for the header,
    TOKEN_JOIN_SQL and TOKEN_VALID_SQL for the rows); the ballot's seat-only check (auth.token_holder, plain SQL on
    PostgreSQL) and the full check every other route uses (auth.user_and_seat_for_token) must find the same holder
    and seat, or none, for every kind of token. API tokens do not expire: a deactivated account is what ends a
    token short of its revocation."""
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
        db.session.rollback()
    expected = (world.programme.id, world.communities[0].seat.id) if how == "valid" else None
    assert regular == expected


def test_a_ballot_on_postgresql_is_three_statements_and_the_commit(app, client, world, poll, monkeypatch):
    """A ballot sealed by the client: the token check, the poll's lock, and the one statement that reads the poll and
    writes the ballot (ballots.services.casting.CAST_SQL), once the process knows the poll's sealed shape; a refusal
    the same three and one more (whether the seat has voted: the answer says which refusal)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's path: SQLite runs the steps through SQLAlchemy")
    import psycopg

    from salon.ballots.services import casting
    from salon.database import POLL_LOCK_SHARED_SQL
    from salon.sealed import client as sealing_client
    poll_id, options = poll
    raws = []
    for secretary in world.secretaries[:2]:
        raws.append(accounts.create_token(secretary, "phone")[1])
    db.session.commit()
    assert _cast(client, raws[0], poll_id, options[:1]).status_code == 201  # the shape is now remembered
    spec = sealing_client.spec_from_json(client.get(f"/api/v1/polls/{poll_id}",
                                                    headers={"Authorization": f"Bearer {raws[1]}"}).get_json())

    def sealed(choices):
        body = sealing_client.request_body(sealing_client.seal_ballot(spec, spec.answers_for_options(choices)))
        return client.post(f"/api/v1/polls/{poll_id}/ballot", json=body,
                           headers={"Authorization": f"Bearer {raws[1]}"})
    sent = []
    real_execute = psycopg.Cursor.execute

    def execute(cursor, query, *args, **kwargs):
        sent.append(str(query))
        return real_execute(cursor, query, *args, **kwargs)
    monkeypatch.setattr(psycopg.Cursor, "execute", execute)
    assert sealed(options[1:2]).status_code == 201
    assert sent[1:] == [POLL_LOCK_SHARED_SQL, casting.CAST_SQL] and "token_hash" in sent[0], sent
    sent.clear()
    assert sealed([]).status_code == 409
    assert sent[1:3] == [POLL_LOCK_SHARED_SQL, casting.CAST_SQL] and len(sent) == 4, sent
    monkeypatch.undo()
    assert ballots.turnout(poll_id) == 2
