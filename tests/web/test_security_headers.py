"""The browser's own defences (issue 18, OWASP ASVS V14.4): every route answers with the security headers,
and no template carries script the Content-Security-Policy would refuse.

The routes and their ids come from the permission matrix (tests/web/test_permissions.py), which has a case for
every rule of app.url_map; each is requested as a role that gets its real answer (200 where one exists)."""
from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest

from tests.web.test_permissions import CASES, matrix, matrix_app, open_as  # noqa: F401 - fixtures

# Written out here, not imported from salon.security: the test says what the browser must receive.
EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
GUEST_ENDPOINTS = {"packets.guest", "packets.guest_pdf"}  # a guest's link never leaks in a Referer


def policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    return {parts[0]: parts[1:] for parts in (d.split() for d in header.split(";")) if parts}


# The one inline element a page may carry: the import map of the pages that run the sealed-ballot modules (a
# vote page, a trustee's device). It is data; such a page's policy allows exactly its text by its SHA-256.
IMPORT_MAP = '{"imports":{"@noble/hashes/":"/static/vendor/node_modules/@noble/hashes/"}}'
IMPORT_MAP_SOURCE = "'sha256-" + base64.b64encode(hashlib.sha256(IMPORT_MAP.encode()).digest()).decode() + "'"
IMPORT_MAP_TAG = re.compile(r'<script type="importmap">(.*?)</script>', re.S)


def assert_defended(response, what: str, referrer: str = "strict-origin-when-cross-origin") -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, f"{what}: {name} is {response.headers.get(name)!r}"
    maps = IMPORT_MAP_TAG.findall(response.get_data(as_text=True)) if response.mimetype == "text/html" else []
    assert maps in ([], [IMPORT_MAP]), f"{what}: an inline script other than the import map: {maps!r}"
    allowed = [POLICY, POLICY | {"script-src": ["'self'", IMPORT_MAP_SOURCE]}]
    assert policy(response) in (allowed[1:] if maps else allowed), \
        f"{what}: {response.headers.get('Content-Security-Policy')!r}"
    assert response.headers.get("Referrer-Policy") == referrer, what
    assert "Strict-Transport-Security" not in response.headers, f"{what}: HSTS over plain HTTP"


def _role(case) -> str:
    """The first role, bureau first, that gets a real answer; a route nobody can open as-is (a forged token,
    an export before the vote closed) is checked on the answer the bureau gets."""
    for role in ("bureau", "secretary", "anon"):
        if 200 <= case.expect[role] < 300:
            return role
    return "bureau"


def test_the_routes_checked_are_every_route_of_the_app(app):
    # A case is named by its endpoint, or "endpoint METHOD" where one endpoint answers several methods.
    assert {key.split()[0] for key in CASES} == {rule.endpoint for rule in app.url_map.iter_rules()}


def test_error_pages_and_the_calendar_feed_are_defended_too(app, client, world):
    from salon.extensions import db
    from salon.schedule import services

    assert_defended(client.get("/no-such-page"), "404 page")
    assert_defended(client.get("/api/v1/no-such-thing"), "API 404")
    assert_defended(client.get("/api/v1/me"), "API 401")
    assert_defended(client.post("/communities", data={"name": "x"}), "anonymous POST")
    feed = services.create_feed(world.bureau)
    db.session.commit()
    response = client.get(f"/calendar/{services.feed_token(feed)}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert_defended(response, "calendar feed")


def test_hsts_only_over_https(client, world):
    plain = client.get("/login")
    assert "Strict-Transport-Security" not in plain.headers
    # Anyone can send X-Forwarded-Proto: without a proxy the server trusts, it changes nothing.
    forged = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in forged.headers
    secure = client.get("/login", base_url="https://salon.example")
    assert secure.headers.get("Strict-Transport-Security") == "max-age=31536000"
    assert policy(secure) == POLICY


TEMPLATES = Path(__file__).resolve().parents[2] / "salon" / "templates"
# An attribute named on…= inside a tag: onclick, onsubmit, onerror … (data-on… or a word in text are not).
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^>]*?\son[a-z]+\s*=", re.S)
INLINE_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.S | re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)


def test_no_template_carries_inline_script_handlers_or_styles():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 40
    offenders = []
    for path in templates:
        text = path.read_text()
        name = path.relative_to(TEMPLATES)
        offenders += [f"{name}: event handler {m.group(0)[-40:]!r}" for m in EVENT_HANDLER.finditer(text)]
        # The one exception: the import map of the pages that seal ballots, whose text is salon.security.IMPORT_MAP
        # and which those pages' own policy allows by its hash (tests/web/test_sealed_web.py checks both).
        offenders += [f"{name}: inline script" for m in INLINE_SCRIPT.finditer(text) if m.group(1).strip()
                      and m.group(0) != '<script type="importmap">{{ import_map|safe }}</script>']
        offenders += [f"{name}: inline style" for m in INLINE_STYLE.finditer(text)]
    assert not offenders, "the Content-Security-Policy refuses these; use salon/static: " + "; ".join(offenders)


def test_the_check_finds_what_it_looks_for():
    assert EVENT_HANDLER.search('<button type="button" onclick="window.print()">')
    assert EVENT_HANDLER.search('<input\n  class="copy" onfocus="this.select()">')
    assert not EVENT_HANDLER.search('<button data-confirm="on=">') and not EVENT_HANDLER.search("Session on=1")
    assert INLINE_SCRIPT.search("<script>alert(1)</script>").group(1)
    assert not INLINE_SCRIPT.search('<script src="/static/salon.js" defer></script>').group(1).strip()
    assert INLINE_STYLE.search('<div style="max-width:320px">')


# Last in the module: the matrix keeps its world in the database until the module ends.
@pytest.mark.parametrize("endpoint", sorted(CASES))
def test_every_route_answers_with_the_security_headers(matrix, endpoint):  # noqa: F811 - fixture
    app, world = matrix
    case = CASES[endpoint]
    role = _role(case)
    response, url = open_as(app, world, case, role)
    assert response.status_code == case.expect[role], f"{role} {case.method} {url}: {response.status_code}"
    referrer = "no-referrer" if endpoint.split()[0] in GUEST_ENDPOINTS else "strict-origin-when-cross-origin"
    assert_defended(response, f"{role} {case.method} {url} ({response.status_code})", referrer)
