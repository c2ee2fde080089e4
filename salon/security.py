"""The browser's own defences (OWASP ASVS V14.4): the headers every response carries, set in one place.

Why each one is there is written in docs/security.md. A view that needs a stricter value sets it itself
(a guest's packet link: `Referrer-Policy: no-referrer`); this hook only fills what the view left unset.
"""
from __future__ import annotations

import base64
import hashlib

from flask import Flask, Response, request

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

# The one inline script Salon sends: the import map that lets @noble/curves (salon/static/vendor, `make vendor`)
# find @noble/hashes by its bare name, on the pages that seal ballots (docs/sealed-ballots.md). An import map
# cannot be loaded from a file, so those pages' policy (SEALING_POLICY, set by the page itself) allows exactly
# this text by its SHA-256, and nothing else inline; every other page keeps CONTENT_SECURITY_POLICY.
IMPORT_MAP = '{"imports":{"@noble/hashes/":"/static/vendor/node_modules/@noble/hashes/"}}'
IMPORT_MAP_HASH = "sha256-" + base64.b64encode(hashlib.sha256(IMPORT_MAP.encode("utf-8")).digest()).decode("ascii")
SEALING_POLICY = CONTENT_SECURITY_POLICY.replace("script-src 'self'", f"script-src 'self' '{IMPORT_MAP_HASH}'")

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


def secure_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    # Browsers ignore HSTS received over plain HTTP (RFC 6797 §8.1); send it only where it means something.
    # request.is_secure follows wsgi.url_scheme, which waitress sets from X-Forwarded-Proto only for a proxy
    # named in --trusted-proxy (docs/security.md).
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response


def init_app(app: Flask) -> None:
    app.after_request(secure_headers)
