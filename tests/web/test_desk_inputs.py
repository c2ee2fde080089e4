"""Inputs (issue 9): an agenda must fit in its session, said at the field; the limits live in one place."""
from __future__ import annotations

import pytest
from wtforms.validators import Length

from salon.schedule.models import SessionStatus
from salon.topics import limits
from salon.topics.api import AgendaItemSchema, AgendaSchema, GuestSchema
from salon.topics.forms import AgendaForm, AgendaRowForm, GuestForm
from salon.topics.models import AgendaItem
from tests.conftest import login
from tests.web.test_topics import sessions  # noqa: F401 - fixture


def _put(api, world, session, items):
    return api(world.bureau).put(f"/sessions/{session.id}/agenda", json={"items": items})


def test_agenda_must_fit_in_the_session(api, world, sessions):  # noqa: F811
    s2 = sessions[1]
    too_long = [{"title": f"第{i}项", "minutes": 600} for i in range(10)]
    response = _put(api, world, s2, too_long)
    assert response.status_code == 422 and "minutes" in response.get_json()["error"]["fields"]
    assert AgendaItem.query.filter_by(session_id=s2.id).count() == 0
    fits = [{"title": "开场", "minutes": 20}, {"title": "讨论", "minutes": 100}]
    assert _put(api, world, s2, fits).status_code == 200
    assert _put(api, world, s2, fits + [{"title": "加时", "minutes": 1}]).status_code == 422


def test_agenda_page_says_the_limit_at_the_field(client, world, sessions):  # noqa: F811
    login(client, "bureau_a")
    s2 = sessions[1]
    page = client.get(f"/topics/sessions/{s2.id}/agenda/edit").get_data(as_text=True)
    assert "120" in page and 'id="agenda-limit"' in page
    data = {"items-0-title": "讨论", "items-0-minutes": "600", "items-1-title": "再讨论", "items-1-minutes": "30"}
    response = client.post(f"/topics/sessions/{s2.id}/agenda/edit", data=data)
    assert response.status_code == 422
    assert 'role="alert"' in response.get_data(as_text=True)
    assert AgendaItem.query.filter_by(session_id=s2.id).count() == 0


def _length(field) -> int:
    return next(v.max for v in field.kwargs.get("validators", []) if isinstance(v, Length))


def test_form_schema_and_model_read_the_same_limits(app):
    assert _length(AgendaRowForm.title) == limits.AGENDA_TITLE.max
    assert _length(AgendaRowForm.note) == limits.AGENDA_NOTE.max
    assert _length(GuestForm.name) == limits.GUEST_NAME.max and _length(GuestForm.unit) == limits.GUEST_UNIT.max
    assert AgendaItemSchema().fields["title"].validate.max == limits.AGENDA_TITLE.max
    assert AgendaItemSchema().fields["minutes"].validate.max == limits.ITEM_MINUTES_MAX
    assert AgendaSchema().fields["items"].validate.max == limits.AGENDA_ITEMS_MAX
    assert GuestSchema().fields["contact"].validate.max == limits.GUEST_CONTACT.max
    assert AgendaItem.__table__.c.title.type.length == limits.AGENDA_TITLE.max
    assert AgendaForm.items.kwargs["max_entries"] == limits.AGENDA_ITEMS_MAX
