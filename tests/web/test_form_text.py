"""Text no database can store (NUL and other control characters) typed into a page's form (issue 18): the page
answers 422 with the error under that field, nothing is kept, never a 500. Every page form of the permission
matrix, every field it posts; then a closer look at a few forms and at a nested agenda row."""
from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from salon.audit.models import AuditEvent
from salon.extensions import db
from salon.programmes.models import Community
from tests.conftest import login
from tests.web.test_permissions import CASES, _fill, matrix, matrix_app, t  # noqa: F401 - fixtures

# Inputs no form field reads (a checkbox list, the ballot's confirmation, the language switch that always
# redirects): the request still ends 422 naming the input (salon.errors.refuse_unchecked_text), on the error page.
NOT_FORM_FIELDS = {("reviews.roll", "seat_ids"), ("topics.vote", "confirmed"), ("accounts.language", "locale")}
# Forms whose pages do not show a field's error under it (none left: the review close, the roll-off and the
# topics' close-vote forms show theirs since issue 16).
ERROR_NOT_SHOWN: set[tuple[str, str]] = set()


def message(app) -> str:
    with app.test_request_context(), force_locale("zh_Hans"):
        return gettext("Control characters are not allowed.")


def error_at(body: str, name: str, text: str) -> bool:
    """The field's block (macros.field) holds the input and the error under it."""
    for block in re.findall(r'<div class="field has-error[^"]*">(.*?)</div>', body, re.S):
        if f'name="{name}"' in block and text in block:
            return True
    return False


def _form_cases():
    """(endpoint, role, field) for every page form the matrix posts with fields, as a role it accepts."""
    for endpoint, case in sorted(CASES.items()):
        if case.api or case.method != "POST" or not case.data:
            continue
        role = next((r for r in ("secretary", "bureau") if 200 <= case.expect[r] < 400), None)
        if role is None:
            continue
        for name in case.data:
            yield endpoint, role, name


FORM_CASES = list(_form_cases())


def test_the_sweep_covers_the_page_forms():
    endpoints = {endpoint for endpoint, _role, _name in FORM_CASES}
    assert len(endpoints) >= 15, endpoints
    assert {"programmes.handover", "topics.nominate", "topics.add_guest", "outcomes.add_action",
            "packets.links", "schedule.blackouts"} <= endpoints


def test_a_nul_in_the_new_community_form_names_the_field(app, as_bureau, world):
    before = db.session.scalar(select(func.count(Community.id)))
    response = as_bureau.post("/communities", data={"name": "新\x00社区"})
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "name", message(app))
    assert db.session.scalar(select(func.count(Community.id))) == before


@pytest.mark.parametrize("value", ["a\x00b", "\x07", "end\x1f"])
def test_a_control_character_in_a_rename_names_the_field_and_keeps_the_name(app, as_bureau, world, value):
    community = world.communities[0]
    response = as_bureau.post(f"/communities/{community.id}", data={"name": value})
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "name", message(app))
    assert db.session.get(Community, community.id).name == "景翼社区"


def test_tabs_and_new_lines_are_text(as_bureau, world):
    community = world.communities[0]
    response = as_bureau.post(f"/communities/{community.id}", data={"name": "景翼\t社区"})
    assert response.status_code == 302
    assert db.session.get(Community, community.id).name == "景翼\t社区"


def test_a_field_the_page_does_not_know_cannot_carry_one_either(app, as_bureau, world):
    """No form field checks `extra`: the request still ends 422 naming it, and the community is not added."""
    before = db.session.scalar(select(func.count(Community.id)))
    response = as_bureau.post("/communities", data={"name": "新社区", "extra": "x\x00"})
    assert response.status_code == 422
    assert "extra" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Community.id))) == before


def test_every_salon_form_checks_its_text():
    """A form that inherits FlaskForm directly would skip the check: every form is a salon.forms.Form."""
    import importlib
    import pkgutil

    import salon
    from flask_wtf import FlaskForm

    from salon.forms import Form

    for module in pkgutil.walk_packages(salon.__path__, "salon."):
        if module.name.endswith("forms"):
            importlib.import_module(module.name)
    found, stack = [], list(FlaskForm.__subclasses__())
    while stack:
        cls = stack.pop()
        stack += cls.__subclasses__()
        if cls.__module__.startswith("salon."):
            found.append(cls)
    assert len(found) >= 25
    assert [c.__name__ for c in found if not issubclass(c, Form)] == []


# Last in the module: the matrix keeps its world in the database until the module ends.
@pytest.mark.parametrize("endpoint,role,name", FORM_CASES)
def test_a_nul_in_any_page_form_is_refused_naming_the_field(matrix, endpoint, role, name):  # noqa: F811
    app, world = matrix
    case = CASES[endpoint]
    client = app.test_client()
    user = {"secretary": world.secretaries[0], "bureau": world.bureau}[role]
    assert login(client, user.username).status_code == 302
    data = _fill(case.data, world)
    data[name] = f"{data[name]}\x00"
    url = case.url(world)
    audited = db.session.scalar(select(func.count(AuditEvent.id)))
    response = client.post(url, data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422, f"{role} POST {url} {name}: {response.status_code} {body[:300]}"
    shown = message(app)
    if (endpoint, name) in ERROR_NOT_SHOWN:
        pass
    elif (endpoint, name) in NOT_FORM_FIELDS:
        assert f"{name}: {shown}" in body, f"{url}: {name} not named"
    else:
        assert error_at(body, name, shown), f"{url}: the error is not under {name}"
    assert db.session.scalar(select(func.count(AuditEvent.id))) == audited, f"{url}: something was recorded"


def test_a_nul_in_a_row_of_the_agenda_names_that_row_and_keeps_the_agenda(matrix):  # noqa: F811 - fixture
    app, world = matrix
    client = app.test_client()
    assert login(client, world.bureau.username).status_code == 302
    url = f"/topics/sessions/{t(world, 's1')}/agenda/edit"
    def agenda() -> str:
        page = client.get(f"/topics/sessions/{t(world, 's1')}/agenda").get_data(as_text=True)
        return re.sub(r'name="csrf_token" value="[^"]*"', "", page)  # the token carries the time

    before = agenda()
    response = client.post(url, data={"items-0-title": "零号事项", "items-0-minutes": "10",
                                      "items-1-title": "讨论", "items-1-lead": "主持\x00人", "items-1-minutes": "30"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert error_at(body, "items-1-lead", message(app))
    assert not error_at(body, "items-0-title", message(app)) and body.count(message(app)) == 1
    after = agenda()
    assert "零号事项" not in after and after == before
