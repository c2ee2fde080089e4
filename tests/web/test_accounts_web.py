"""Log-in, log-out, invitations, language and security guards through the test client."""
import re

import pytest

from salon.accounts import services
from salon.extensions import db
from tests.conftest import PASSWORD, login


def test_wrong_password_is_refused_with_a_message(client, world):
    response = login(client, "bureau_a", "wrong password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_closed_account_cannot_log_in(client, world):
    services.deactivate(world.secretaries[0])
    db.session.commit()
    assert login(client, "sec_a1").status_code == 401


@pytest.mark.parametrize("target, lands", [
    ("/communities", "/communities"),
    ("https://evil.example/", "/"),
    ("//evil.example/x", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_next_only_goes_to_our_own_pages(client, world, target, lands):
    response = client.post("/login", data={"username": "bureau_a", "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == lands


def test_logout_needs_post(client, world):
    login(client, "bureau_a")
    assert client.get("/logout").status_code == 405
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_session_ends_when_the_account_is_reset(client, world):
    login(client, "sec_a1")
    assert client.get("/").status_code == 200
    services.reset_account(world.secretaries[0], world.bureau)
    db.session.commit()
    assert client.get("/").status_code == 302


def test_invitation_page_flow(client, world):
    user, token = services.invite_colleague(world.programme, world.bureau, "newbie", "新人")
    db.session.commit()
    page = client.get(f"/invite/{token}")
    assert page.status_code == 200 and "newbie" in page.get_data(as_text=True)
    bad = client.post(f"/invite/{token}", data={"password": "abc", "confirm": "abc"})
    assert bad.status_code == 422 and "至少" in bad.get_data(as_text=True)
    ok = client.post(f"/invite/{token}", data={"password": "good password", "confirm": "good password"})
    assert ok.status_code == 302 and "username=newbie" in ok.headers["Location"]
    assert client.get(f"/invite/{token}").status_code == 404
    assert login(client, "newbie", "good password").status_code == 302


def test_language_switch_is_remembered_for_the_account(app, world):
    first = app.test_client()
    login(first, "sec_a1")
    assert "接下来要做的事" in first.get("/").get_data(as_text=True)
    first.post("/language", data={"locale": "en", "next": "/"})
    assert "What to do next" in first.get("/").get_data(as_text=True)
    second = app.test_client()
    login(second, "sec_a1")
    assert "What to do next" in second.get("/").get_data(as_text=True)


def test_unknown_language_changes_nothing(client, world):
    login(client, "sec_a1")
    client.post("/language", data={"locale": "fr"})
    assert world.secretaries[0].locale is None
    assert "接下来要做的事" in client.get("/").get_data(as_text=True)


def test_anonymous_language_choice_carries_into_the_account(client, world):
    client.post("/language", data={"locale": "en"})
    assert "Log in" in client.get("/login").get_data(as_text=True)
    login(client, "sec_a2")
    assert world.secretaries[1].locale == "en"


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_every_form_needs_the_csrf_token(client, world):
    assert client.post("/login", data={"username": "bureau_a", "password": PASSWORD}).status_code == 400
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": "bureau_a", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert client.post("/communities", data={"name": "无令牌社区"}).status_code == 400
    from salon.programmes.models import Community
    assert db.session.scalar(db.select(Community).where(Community.name == "无令牌社区")) is None


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": True, "SALON_LOGIN_LIMIT_ACCOUNT": "3 per 5 minutes",
                                  "SALON_LOGIN_LIMIT_ADDRESS": "5 per 5 minutes"}], indirect=True)
def test_login_is_rate_limited_per_account_and_per_address(app, world):
    from salon.extensions import limiter

    limiter.reset()
    attacker = app.test_client()
    for _ in range(3):
        assert login(attacker, "bureau_a", "guess").status_code == 401
    # The account is now shut for guesses, even from another address and with the right password.
    other = app.test_client()
    blocked = other.post("/login", data={"username": "bureau_a", "password": PASSWORD},
                         environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert blocked.status_code == 429
    assert "尝试次数过多" in blocked.get_data(as_text=True)
    # Other accounts from the first address still work until the address limit.
    assert login(attacker, "sec_a1").status_code == 302
    attacker.post("/logout")
    assert login(attacker, "sec_a2", "guess").status_code == 401
    assert login(attacker, "sec_a3", "guess").status_code == 401  # the 5th failure from this address
    assert login(attacker, "sec_a3", PASSWORD).status_code == 429
    limiter.reset()


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": True, "SALON_LOGIN_LIMIT_ACCOUNT": "3 per 5 minutes",
                                  "SALON_LOGIN_LIMIT_ADDRESS": "5 per 5 minutes"}], indirect=True)
def test_successful_logins_do_not_use_up_the_limit(app, world):
    # An app of its own with the limiter on (switching RATELIMIT_ENABLED on a shared app after it was built left
    # the limiter off, and its storage absent when no other test had made one): 8 log-ins pass a limit of 3.
    from salon.extensions import limiter

    limiter.reset()
    client = app.test_client()
    for _ in range(8):
        assert login(client, "bureau_a").status_code == 302
        client.post("/logout")
    limiter.reset()
