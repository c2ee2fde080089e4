"""Every route against every role. A route added to the app without a case here fails the first test.

Roles: anon (nobody logged in / no token), secretary and bureau of programme A, other = bureau of
programme B, who must see A's ids as missing (404) and never A's data.
Each case names one request and the status each role gets. Ids in URLs are programme A's."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pytest

from tests.conftest import login, token_for

ROLES = ("anon", "secretary", "bureau", "other")


@dataclass
class Case:
    method: str
    url: Callable  # (world) -> path
    expect: dict  # role -> status
    data: dict | None = None
    json: dict | None = None
    api: bool = False
    extra: dict = field(default_factory=dict)


def page(method, url, anon=302, secretary=200, bureau=200, other=200, **kw):
    return Case(method, url, {"anon": anon, "secretary": secretary, "bureau": bureau, "other": other}, **kw)


def bureau_page(method, url, ok=200, other=404, **kw):
    return page(method, url, anon=302, secretary=403, bureau=ok, other=other, **kw)


def api(method, url, anon=401, secretary=200, bureau=200, other=200, **kw):
    return Case(method, "/api/v1" + url if isinstance(url, str) else url,
                {"anon": anon, "secretary": secretary, "bureau": bureau, "other": other}, api=True, **kw)


def bureau_api(method, url, ok=200, other=404, **kw):
    return api(method, url, secretary=403, bureau=ok, other=other, **kw)


def c1(w):
    return w.communities[0].id


CASES: dict[str, Case] = {
    # platform: pages
    "static": page("GET", lambda w: "/static/salon.css", anon=200),
    "home.index": page("GET", lambda w: "/"),
    "accounts.login": page("GET", lambda w: "/login", anon=200, secretary=302, bureau=302, other=302),
    "accounts.logout": page("POST", lambda w: "/logout", anon=302, secretary=302, bureau=302, other=302),
    "accounts.language": page("POST", lambda w: "/language", data={"locale": "en"},
                              anon=302, secretary=302, bureau=302, other=302),
    "accounts.accept_invitation": page("GET", lambda w: "/invite/not-a-token", anon=404, secretary=404,
                                       bureau=404, other=404),
    "accounts.tokens": page("GET", lambda w: "/account/tokens"),
    "accounts.revoke_token": page("POST", lambda w: "/account/tokens/999999/revoke", secretary=404,
                                  bureau=404, other=404),
    "accounts.people": bureau_page("GET", lambda w: "/people", other=200),
    "accounts.reset": bureau_page("POST", lambda w: f"/people/{w.secretaries[1].id}/reset"),
    "programmes.settings": bureau_page("GET", lambda w: "/programme/settings", other=200),
    "programmes.communities": page("GET", lambda w: "/communities"),
    "programmes.community": page("GET", lambda w: f"/communities/{c1(w)}", other=404),
    "programmes.deactivate": bureau_page("POST", lambda w: f"/communities/{c1(w)}/deactivate", ok=302),
    "programmes.reactivate": bureau_page("POST", lambda w: f"/communities/{c1(w)}/reactivate", ok=409),
    "programmes.handover": bureau_page("POST", lambda w: f"/communities/{c1(w)}/handover",
                                       data={"username": "newsec", "display_name": "新书记"}),
    "audit.log": bureau_page("GET", lambda w: "/audit", other=200),
    # platform: API
    "api-docs.openapi_json": api("GET", "/openapi.json", anon=200),
    "api_accounts.Me": api("GET", "/me"),
    "api_accounts.Tokens": api("GET", "/tokens"),
    "api_accounts.TokenItem": api("DELETE", "/tokens/999999", secretary=404, bureau=404, other=404),
    "api_accounts.People": bureau_api("GET", "/people", other=200),
    "api_accounts.PersonReset": bureau_api("POST", lambda w: f"/api/v1/people/{w.secretaries[1].id}/reset",
                                           ok=201),
    "api_programmes.ProgrammeItem": api("GET", "/programme"),
    "api_programmes.Communities": api("GET", "/communities"),
    "api_programmes.CommunityItem": api("GET", lambda w: f"/api/v1/communities/{c1(w)}", other=404),
    "api_programmes.CommunityHandover": bureau_api(
        "POST", lambda w: f"/api/v1/communities/{c1(w)}/handover", ok=201,
        json={"username": "newsec", "display_name": "新书记"}),
    "api_audit.Audit": bureau_api("GET", "/audit", other=200),
}


def test_every_route_has_a_permission_case(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(CASES))
    stale = sorted(set(CASES) - endpoints)
    assert not missing, f"routes without a permission case: {missing}"
    assert not stale, f"permission cases for routes that no longer exist: {stale}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(CASES))
def test_role_gets_expected_status(app, world, endpoint, role):
    case = CASES[endpoint]
    client = app.test_client()
    headers = {}
    user = {"secretary": world.secretaries[0], "bureau": world.bureau, "other": world.other_bureau}.get(role)
    if user is not None:
        if case.api:
            headers["Authorization"] = f"Bearer {token_for(user)}"
        else:
            assert login(client, user.username).status_code == 302
    url = case.url(world) if callable(case.url) else case.url
    kwargs = {"headers": headers}
    if case.data is not None:
        kwargs["data"] = case.data
    if case.json is not None:
        kwargs["json"] = case.json
    response = client.open(url, method=case.method, **kwargs)
    assert response.status_code == case.expect[role], (
        f"{role} {case.method} {url}: {response.status_code} {response.get_data(as_text=True)[:300]}")
    if role == "other" and response.status_code == 200:
        body = response.get_data(as_text=True)
        for community in world.communities:
            assert community.name not in body, f"{url} shows programme A's {community.name} to programme B"
