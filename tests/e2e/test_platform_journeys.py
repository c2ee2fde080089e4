"""Journeys of the platform: an invitation followed on a phone and a desk, log-in, language switch."""
import pytest

from salon.demo import BUREAU_LOGIN
from tests.e2e.conftest import fits_width, log_in

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [360, 1280])
def test_invitation_password_login_language(live_server, new_page, shot, width):
    username = f"colleague{width}"
    desk = new_page(1280)
    log_in(desk, live_server.url, *BUREAU_LOGIN)
    desk.goto(live_server.url + "/people")
    desk.fill("input[name=display_name]", f"新同事{width}")
    desk.fill("input[name=username]", username)
    desk.click("form.form button[type=submit]")
    link = desk.input_value("input.copy")
    assert "/invite/" in link

    phone = new_page(width)
    phone.goto(link)
    assert "设置密码" in phone.content()
    shot(phone, f"invitation-{width}-zh")
    assert fits_width(phone)
    phone.fill("input[name=password]", "short")
    phone.fill("input[name=confirm]", "short")
    phone.click("button[type=submit].primary")
    assert "至少" in phone.content()  # the field says what is wrong, in Chinese
    phone.fill("input[name=password]", "a good password 1")
    phone.fill("input[name=confirm]", "a good password 1")
    phone.click("button[type=submit].primary")
    phone.wait_for_url("**/login**")
    assert phone.input_value("input[name=username]") == username

    phone.fill("input[name=password]", "a good password 1")
    phone.click("button[type=submit].primary")
    phone.wait_for_url(live_server.url + "/")
    assert "接下来要做的事" in phone.content()
    assert fits_width(phone)
    shot(phone, f"home-{width}-zh")

    phone.click("button[name=locale][value=en]")
    phone.wait_for_load_state()
    assert "What to do next" in phone.content()
    assert fits_width(phone)
    shot(phone, f"home-{width}-en")

    # The choice is remembered for the account, not just the browser.
    other = new_page(width)
    log_in(other, live_server.url, username, "a good password 1")
    assert "What to do next" in other.content()

    # The link worked once.
    again = new_page(width)
    again.goto(link)
    assert "已被使用" in again.content()


@pytest.mark.parametrize("width", [360, 1280])
def test_bureau_pages_render_in_both_languages(live_server, new_page, shot, width):
    page = new_page(width)
    log_in(page, live_server.url, *BUREAU_LOGIN)
    if page.locator("button[name=locale][value=zh_Hans]").count():
        page.click("button[name=locale][value=zh_Hans]")
    for path, name in [("/", "home"), ("/communities", "communities"), ("/programme/settings", "settings"),
                       ("/people", "people"), ("/audit", "audit")]:
        page.goto(live_server.url + path)
        assert page.locator("h1").count() >= 1
        assert fits_width(page), f"{path} scrolls sideways at {width}px"
        shot(page, f"bureau-{name}-{width}-zh")
    page.click("button[name=locale][value=en]")
    page.goto(live_server.url + "/communities")
    assert "Communities" in page.content()
    shot(page, f"bureau-communities-{width}-en")
    page.click("button[name=locale][value=zh_Hans]")
