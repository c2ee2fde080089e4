"""Limits on what a request may carry, checked before anything reads it: how deep a JSON body nests, how large
a body is, an integer query parameter's range."""
from __future__ import annotations

import re

from flask import current_app, request
from flask_babel import gettext as _

from salon.database import MAX_ID
from salon.errors.domain import BadInput, ValidationFailed


# How deep a JSON body may nest arrays and objects. Salon's deepest body is 3 levels (an agenda); without a
# limit, 1,000 levels make the JSON parser itself fail (RecursionError) before any validation runs.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_nesting_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests deeper than `limit`, found without parsing it (strings skipped)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # the common case, at C speed: not enough brackets to be too deep
    depth = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub(b"", raw)):
        depth += 1 if match[0] in b"[{" else -1
        if depth > limit:
            return True
    return False


def reject_deep_json() -> None:
    """Before anything parses the body: a body nested too deep is a 400 naming `body`, not a crash."""
    if request.is_json and json_nesting_exceeds(request.get_data(cache=True)):
        raise BadInput(_("The body nests deeper than %(n)d levels.", n=MAX_JSON_DEPTH), "body")


def int_argument(name: str, default: int | None = None, low: int = 1, high: int | None = None) -> int | None:
    """An integer query parameter (?page=, ?before=) within [low, high], or an error naming it."""
    high = MAX_ID if high is None else high
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ValidationFailed(_("%(name)s: must be a whole number between %(low)d and %(high)d.",
                                 name=name, low=low, high=high), name)
    return value


def too_large_message() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return _("What you sent is too large: at most %(n)d KiB.", n=limit // 1024)
