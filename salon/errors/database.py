"""When the database cannot answer (restarting, a connection cut, a lock timeout): 503 with Retry-After, and the
failed transaction ended so that the next request connects afresh."""
from __future__ import annotations

import psycopg
from flask import current_app, g, render_template, request
from sqlalchemy import exc as sql_errors

from salon.database import end_failed_transaction  # noqa: F401 - also salon.errors' own
from salon.errors.answers import http_message, json_error, wants_json
from salon.extensions import db, login


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


def database_unavailable_answer():
    """503 with Retry-After: JSON on the API, a page otherwise. Nothing here may touch the database."""
    end_failed_transaction()
    # Who is asking was read from the database, and their objects expired with the rollback: the answer is
    # given as to a visitor (language from the session cookie or Accept-Language), so that it cannot fail too.
    g.api_user = None
    g._login_user = login.anonymous_user()
    current_app.logger.warning("database unavailable on %s %s", request.method, request.path)
    message = http_message(503)
    if wants_json():
        response, status = json_error(503, message)
    else:
        response, status = current_app.make_response(
            (render_template("errors/error.html", status=503, message=message), 503)), 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, status
