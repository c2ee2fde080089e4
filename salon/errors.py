"""Domain errors raised by services, and how pages and the API turn them into answers."""
from __future__ import annotations

import re

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A rule said no. `field` names the input at fault, when there is one."""

    status = 422

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def as_fields(self) -> dict[str, list[str]]:
        return {self.field or "_": [self.message]}


class ValidationFailed(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, message: str, fields: dict | None = None):
    body = {"error": {"status": status, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


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


def _smorest_fields(exc: HTTPException) -> dict | None:
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
            fields[location] = _translated(errors)
    return fields or None


def _first_control_character(value, name: str) -> str | None:
    if isinstance(value, str):
        return name if any(ord(c) < 32 and c not in "\t\n\r" for c in value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _first_control_character(item, str(key)) or _first_control_character(key, str(key))
            if found:
                return found
    if isinstance(value, list):
        for item in value:
            found = _first_control_character(item, name)
            if found:
                return found
    return None


# In JSON a control character can only arrive escaped (\u0000 …); tab, newline and return are fine.
_JSON_CONTROL = re.compile(rb"\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])")


def reject_control_characters() -> None:
    """NUL and other control characters cannot be stored (PostgreSQL refuses NUL): say which field."""
    sources = [request.args.to_dict(flat=False)] if request.args else []
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(request.form.to_dict(flat=False))
    # Cheap look at the raw body first; parse only when it may hold one (the ballot path stays fast).
    if request.is_json and _JSON_CONTROL.search(request.get_data(cache=True)):
        sources.append(request.get_json(silent=True))
    for source in sources:
        field = _first_control_character(source, "body")
        if field:
            raise ValidationFailed(_("Control characters are not allowed."), field)


def register(app: Flask) -> None:
    app.before_request(reject_control_characters)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if wants_json():
            return json_error(exc.status, exc.message, exc.as_fields())
        return render_template("errors/error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if wants_json():
            message = exc.description if status != 422 else _("The request has invalid fields.")
            if status == 400 and _smorest_fields(exc):
                message = _("The request body is not valid JSON of the expected shape.")
            return json_error(status, message, _smorest_fields(exc))
        return render_template("errors/error.html", status=status, message=_http_message(status)), status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        from salon.extensions import db

        db.session.rollback()  # the failed transaction must not break the error page too
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return json_error(500, _("Something went wrong on our side."))
        return render_template("errors/error.html", status=500, message=_http_message(500)), 500


def _http_message(status: int) -> str:
    return {
        400: _("The request was not understood."),
        401: _("Please log in first."),
        403: _("You do not have permission to do that."),
        404: _("Nothing here: the page does not exist or is not part of your programme."),
        405: _("That action is not allowed here."),
        413: _("What you sent is too large."),
        422: _("Some fields are not valid."),
        429: _("Too many attempts. Please wait a few minutes and try again."),
    }.get(status, _("Something went wrong on our side."))
