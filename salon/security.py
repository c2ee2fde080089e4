"""The browser's own defences (OWASP ASVS V14.4): the headers every response carries, set in one place.

Why each one is there is written in docs/security.md. A view that needs a stricter value sets it itself
(a guest's packet link: `Referrer-Policy: no-referrer`); this hook only fills what the view left unset.
"""
from __future__ import annotations

import base64
import hashlib
import json

from flask import Flask, Response, current_app, g, request
from markupsafe import Markup

# No inline script, no event-handler attribute, no inline style: everything comes from salon/static. The
# check-in QR code is inline SVG markup, not an image URL, so img-src needs nothing beyond 'self'.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}

# A year; only the service's own host (no includeSubDomains: other county sites may share the parent domain).
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def import_map_text() -> str:
    """The import map of a page that runs the sealed-ballot modules (docs/sealed-ballots.md, "In the browser"):
    @noble/curves imports '@noble/hashes/…' by its bare name, which this maps to the vendored copy."""
    prefix = request.script_root + current_app.static_url_path
    return json.dumps({"imports": {"@noble/hashes/": f"{prefix}/vendor/node_modules/@noble/hashes/"}},
                      separators=(",", ":"), sort_keys=True)


def import_map() -> Markup:
    """`{{ import_map() }}` in a page's head. A browser reads an import map only inline, so this response's
    policy allows exactly this text by its SHA-256 (secure_headers); no other inline script runs, and the map
    itself is data, not code."""
    text = import_map_text()
    g.salon_import_map = text
    return Markup('<script type="importmap">') + Markup(text) + Markup("</script>")


def _policy() -> str:
    text = g.get("salon_import_map")
    if text is None:
        return CONTENT_SECURITY_POLICY
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return CONTENT_SECURITY_POLICY.replace("script-src 'self'", f"script-src 'self' 'sha256-{digest}'")


def secure_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, _policy() if name == "Content-Security-Policy" else value)
    # Browsers ignore HSTS received over plain HTTP (RFC 6797 §8.1); send it only where it means something.
    # request.is_secure follows wsgi.url_scheme, which waitress sets from X-Forwarded-Proto only for a proxy
    # named in --trusted-proxy (docs/security.md).
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response


def init_app(app: Flask) -> None:
    app.after_request(secure_headers)
    app.add_template_global(import_map, "import_map")
