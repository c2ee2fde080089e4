"""Input no honest form sends: ids no row can have, control characters, garbage. Never a 500."""
import pytest
from sqlalchemy import func, select

from salon.extensions import db
from salon.programmes.models import Community

pytestmark = pytest.mark.rolled_back  # one transaction per test, rolled back; world built once

HUGE = ["2147483648", "99999999999999999999999", "9223372036854775808"]


@pytest.mark.parametrize("number", HUGE)
def test_huge_ids_in_page_urls_are_404(as_bureau, world, number):
    for path in (f"/communities/{number}", f"/schedule/sessions/{number}", f"/topics/sessions/{number}",
                 f"/topics/nominations/{number}", f"/schedule/communities/{number}"):
        assert as_bureau.get(path).status_code == 404, path


@pytest.mark.parametrize("number", HUGE)
def test_huge_ids_in_api_urls_and_bodies_are_404(api, world, number):
    client = api(world.bureau)
    for path in (f"/communities/{number}", f"/sessions/{number}/topic", f"/polls/{number}"):
        response = client.get(path)
        assert response.status_code == 404 and response.is_json, path
    assert client.delete(f"/tokens/{number}").status_code == 404
    response = client.post(f"/people/{number}/reset")
    assert response.status_code == 404


def test_huge_id_inside_a_form_is_not_a_500(as_bureau, world):
    from salon.schedule import services

    services.generate(world.programme, world.bureau, 3)
    db.session.commit()
    session = services.sessions(world.programme.id)[-1]
    response = as_bureau.post(f"/schedule/sessions/{session.id}/swap", data={"other_session_id": HUGE[1]})
    assert response.status_code in (302, 404, 422)


@pytest.mark.parametrize("name", ["a\x00b", "tab\x07bell"])
def test_control_characters_name_the_field_and_change_nothing(api, as_bureau, world, name):
    before = db.session.scalar(select(func.count(Community.id)))
    response = api(world.bureau).post("/communities", json={"name": name})
    assert response.status_code == 422
    assert "name" in response.get_json()["error"]["fields"]
    page = as_bureau.post("/communities", data={"name": name})
    assert page.status_code == 422
    assert db.session.scalar(select(func.count(Community.id))) == before


def test_ordinary_whitespace_is_fine(api, world):
    response = api(world.bureau).post("/communities", json={"name": "新\t社区"})
    assert response.status_code == 201


def test_sql_parameters_never_reach_logs(app):
    assert db.engine.hide_parameters is True


def test_a_cancelled_sessions_topic_pages_still_render(as_bureau, world):
    from salon.schedule import services

    services.generate(world.programme, world.bureau, 3)
    db.session.commit()
    session = services.sessions(world.programme.id)[0]
    assert as_bureau.post(f"/schedule/sessions/{session.id}/cancel").status_code == 302
    for path in (f"/sessions/{session.id}", f"/topics/sessions/{session.id}/results",
                 f"/topics/sessions/{session.id}/agenda"):
        response = as_bureau.get(path)
        assert response.status_code in (200, 404, 409), (path, response.status_code)


def test_an_error_without_its_own_field_still_answers_422(app):
    from salon.errors import ValidationFailed
    from salon.forms import EmptyForm, show_error

    with app.test_request_context():
        form = EmptyForm(meta={"csrf": False})
        show_error(form, ValidationFailed("bad minutes", "minutes"))
        assert form.errors  # the views answer 422 when form.errors is not empty
