"""The JSON API under /api/v1: bearer tokens, JSON errors, one OpenAPI document for every route."""
from __future__ import annotations

from flask import Flask, current_app, g, request, url_for
from flask_babel import gettext as _

from salon.errors import Forbidden, json_error
from salon.extensions import api, csrf

PREFIX = "/api/v1"
PUBLIC_ENDPOINTS = {"api-docs.openapi_json"}


def _authenticate():
    if not request.path.startswith(PREFIX + "/") or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    from salon.accounts.services import bearer_token, token_holder, user_and_seat_for_token

    view_class = getattr(current_app.view_functions.get(request.endpoint), "view_class", None)
    fast_path = getattr(view_class, "fast_path", None)
    if fast_path is not None:
        # The view may answer the whole request itself (the ballot: salon.ballots.fast); None means it
        # declined, having changed nothing, and the request goes on down the regular path.
        answered = fast_path(**request.view_args)
        if answered is not None:
            return answered
    raw = bearer_token(request.headers.get("Authorization")) or ""
    if getattr(view_class, "seat_only", False):
        # The view acts only through the caller's seat (see salon.ballots.api.PollBallot): no User object.
        holder = token_holder(raw)
        user, seat_id = holder, (holder.seat_id if holder is not None else None)
    else:
        user, seat_id = user_and_seat_for_token(raw)
    if user is None:
        response = json_error(401, _("A valid bearer token is required (Authorization: Bearer …)."))
        response[0].headers["WWW-Authenticate"] = "Bearer"
        return response
    g.api_user = user  # a User, or a TokenHolder for a seat-only view
    g.api_seat_id = seat_id  # the seat the user holds now (a secretary's), read with the token
    return None


def require_bureau():
    if not g.api_user.is_bureau:
        raise Forbidden(_("Only the bureau can do this."))
    return g.api_user


def next_page_headers(cursor, limit: int, endpoint: str, **values) -> dict:
    """Cursor pagination's answer headers (salon.api.schemas.NEXT_PAGE_HEADERS): X-Next-Cursor and a Link to
    the next page, from `cursor` (the last item shown); none on the last page (cursor None)."""
    if cursor is None:
        return {}
    following = url_for(endpoint, cursor=str(cursor), limit=limit, _external=True, **values)
    return {"X-Next-Cursor": str(cursor), "Link": f'<{following}>; rel="next"'}


def register(app: Flask) -> None:
    from salon.accounts.api import blp as accounts_blp
    from salon.audit.api import blp as audit_blp
    from salon.ballots.api import blp as ballots_blp
    from salon.committee.api import blp as committee_blp
    from salon.reviews.api import blp as reviews_blp
    from salon.programmes.api import blp as programmes_blp
    from salon.schedule.api import blp as schedule_blp
    from salon.topics.api import blp as topics_blp

    app.before_request(_authenticate)
    for blp in (accounts_blp, programmes_blp, audit_blp, schedule_blp, ballots_blp, topics_blp,
                committee_blp, reviews_blp):
        csrf.exempt(blp)
        api.register_blueprint(blp, url_prefix=PREFIX)
