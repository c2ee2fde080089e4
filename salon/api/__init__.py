"""The JSON API under /api/v1: one OpenAPI document for every route, JSON errors. Each room registers its own
API blueprint from its init_app (`register_blueprint`); who is asking (bearer tokens) is the accounts room's
(salon.accounts.auth). This package imports no room."""
from __future__ import annotations

from flask import Flask, url_for
from flask_smorest import Blueprint

from salon.api.schemas import ErrorSchema
from salon.extensions import api, csrf

PREFIX = "/api/v1"
PUBLIC_ENDPOINTS = {"api-docs.openapi_json"}


def init_app(app: Flask) -> None:
    # The document's error responses describe the body salon.errors.json_error sends.
    api.ERROR_SCHEMA = ErrorSchema
    api.init_app(app)


def register_blueprint(blp: Blueprint) -> None:
    """A room's API blueprint, under PREFIX; bearer tokens, not cookies, so no CSRF token."""
    csrf.exempt(blp)
    api.register_blueprint(blp, url_prefix=PREFIX)


def next_page_headers(cursor, limit: int, endpoint: str, **values) -> dict:
    """Cursor pagination's answer headers (salon.api.schemas.NEXT_PAGE_HEADERS): X-Next-Cursor and a Link to
    the next page, from `cursor` (the last item shown); none on the last page (cursor None)."""
    if cursor is None:
        return {}
    following = url_for(endpoint, cursor=str(cursor), limit=limit, _external=True, **values)
    return {"X-Next-Cursor": str(cursor), "Link": f'<{following}>; rel="next"'}
