"""A page's form answers a missing thing (404) and a role that may not (403) the same way in every room: the
service or the lookup raises NotFound or Forbidden, the form does not show it under a field, and the one error
handler (salon.errors.register; salon.errors.not_the_forms) answers with the error page. Each case posts a
form that is otherwise valid, so what answers is the refusal, never the form's own validation."""
from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext

from tests.conftest import login
from tests.web.test_permissions import _fill, matrix, matrix_app, review, t  # noqa: F401 - fixtures

MISSING = 999999

# (endpoint, who, url, form data, status). who: "bureau", "chair" (secretary 0: chairs session s1 and the
# review), "member" (secretary 1: chairs neither). OTHER: another session of programme A (test_permissions._fill).
CASES = [
    # 404 raised inside the handler, by the lookup of a session the form names
    ("schedule.swap", "bureau", lambda w: f"/schedule/sessions/{w.extra['sessions'][0].id}/swap",
     {"other_session_id": MISSING}, 404),
    ("schedule.ask", "chair", lambda w: f"/schedule/sessions/{w.extra['sessions'][0].id}/ask",
     {"other_session_id": MISSING}, 404),
    # 404: the session, the review or the token in the address does not exist
    ("topics.nominate", "chair", lambda w: f"/topics/sessions/{MISSING}/nominate",
     {"title": "题", "problem": "问题"}, 404),
    ("topics.add_guest", "bureau", lambda w: f"/topics/sessions/{MISSING}/guests", {"name": "李", "unit": "单位"}, 404),
    ("outcomes.add_action", "bureau", lambda w: f"/outcomes/sessions/{MISSING}/actions",
     {"what": "落实", "owner_unit": "县医保局", "status": "open"}, 404),
    ("outcomes.add_resolution", "bureau", lambda w: f"/outcomes/sessions/{MISSING}/resolutions", {"text": "决议"}, 404),
    ("packets.links", "bureau", lambda w: f"/packets/sessions/{MISSING}/links", {"label": "李经理"}, 404),
    ("reviews.roll", "bureau", lambda w: f"/reviews/{MISSING}/roll", {"seat_ids": "SEAT3"}, 404),
    ("accounts.revoke_token", "chair", lambda w: f"/account/tokens/{MISSING}/revoke", {}, 404),
    # 403 raised by the service inside the handler (the form itself was valid)
    ("topics.add_guest", "member", lambda w: f"/topics/sessions/{t(w, 's1')}/guests", {"name": "李", "unit": "单位"},
     403),
    ("outcomes.add_action", "member", lambda w: f"/outcomes/sessions/{t(w, 's1')}/actions",
     {"what": "落实", "owner_unit": "县医保局", "status": "open"}, 403),
    ("outcomes.add_resolution", "member", lambda w: f"/outcomes/sessions/{t(w, 's1')}/resolutions",
     {"text": "决议"}, 403),
    ("outcomes.minutes", "member", lambda w: f"/outcomes/sessions/{t(w, 's1')}/minutes", {"summary": "纪要"}, 403),
    # 403 before the form is read
    ("packets.links", "member", lambda w: f"/packets/sessions/{t(w, 's1')}/links", {"label": "李经理"}, 403),
    ("reviews.roll", "member", lambda w: f"/reviews/{review(w)}/roll", {"seat_ids": "SEAT3"}, 403),
    ("schedule.ask", "bureau", lambda w: f"/schedule/sessions/{w.extra['sessions'][0].id}/ask",
     {"other_session_id": "OTHER"}, 403),
]


@pytest.mark.parametrize("endpoint, who, url, data, status", CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[4]}" for c in CASES])
def test_every_room_answers_a_refused_form_alike(matrix, endpoint, who, url, data, status):  # noqa: F811
    app, world = matrix
    user = {"bureau": world.bureau, "chair": world.secretaries[0], "member": world.secretaries[1]}[who]
    client = app.test_client()
    assert login(client, user.username).status_code == 302
    response = client.post(url(world), data=_fill(data, world))
    body = response.get_data(as_text=True)
    assert response.status_code == status, f"{endpoint}: {response.status_code} {body[:300]}"
    assert f"<h1>{status}</h1>" in body, f"{endpoint}: not the error page"  # templates/errors/error.html
    assert "has-error" not in body, f"{endpoint}: the refusal was shown as a field's error"
    if status == 404 and endpoint != "accounts.revoke_token":  # a token's 404 says "No such token."
        with app.test_request_context(), force_locale("zh_Hans"):
            nothing = gettext("Nothing here: the page does not exist or is not part of your programme.")
        assert nothing in body
