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


def s1(w):
    """The first future session of programme A, chaired by c1 (build_schedule runs first)."""
    return w.extra["sessions"][0].id


def r1(w):
    return w.extra["request"].id


def f1(w):
    return w.extra["feed"].id


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
    # schedule: pages
    "schedule.index": page("GET", lambda w: "/schedule"),
    "schedule.duties": page("GET", lambda w: f"/schedule/communities/{c1(w)}", other=404),
    "schedule.session": page("GET", lambda w: f"/schedule/sessions/{s1(w)}", other=404),
    "schedule.cancel": bureau_page("POST", lambda w: f"/schedule/sessions/{s1(w)}/cancel", ok=302),
    "schedule.lock": bureau_page("POST", lambda w: f"/schedule/sessions/{s1(w)}/lock", ok=302),
    "schedule.unlock": bureau_page("POST", lambda w: f"/schedule/sessions/{s1(w)}/unlock", ok=302),
    "schedule.swap": bureau_page("POST", lambda w: f"/schedule/sessions/{s1(w)}/swap", ok=302,
                                 data={"other_session_id": "OTHER"}),
    "schedule.ask": page("POST", lambda w: f"/schedule/sessions/{s1(w)}/ask", secretary=302, bureau=403,
                         other=404, data={"other_session_id": "OTHER"}),
    "schedule.swaps": page("GET", lambda w: "/schedule/swaps"),
    "schedule.accept": page("POST", lambda w: f"/schedule/swaps/{r1(w)}/accept", secretary=302, bureau=302,
                            other=404),
    "schedule.decline": page("POST", lambda w: f"/schedule/swaps/{r1(w)}/decline", secretary=302, bureau=302,
                             other=404),
    "schedule.withdraw": page("POST", lambda w: f"/schedule/swaps/{r1(w)}/withdraw", secretary=403, bureau=403,
                              other=404),
    "schedule.manage": bureau_page("GET", lambda w: "/schedule/manage", other=200),
    "schedule.generate": bureau_page("POST", lambda w: "/schedule/generate", ok=302, other=302,
                                     data={"months": "6"}),
    "schedule.draw": bureau_page("POST", lambda w: "/schedule/draw", ok=302, other=302),
    "schedule.reorder": bureau_page("POST", lambda w: "/schedule/reorder", ok=422, other=422,
                                    data={"position-0": "x"}),
    "schedule.blackouts": bureau_page("POST", lambda w: "/schedule/blackouts", ok=302, other=302,
                                      data={"blackout_months": "2031-02"}),
    "schedule.feeds": page("GET", lambda w: "/schedule/feeds"),
    "schedule.revoke_feed": page("POST", lambda w: f"/schedule/feeds/{f1(w)}/revoke", secretary=404, bureau=302,
                                 other=404),
    "schedule.feed": page("GET", lambda w: "/calendar/forged-token.ics", anon=404, secretary=404, bureau=404,
                          other=404),
    # schedule: API
    "api_schedule.Sessions": api("GET", "/sessions"),
    "api_schedule.Generate": bureau_api("POST", "/sessions/generate", other=200, json={"months": 3}),
    "api_schedule.SessionItem": api("GET", lambda w: f"/api/v1/sessions/{s1(w)}", other=404),
    "api_schedule.SessionCancel": bureau_api("POST", lambda w: f"/api/v1/sessions/{s1(w)}/cancel"),
    "api_schedule.BureauSwap": bureau_api("POST", "/sessions/swap", json={"session_id": "S1", "other_session_id": "OTHER"}),
    "api_schedule.Duties": api("GET", lambda w: f"/api/v1/communities/{c1(w)}/duties", other=404),
    "api_schedule.Rotation": api("GET", "/rotation"),
    "api_schedule.RotationDraw": bureau_api("POST", "/rotation/draw", other=200),
    "api_schedule.Blackouts": api("GET", "/blackouts"),
    "api_schedule.Swaps": api("GET", "/swaps"),
    "api_schedule.SwapAccept": api("POST", lambda w: f"/api/v1/swaps/{r1(w)}/accept", other=404),
    "api_schedule.SwapDecline": api("POST", lambda w: f"/api/v1/swaps/{r1(w)}/decline", other=404),
    "api_schedule.SwapWithdraw": api("POST", lambda w: f"/api/v1/swaps/{r1(w)}/withdraw", secretary=403,
                                     bureau=403, other=404),
    "api_schedule.Feeds": api("GET", "/feeds"),
    "api_schedule.FeedItem": api("DELETE", lambda w: f"/api/v1/feeds/{f1(w)}", secretary=404, bureau=204,
                                 other=404),
}


def build_schedule(world) -> None:
    """Programme A gets six months of sessions, a swap request from c2's chair to c1's, and a feed of
    the bureau; programme B gets its own schedule."""
    from salon.extensions import db
    from salon.schedule import services

    services.generate(world.programme, world.bureau, 6)
    services.generate(world.other_programme, world.other_bureau, 2)
    sessions = [s for s in services.sessions(world.programme.id)]
    by_chair = {}
    for s in sessions:
        by_chair.setdefault(s.chair_community_id, s)
    first, second = by_chair[world.communities[0].id], by_chair[world.communities[1].id]
    world.extra["sessions"] = [first, second]
    world.extra["request"] = services.request_swap(world.secretaries[1], second, first, "")
    world.extra["feed"] = services.create_feed(world.bureau)
    db.session.commit()


def _fill(value, world):
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if value == "OTHER":
        return world.extra["sessions"][1].id
    if value == "S1":
        return world.extra["sessions"][0].id
    return value


def test_every_route_has_a_permission_case(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(CASES))
    stale = sorted(set(CASES) - endpoints)
    assert not missing, f"routes without a permission case: {missing}"
    assert not stale, f"permission cases for routes that no longer exist: {stale}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(CASES))
def test_role_gets_expected_status(app, world, endpoint, role):
    build_schedule(world)
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
        kwargs["data"] = _fill(case.data, world)
    if case.json is not None:
        kwargs["json"] = _fill(case.json, world)
    response = client.open(url, method=case.method, **kwargs)
    assert response.status_code == case.expect[role], (
        f"{role} {case.method} {url}: {response.status_code} {response.get_data(as_text=True)[:300]}")
    if role == "other" and response.status_code == 200:
        body = response.get_data(as_text=True)
        for community in world.communities:
            assert community.name not in body, f"{url} shows programme A's {community.name} to programme B"
