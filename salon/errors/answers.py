"""How an error is answered: the API's one JSON error body (marshmallow's English messages in the caller's
language) and the page's words for each HTTP status."""
from __future__ import annotations

import re

from flask import jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, message: str, fields: dict | None = None):
    """The API's one error body (salon.api.schemas.ErrorSchema, the document's `Error`)."""
    body = {"error": {"status": status, "message": str(message)}}
    if fields:
        body["error"]["fields"] = _flat_fields(fields)
    return jsonify(body), status


def _flat_fields(fields: dict, prefix: str = "") -> dict[str, list[str]]:
    """{"items": {0: {"title": [...]}}} -> {"items.0.title": [...]}: every value a list of strings."""
    flat: dict[str, list[str]] = {}
    for key, value in fields.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat_fields(value, name + "."))
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, dict):
                    flat.update(_flat_fields(item, name + "."))
                else:
                    flat.setdefault(name, []).append(str(item))
        else:
            flat.setdefault(name, []).append(str(value))
    return flat


_FIXED = {
    "Missing data for required field.": lambda: _("This field is required."),
    "Unknown field.": lambda: _("Unknown field."),
    "Not a valid string.": lambda: _("Must be text."),
    "Not a valid integer.": lambda: _("Must be a whole number."),
    "Not a valid boolean.": lambda: _("Must be true or false."),
    "Field may not be null.": lambda: _("This field may not be empty."),
    "Not a valid list.": lambda: _("Must be a list."),
    "Invalid input type.": lambda: _("The value has the wrong type."),
    "Not a valid datetime.": lambda: _("Not a valid date or time."),
    "Not a valid date.": lambda: _("Not a valid date or time."),
    "Not a valid time.": lambda: _("Not a valid date or time."),
    "Invalid JSON body.": lambda: _("The request body is not valid JSON."),
}
_PATTERNS = [
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"),
     lambda m: _("Between %(low)d and %(high)d characters.", low=int(m[1]), high=int(m[2]))),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), lambda m: _("At least %(n)d characters.", n=int(m[1]))),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), lambda m: _("At most %(n)d characters.", n=int(m[1]))),
    (re.compile(r"^Must be greater than or equal to (-?\d+) and less than or equal to (-?\d+)\.$"),
     lambda m: _("Must be between %(low)d and %(high)d.", low=int(m[1]), high=int(m[2]))),
    (re.compile(r"^Must be greater than or equal to (-?\d+)\.$"), lambda m: _("Must be at least %(n)d.", n=int(m[1]))),
    (re.compile(r"^Must be less than or equal to (-?\d+)\.$"), lambda m: _("Must be at most %(n)d.", n=int(m[1]))),
    (re.compile(r"^Must be one of: (.*)\.$"), lambda m: _("Must be one of: %(choices)s.", choices=m[1])),
]


def _translated(messages):
    """marshmallow speaks English; the API answers in the caller's language."""
    if isinstance(messages, str):
        if messages in _FIXED:
            return _FIXED[messages]()
        for pattern, make in _PATTERNS:
            match = pattern.match(messages)
            if match:
                return make(match)
        return messages
    if isinstance(messages, dict):
        return {key: _translated(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [_translated(value) for value in messages]
    return messages


def smorest_fields(exc: HTTPException) -> dict | None:
    """webargs puts {'json': {'name': [...]}} on exc.data; flatten the location away."""
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if not isinstance(messages, dict):
        return None
    fields: dict = {}
    for location, errors in messages.items():
        if isinstance(errors, dict):
            for name, msgs in errors.items():
                fields["body" if name == "_schema" else name] = _translated(msgs)
        else:
            fields["body" if location == "json" else location] = _translated(errors)
    return fields or None


def http_message(status: int) -> str:
    return {
        400: _("The request was not understood."),
        401: _("Please log in first."),
        403: _("You do not have permission to do that."),
        404: _("Nothing here: the page does not exist or is not part of your programme."),
        405: _("That action is not allowed here."),
        413: _("What you sent is too large."),
        422: _("Some fields are not valid."),
        429: _("Too many attempts. Please wait a few minutes and try again."),
        503: _("The service is briefly unavailable. Please try again in a few seconds."),
    }.get(status, _("Something went wrong on our side."))
