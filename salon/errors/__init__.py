"""Domain errors raised by services, and how pages and the API turn them into answers. The sections:
`domain` (the errors), `answers` (the JSON body and the pages' words), `text` (text no database can store),
`inputs` (limits on a request's body and parameters), `database` (the database unavailable); `register`
installs the checks and the one error handler."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from salon.errors.answers import http_message, json_error, smorest_fields, wants_json
from salon.errors.database import (RETRY_AFTER_SECONDS, database_unavailable, database_unavailable_answer,
                                   end_failed_transaction)
from salon.errors.domain import BadInput, Conflict, DomainError, Forbidden, NotFound, ValidationFailed, not_the_forms
from salon.errors.inputs import (MAX_JSON_DEPTH, int_argument, json_nesting_exceeds, reject_deep_json,
                                 too_large_message)
from salon.errors.text import clean_text, reject_control_characters, refuse_unchecked_text, text_error

__all__ = ["BadInput", "Conflict", "DomainError", "Forbidden", "MAX_JSON_DEPTH", "NotFound", "RETRY_AFTER_SECONDS",
           "ValidationFailed", "clean_text", "database_unavailable", "int_argument", "json_error",
           "json_nesting_exceeds", "not_the_forms", "register", "text_error", "wants_json"]


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
            return database_unavailable_answer()  # raised where no handler runs: the commit after the view
        if wants_json():
            fields = smorest_fields(exc)
            message = http_message(status)
            if status == 422:
                message = _("The request has invalid fields.")
            elif status == 400:
                message = _("The request body is not valid JSON.")
                if fields and set(fields) != {"body"}:
                    message = _("The request body is not valid JSON of the expected shape.")
                fields = fields or {"body": [message]}
            elif status == 413:
                message = too_large_message()
                fields = {"body": [message]}
            response, status = json_error(status, message, fields)
            for name, value in exc.get_headers():
                if name.lower() != "content-type":
                    response.headers[name] = value  # Allow on 405, Retry-After on 429
            return response, status
        message = too_large_message() if status == 413 else http_message(status)
        return render_template("errors/error.html", status=status, message=message), status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        if database_unavailable(exc):
            return database_unavailable_answer()
        end_failed_transaction()  # the failed transaction must not break the error page too
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return json_error(500, _("Something went wrong on our side."))
        return render_template("errors/error.html", status=500, message=http_message(500)), 500

