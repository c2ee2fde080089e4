"""Beside the database helpers (salon.database): a row of the caller's programme by its id, or 404. Every room
finds its rows this way, the ballot engine included, so it lives below them all."""
from __future__ import annotations

from flask_babel import gettext as _

from salon.database import as_id
from salon.errors import NotFound
from salon.extensions import db


def get_scoped(model, object_id, programme_id: int, field: str = "id"):
    """A row of the caller's programme, or 404: another programme's ids look exactly like missing ones."""
    missing = NotFound(_("Nothing here: the page does not exist or is not part of your programme."), field)
    object_id = as_id(object_id)
    if object_id is None:
        raise missing
    obj = db.session.get(model, object_id)
    if obj is None or obj.programme_id != programme_id:
        raise missing
    return obj
