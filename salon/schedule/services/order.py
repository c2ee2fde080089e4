"""The rotation order the bureau sets (by hand or by lot) and the blackout months the schedule skips; each
change refills the future (upkeep.regenerate)."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext as _

from salon.audit import services as audit
from salon.errors import Conflict, ValidationFailed
from salon.database import lock_programme
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rules import calendar_rules, rotation

from .upkeep import regenerate

if TYPE_CHECKING:
    from salon.accounts.models import User
    from salon.programmes.models import Community, Programme


MAX_BLACKOUTS = 120


def rotation_order(programme_id: int) -> list[Community]:
    return programmes.communities(programme_id, active_only=True)


def _set_order(programme: Programme, ordered_ids: list[int]) -> list[Community]:
    by_id = {c.id: c for c in rotation_order(programme.id)}
    for community in by_id.values():
        community.rotation_position = None
    db.session.flush()
    for position, community_id in enumerate(ordered_ids, start=1):
        by_id[community_id].rotation_position = position
    db.session.flush()
    return [by_id[i] for i in ordered_ids]


def reorder(programme: Programme, actor: User, ordered_ids, now: datetime | None = None) -> list[Community]:
    """The bureau sets the rotation order: every active community exactly once."""
    lock_programme(programme.id)  # lock order: salon/database.py
    if not isinstance(ordered_ids, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in ordered_ids):
        raise ValidationFailed(_("Give the ids of the active communities, in the new order."), "order")
    active = {c.id for c in rotation_order(programme.id)}
    if len(ordered_ids) != len(set(ordered_ids)):
        raise ValidationFailed(_("Each community may appear only once."), "order")
    if set(ordered_ids) != active:
        raise ValidationFailed(_("The order must name every active community of this programme, once."), "order")
    order = _set_order(programme, ordered_ids)
    programme.rotation_seed = None
    audit.record(programme.id, actor, "rotation.reorder", programme, order=[c.name for c in order])
    regenerate(programme, actor, now)
    return order


def draw_lots(programme: Programme, actor: User, now: datetime | None = None,
              seed: str | None = None) -> tuple[str, list[Community]]:
    """A new order by lot. The seed is recorded so anyone can redo it (see salon.rules.rotation.draw_lots)."""
    lock_programme(programme.id)  # lock order: salon/database.py
    active = [c.id for c in rotation_order(programme.id)]
    if not active:
        raise Conflict(_("There are no active communities to draw."), "order")
    seed = seed or secrets.token_hex(8)
    order = _set_order(programme, rotation.draw_lots(active, seed))
    programme.rotation_seed = seed
    audit.record(programme.id, actor, "rotation.draw", programme, seed=seed, ids=sorted(active),
                 order=[c.name for c in order])
    regenerate(programme, actor, now)
    return seed, order


def set_blackouts(programme: Programme, actor: User, months, now: datetime | None = None) -> list[str]:
    lock_programme(programme.id)  # lock order: salon/database.py
    if not isinstance(months, list) or any(not isinstance(m, str) for m in months):
        raise ValidationFailed(_("Give months as YYYY-MM, e.g. 2027-02."), "blackout_months")
    if len(months) > MAX_BLACKOUTS:
        raise ValidationFailed(_("At most %(n)d months.", n=MAX_BLACKOUTS), "blackout_months")
    clean = set()
    for text in months:
        try:
            clean.add(calendar_rules.month_key(*calendar_rules.parse_month(text)))
        except ValueError:
            raise ValidationFailed(_("“%(value)s” is not a month of the form YYYY-MM.", value=text[:20]),
                                   "blackout_months")
    clean = sorted(clean)
    if clean != sorted(programme.blackout_months or []):
        programme.blackout_months = clean
        audit.record(programme.id, actor, "schedule.blackouts", programme, months=clean)
        regenerate(programme, actor, now)
    return clean
