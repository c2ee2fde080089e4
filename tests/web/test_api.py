"""The JSON API: tokens, JSON errors naming fields, scoping, and an OpenAPI document covering every route."""
import re

import pytest
from sqlalchemy import func, select

from salon.extensions import db
from salon.programmes.models import Community, Programme

pytestmark = pytest.mark.rolled_back  # one transaction per test, rolled back; world built once


def test_me_and_token_lifecycle(api, world):
    bureau = api(world.bureau)
    me = bureau.get("/me").get_json()
    assert me["username"] == "bureau_a" and me["role"] == "bureau" and me["programme_name"] == "甲县沙龙"
    created = bureau.post("/tokens", json={"name": "表格"})
    assert created.status_code == 201
    raw = created.get_json()["token"]
    assert raw.startswith("sln_")
    listed = bureau.get("/tokens").get_json()
    assert {t["name"] for t in listed} == {"test", "表格"} and all("token" not in t for t in listed)
    second = api(world.bureau)
    second.headers["Authorization"] = f"Bearer {raw}"
    assert second.get("/me").status_code == 200
    assert bureau.delete(f"/tokens/{created.get_json()['id']}").status_code == 204
    assert second.get("/me").status_code == 401


def test_secretary_sees_their_community(api, world):
    me = api(world.secretaries[1]).get("/me").get_json()
    assert me["community_id"] == world.communities[1].id and me["role"] == "secretary"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Basic abc", "Bearer sln_" + "x" * 43])
def test_missing_or_bad_tokens_get_401_json(client, world, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.get_json()["error"]["status"] == 401


def test_session_cookie_does_not_open_the_api(client, world):
    from tests.conftest import login

    login(client, "bureau_a")
    assert client.get("/api/v1/me").status_code == 401


def _community_count():
    return db.session.scalar(select(func.count(Community.id)))


@pytest.mark.parametrize("body, status, field", [
    ({"name": ""}, 422, "name"),
    ({"name": "社" * 81}, 422, "name"),
    ({"name": 12}, 422, "name"),
    ({}, 422, "name"),
    ({"name": "好社区", "active": True}, 422, "active"),
    ({"name": "景翼社区"}, 409, "name"),
])
def test_bad_community_input_names_the_field_and_changes_nothing(api, world, body, status, field):
    before = _community_count()
    response = api(world.bureau).post("/communities", json=body)
    assert response.status_code == status
    assert field in response.get_json()["error"]["fields"]
    assert _community_count() == before


def test_malformed_json_is_a_400_not_a_500(api, world):
    before = _community_count()
    response = api(world.bureau).post("/communities", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["status"] == 400
    assert _community_count() == before


def test_json_of_the_wrong_shape(api, world):
    response = api(world.bureau).post("/communities", json=["景翼社区"])
    assert response.status_code in (400, 422)
    assert "error" in response.get_json()


def test_bad_setting_changes_nothing(api, world):
    client = api(world.bureau)
    response = client.patch("/programme", json={"horizon_months": 24, "approvals_max": 0})
    assert response.status_code == 422 and "approvals_max" in response.get_json()["error"]["fields"]
    assert db.session.get(Programme, world.programme.id).horizon_months == 12
    response = client.patch("/programme", json={"vote_open_days": 7, "vote_close_days": 7})
    assert response.status_code == 422 and "vote_close_days" in response.get_json()["error"]["fields"]
    ok = client.patch("/programme", json={"horizon_months": 24, "review_quorum": False})
    assert ok.status_code == 200 and ok.get_json()["horizon_months"] == 24


def test_secretary_cannot_write(api, world):
    response = api(world.secretaries[0]).patch("/programme", json={"horizon_months": 2})
    assert response.status_code == 403
    assert api(world.secretaries[0]).post("/communities", json={"name": "x"}).status_code == 403


def test_other_programme_ids_are_404(api, world):
    client = api(world.other_bureau)
    for call in (client.get(f"/communities/{world.communities[0].id}"),
                 client.patch(f"/communities/{world.communities[0].id}", json={"name": "改名"}),
                 client.post(f"/communities/{world.communities[0].id}/handover",
                             json={"username": "hijack", "display_name": "x"}),
                 client.post(f"/people/{world.secretaries[0].id}/reset")):
        assert call.status_code == 404
    assert world.communities[0].name == "景翼社区"
    listed = client.get("/communities").get_json()
    assert [c["name"] for c in listed] == ["城东社区"]


def test_deactivate_and_reactivate_through_the_api(api, world):
    client = api(world.bureau)
    cid = world.communities[0].id
    gone = client.patch(f"/communities/{cid}", json={"active": False}).get_json()
    assert gone["active"] is False and gone["rotation_position"] is None
    back = client.patch(f"/communities/{cid}", json={"active": True}).get_json()
    assert back["active"] is True and back["rotation_position"] == 4


def test_handover_answers_an_invitation_link(api, world):
    response = api(world.bureau).post(f"/communities/{world.communities[2].id}/handover",
                                      json={"username": "sec_new", "display_name": "新书记"})
    assert response.status_code == 201
    body = response.get_json()
    assert "/invite/" in body["invitation_url"] and body["user"]["username"] == "sec_new"


def test_unknown_api_path_is_json_404(api, world):
    response = api(world.bureau).get("/no/such/thing")
    assert response.status_code == 404 and response.get_json()["error"]["status"] == 404


def test_audit_endpoint_reports_the_chain(api, world):
    bureau = api(world.bureau)
    body = bureau.get("/audit?limit=5&verify=true").get_json()
    assert body["chain_ok"] is True and len(body["events"]) == 5
    seen, cursor = [], None
    while True:
        page = bureau.get("/audit?limit=3" + (f"&before={cursor}" if cursor else "")).get_json()
        assert page["chain_ok"] is None and len(page["events"]) <= 3
        seen += [e["seq"] for e in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(range(body["checked"], 0, -1))
    assert api(world.bureau).get("/audit?limit=0").status_code == 422


def test_openapi_document_covers_every_api_route(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api-docs.openapi_json":
            continue
        # <name>, <int:name>, <any(csv, xlsx):name> … → {name}, as OpenAPI writes path parameters
        path = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (path, method) not in documented:
                missing.append(f"{method} {path}")
    assert not missing, f"API routes missing from openapi.json: {missing}"
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_field_errors_speak_the_callers_language(api, world):
    client = api(world.bureau)
    zh = client.post("/communities", json={"name": "社" * 81, "extra": 1}).get_json()["error"]["fields"]
    assert zh["name"] == ["长度须在 1 到 80 个字符之间。"] and zh["extra"] == ["未知字段。"]
    client.patch("/me", json={"locale": "en"})
    en = client.post("/communities", json={}).get_json()["error"]["fields"]
    assert en["name"] == ["This field is required."]


@pytest.mark.parametrize("locale, word", [("en", "Nothing here"), ("zh_Hans", "这里")])
def test_unknown_routes_wrong_methods_and_bad_json_answer_the_documented_error_in_my_language(
        api, world, locale, word):
    from salon.accounts import services

    services.set_locale(world.bureau, locale)
    db.session.commit()
    client = api(world.bureau)
    answers = {
        "unknown route": client.get("/no-such-thing"),
        "wrong method": client.delete("/communities"),
        "malformed JSON": client.post("/communities", data="{not json", headers={"Content-Type": "application/json"}),
    }
    for what, response in answers.items():
        body = response.get_json()
        assert set(body) == {"error"} and {"status", "message"} <= set(body["error"]) <= {"status", "message", "fields"}
        assert body["error"]["status"] == response.status_code, what
    unknown = answers["unknown route"]
    assert unknown.status_code == 404 and word in unknown.get_json()["error"]["message"]
    assert answers["wrong method"].status_code == 405 and "GET" in answers["wrong method"].headers["Allow"]
    malformed = answers["malformed JSON"].get_json()["error"]
    assert answers["malformed JSON"].status_code == 400 and "body" in malformed["fields"]
    assert ("JSON" in malformed["message"]) and (("not valid" in malformed["message"]) == (locale == "en"))


def test_timestamps_carry_their_offset(api, world):
    created = api(world.bureau).post("/tokens", json={"name": "时区"}).get_json()["created_at"]
    assert created.endswith("+00:00")
