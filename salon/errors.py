"""Domain errors raised by services, and how pages and the API turn them into answers."""
from __future__ import annotations

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
                fields["body" if name == "_schema" else name] = msgs
        else:
            fields[location] = errors
    return fields or None


def register(app: Flask) -> None:
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
