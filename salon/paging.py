"""Keyset pages of a programme's rows (SPEC §9: a list over the years comes a page at a time, and a page costs
the same after ten years). The cursor is the id of the last row of the previous page; the API's side of it
(?cursor=, ?limit=, the X-Next-Cursor and Link headers) is in salon.api.schemas and salon.api."""
from __future__ import annotations

from sqlalchemy import select

from salon.database import as_id
from salon.errors import ValidationFailed
from salon.extensions import db


def cursor_row(model, programme_id: int, cursor, refused: str):
    """The row the cursor names, None for the first page, or 422 naming `cursor` (message `refused`) when it
    names no row of that programme."""
    if cursor in (None, ""):
        return None
    anchor = db.session.get(model, as_id(cursor)) if as_id(cursor) else None
    if anchor is None or anchor.programme_id != programme_id:
        raise ValidationFailed(refused, "cursor")
    return anchor


def split_page(found: list, limit: int) -> tuple[list, object | None]:
    """`found`: up to limit + 1 rows. The page, and the cursor row for the next one (None on the last)."""
    return found[:limit], (found[limit - 1] if len(found) > limit else None)


def newest_first(model, programme_id: int, cursor, limit: int, refused: str) -> tuple[list, object | None]:
    """One page of the programme's rows of `model`, newest (highest id) first."""
    query = select(model).where(model.programme_id == programme_id)
    anchor = cursor_row(model, programme_id, cursor, refused)
    if anchor is not None:
        query = query.where(model.id < anchor.id)
    return split_page(list(db.session.scalars(query.order_by(model.id.desc()).limit(limit + 1))), limit)
