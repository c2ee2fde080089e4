"""Domain errors raised by services, and how pages and the API turn them into answers."""
from __future__ import annotations

import re

import psycopg
from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy import exc as sql_errors
from werkzeug.exceptions import HTTPException

from salon.database import MAX_ID
from salon.extensions import db, login


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


class BadInput(DomainError):
    """The request body as a whole cannot be read (nested too deep): 400, naming `body`."""

    status = 400


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
            fields["body" if location == "json" else location] = _translated(errors)
    return fields or None


def _is_control(text: str) -> bool:
    return any(ord(c) < 32 and c not in "\t\n\r" for c in text)


def _is_lone_surrogate(text: str) -> bool:
    """Half of a UTF-16 pair (JSON's "\\ud800" alone): no database can store it as text."""
    return any("\ud800" <= c <= "\udfff" for c in text)


def _first_control_character(value, name: str, bad=_is_control) -> str | None:
    """The input holding a bad string, named like the API's field errors: `title`, `items.0.title`."""
    def child(key) -> str:
        return str(key) if name == "body" else f"{name}.{key}"

    if isinstance(value, str):
        return name if bad(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _first_control_character(item, child(key), bad) or _first_control_character(key, child(key), bad)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            # A list of strings is one input (a form field sent twice, a list of months); a list of objects
            # names its items: items.0.title.
            found = _first_control_character(item, f"{name}.{index}" if isinstance(item, (dict, list)) else name, bad)
            if found:
                return found
    return None


# In JSON a control character can only arrive escaped (\u0000 …); tab, newline and return are fine.
_JSON_CONTROL = re.compile(rb"\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])")
_JSON_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def text_error(value: str) -> str | None:
    """Why a string cannot be stored as text, or None: the one check that every form field and body share."""
    if _is_control(value):
        return _("Control characters are not allowed.")
    if _is_lone_surrogate(value):
        return _("Not valid text: a lone UTF-16 surrogate.")
    return None


def reject_control_characters() -> None:
    """NUL and other control characters cannot be stored (PostgreSQL refuses NUL): say which field.

    A page's form is answered by its own page, the error under the field (salon.forms.Form checks every
    field); here the input is only noted, and `refuse_unchecked_text` stops a request whose page did not."""
    sources = [request.args.to_dict(flat=False)] if request.args else []
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = request.form.to_dict(flat=False)
        if wants_json():
            sources.append(form)
        else:
            g.bad_text_field = _first_control_character(form, "body") or _first_control_character(
                form, "body", _is_lone_surrogate)
    # Cheap look at the raw body first; parse only when it may hold one (the ballot path stays fast).
    if request.is_json:
        raw = request.get_data(cache=True)
        if _JSON_CONTROL.search(raw) or _JSON_SURROGATE.search(raw):
            sources.append(request.get_json(silent=True))
    for source in sources:
        field = _first_control_character(source, "body")
        if field:
            raise ValidationFailed(_("Control characters are not allowed."), field)
        field = _first_control_character(source, "body", _is_lone_surrogate)
        if field:
            raise ValidationFailed(_("Not valid text: a lone UTF-16 surrogate."), field)


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


def _too_large_message() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return _("What you sent is too large: at most %(n)d KiB.", n=limit // 1024)


def refuse_unchecked_text(response):
    """A page that accepted a form with a control character in an input no form field checked (a field the
    page does not know): nothing of it is kept, and the answer names the input."""
    field = g.get("bad_text_field")
    if field and response.status_code < 400:
        db.session.rollback()
        message = f"{field}: {_('Control characters are not allowed.')}"
        return current_app.make_response((render_template("errors/error.html", status=422, message=message),
                                          422))
    return response


# Seconds a client is asked to wait (Retry-After) when the database cannot be reached. A PostgreSQL restart
# takes a few seconds; Salon then serves again at once, without a restart of its own (docs/faults.md).
RETRY_AFTER_SECONDS = 3


def database_unavailable(error: BaseException | None) -> bool:
    """An error that says the database cannot answer now, not that the request is wrong: the server is down,
    restarting or refusing connections, a connection was cut (the pool replaces it), the pool had no
    connection to give in time, or the server gave up on the transaction (deadlock, serialisation, lock or
    statement timeout). Nothing of the request was committed; the same request may succeed when sent again.
    psycopg's own error arrives unwrapped from the paths that use the driver's cursor (the ballot, the token
    check) and from the pool when it cannot connect."""
    if isinstance(error, (sql_errors.OperationalError, sql_errors.DisconnectionError, sql_errors.TimeoutError,
                          psycopg.OperationalError)):
        return True
    return isinstance(error, sql_errors.DBAPIError) and error.connection_invalidated


def _end_failed_transaction() -> None:
    """Roll back what the request did. On a connection the database has cut, the rollback fails as well:
    SQLAlchemy then discards that connection and every other one the pool held from before the cut, so the
    next request connects afresh (that is what makes Salon recover from a database restart on its own)."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - whatever failed, the session must be left usable
        db.session.close()


def _database_unavailable_answer():
    """503 with Retry-After: JSON on the API, a page otherwise. Nothing here may touch the database."""
    _end_failed_transaction()
    # Who is asking was read from the database, and their objects expired with the rollback: the answer is
    # given as to a visitor (language from the session cookie or Accept-Language), so that it cannot fail too.
    g.api_user = None
    g._login_user = login.anonymous_user()
    current_app.logger.warning("database unavailable on %s %s", request.method, request.path)
    message = _http_message(503)
    if wants_json():
        response, status = json_error(503, message)
    else:
        response, status = current_app.make_response(
            (render_template("errors/error.html", status=503, message=message), 503)), 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, status


def register(app: Flask) -> None:
    app.before_request(reject_deep_json)
    app.before_request(reject_control_characters)
    # Registered after salon.database's commit hook, so it runs before it (Flask runs them in reverse).
    app.after_request(refuse_unchecked_text)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if wants_json():
            return json_error(exc.status, exc.message, exc.as_fields())
        return render_template("errors/error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if status == 500 and database_unavailable(getattr(exc, "original_exception", None)):
            return _database_unavailable_answer()  # raised where no handler runs: the commit after the view
        if wants_json():
            fields = _smorest_fields(exc)
            message = _http_message(status)
            if status == 422:
                message = _("The request has invalid fields.")
            elif status == 400:
                message = _("The request body is not valid JSON.")
                if fields and set(fields) != {"body"}:
                    message = _("The request body is not valid JSON of the expected shape.")
                fields = fields or {"body": [message]}
            elif status == 413:
                message = _too_large_message()
                fields = {"body": [message]}
            response, status = json_error(status, message, fields)
            for name, value in exc.get_headers():
                if name.lower() != "content-type":
                    response.headers[name] = value  # Allow on 405, Retry-After on 429
            return response, status
        message = _too_large_message() if status == 413 else _http_message(status)
        return render_template("errors/error.html", status=status, message=message), status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        if database_unavailable(exc):
            return _database_unavailable_answer()
        _end_failed_transaction()  # the failed transaction must not break the error page too
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
        503: _("The service is briefly unavailable. Please try again in a few seconds."),
    }.get(status, _("Something went wrong on our side."))
