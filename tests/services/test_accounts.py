"""Accounts: invitations (expiry, single use, replacement), resets, tokens, log-in checks."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from salon import clock
from salon.accounts import services
from salon.accounts.models import ApiToken, Invitation, Role
from salon.errors import NotFound, ValidationFailed
from salon.extensions import db
from tests.conftest import PASSWORD

pytestmark = pytest.mark.rolled_back  # one transaction per test, rolled back; world built once


def _invite(world):
    user, token = services.invite_colleague(world.programme, world.bureau, "newcomer", "新同事")
    db.session.commit()
    return user, token


def test_invitation_sets_the_password_once(world):
    user, token = _invite(world)
    assert services.authenticate("newcomer", "a fine password") is None
    services.accept_invitation(token, "a fine password", "a fine password")
    db.session.commit()
    assert services.authenticate("newcomer", "a fine password") == user
    with pytest.raises(NotFound, match="已被使用"):
        services.accept_invitation(token, "another password", "another password")


def test_invitation_works_until_its_last_second(world, monkeypatch):
    _user, token = _invite(world)
    invitation = db.session.scalar(select(Invitation).order_by(Invitation.id.desc()))
    monkeypatch.setattr(services, "utcnow", lambda: invitation.expires_at - timedelta(seconds=1))
    assert services.open_invitation(token).id == invitation.id
    monkeypatch.setattr(services, "utcnow", lambda: invitation.expires_at)
    with pytest.raises(NotFound, match="已过期"):
        services.open_invitation(token)


def test_invitation_lasts_the_configured_days(world):
    world.programme.invitation_days = 3
    _user, _token = _invite(world)
    invitation = db.session.scalar(select(Invitation).order_by(Invitation.id.desc()))
    assert invitation.expires_at - invitation.created_at == timedelta(days=3)


def test_a_new_invitation_replaces_the_old(world):
    user, first = _invite(world)
    second = services.invite(user, world.bureau)
    db.session.commit()
    with pytest.raises(NotFound, match="取代"):
        services.open_invitation(first)
    assert services.open_invitation(second).user == user


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 500])
def test_forged_invitation_tokens_are_refused(world, token):
    with pytest.raises(NotFound):
        services.open_invitation(token)


def test_short_or_mismatched_passwords_change_nothing(world):
    user, token = _invite(world)
    with pytest.raises(ValidationFailed) as short:
        services.accept_invitation(token, "1234567", "1234567")
    assert short.value.field == "password"
    with pytest.raises(ValidationFailed) as differ:
        services.accept_invitation(token, "long enough 1", "long enough 2")
    assert differ.value.field == "confirm"
    db.session.rollback()
    assert services.open_invitation(token).used_at is None
    assert user.password_hash is None


def test_reset_ends_password_sessions_and_tokens(world):
    secretary = world.secretaries[0]
    services.create_token(secretary, "phone")
    version = secretary.session_version
    token = services.reset_account(secretary, world.bureau)
    db.session.commit()
    assert services.authenticate(secretary.username, PASSWORD) is None
    assert secretary.session_version == version + 1
    assert services.load_session_user(f"{secretary.id}:{version}") is None
    assert not services.tokens_of(secretary)
    services.accept_invitation(token, "brand new pass", "brand new pass")
    assert services.authenticate(secretary.username, "brand new pass") == secretary


def test_tokens_are_stored_hashed_and_revocable(world):
    token, raw = services.create_token(world.bureau, "script")
    db.session.commit()
    stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert raw not in stored and all(raw[4:] not in h for h in stored)
    assert services.user_for_token(raw) == world.bureau
    services.revoke_token(world.bureau, token.id)
    assert services.user_for_token(raw) is None
    with pytest.raises(NotFound):
        services.revoke_token(world.secretaries[0], token.id)


def test_someone_elses_token_cannot_be_revoked(world):
    token, raw = services.create_token(world.bureau, "script")
    with pytest.raises(NotFound):
        services.revoke_token(world.other_bureau, token.id)
    assert services.user_for_token(raw) == world.bureau


@pytest.mark.parametrize("username", ["ab", "UPPER CASE", "x" * 41, "", "名字", "-lead"])
def test_bad_usernames_are_refused(world, username):
    with pytest.raises(ValidationFailed) as exc:
        services.create_user(world.programme, Role.BUREAU, username, "名字")
    assert exc.value.field == "username"


def test_clock_is_the_only_time_source():
    assert clock.utcnow().tzinfo is None
