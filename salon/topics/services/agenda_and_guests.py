"""A decided session's agenda (a default one on the decision, timed item by item) and its guests, edited by
the bureau and the session's chair (SPEC §3.4)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select

from salon.audit import services as audit
from salon.errors import Forbidden, NotFound, ValidationFailed, clean_text
from salon.database import lock_programme
from salon.extensions import db
from salon.programmes import services as programmes
from salon.topics import limits
from salon.topics.models import AgendaItem, Guest

if TYPE_CHECKING:
    from salon.schedule.models import Session
    from salon.topics.models import Nomination

AGENDA_MAX_ITEMS = limits.AGENDA_ITEMS_MAX


def can_manage(user, session: Session, seat=None) -> bool:
    """The bureau and the session's chair edit the agenda and the guests (SPEC §3.4). seat: the secretary's,
    when the caller has it."""
    return programmes.bureau_or_chair(user, session.chair_community_id, seat)


def check_manage(user, session: Session, field: str = "session_id") -> None:
    """can_manage, or 403: the one refusal of every room that lets the bureau and the chair act on a session."""
    if not can_manage(user, session):
        raise Forbidden(_("Only the bureau and this session's chair can do this."), field)


DEFAULT_SHARES = (5, 15, 25, 45, 20, 10)  # of 120 minutes


def _default_agenda(session: Session, nomination: Nomination) -> None:
    chair = session.chair.name if session.chair is not None else _("the chair")
    units = nomination.outside_units or _("invited units")
    rows = [
        (_("Opening"), chair, ""),
        (_("Background of the topic"), nomination.community.name, nomination.title),
        (_("Statements by invited units"), units, ""),
        (_("Discussion"), _("everyone"), ""),
        (_("Resolutions"), chair, ""),
        (_("Closing"), chair, ""),
    ]
    total = session.duration_minutes or 120
    minutes = [max(1, round(share * total / 120)) for share in DEFAULT_SHARES]
    minutes[3] += total - sum(minutes)
    db.session.execute(AgendaItem.__table__.delete().where(AgendaItem.session_id == session.id))
    for position, ((title, lead, note), length) in enumerate(zip(rows, minutes)):
        db.session.add(AgendaItem(programme_id=session.programme_id, session_id=session.id, position=position,
                                  title=title[:limits.AGENDA_TITLE.max], lead=lead[:limits.AGENDA_LEAD.max],
                                  minutes=max(1, length), note=note[:limits.AGENDA_NOTE.max]))
    db.session.flush()


@dataclass(frozen=True)
class TimedItem:
    item: AgendaItem
    starts_at: datetime
    ends_at: datetime


def agenda(session: Session) -> list[TimedItem]:
    items = db.session.scalars(select(AgendaItem).where(AgendaItem.session_id == session.id)
                               .order_by(AgendaItem.position)).all()
    timed, at = [], session.starts_at
    for item in items:
        end = at + timedelta(minutes=item.minutes)
        timed.append(TimedItem(item, at, end))
        at = end
    return timed


def clean_agenda(items, session_minutes: int | None = None) -> list[dict]:
    """The agenda's items, checked; with `session_minutes`, their minutes together must fit in the session."""
    if not isinstance(items, list):
        raise ValidationFailed(_("Must be a list of agenda items."), "items")
    if not items:
        raise ValidationFailed(_("An agenda needs at least one item."), "items")
    if len(items) > limits.AGENDA_ITEMS_MAX:
        raise ValidationFailed(_("At most %(n)d items.", n=limits.AGENDA_ITEMS_MAX), "items")
    clean = []
    low, high = limits.ITEM_MINUTES_MIN, limits.ITEM_MINUTES_MAX
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            raise ValidationFailed(_("Must be a list of agenda items."), "items")
        minutes = raw.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not low <= minutes <= high:
            raise ValidationFailed(_("Item %(i)d: minutes must be a whole number from %(low)d to %(high)d.",
                                     i=index + 1, low=low, high=high), "minutes")
        clean.append({"title": clean_text(raw.get("title", ""), "title", limits.AGENDA_TITLE.max, True),
                      "lead": clean_text(raw.get("lead", ""), "lead", limits.AGENDA_LEAD.max, False),
                      "note": clean_text(raw.get("note", ""), "note", limits.AGENDA_NOTE.max, False),
                      "minutes": minutes})
    total = sum(row["minutes"] for row in clean)
    if session_minutes is not None and total > session_minutes:
        raise ValidationFailed(_("The items add up to %(total)d minutes, but the session lasts %(max)d: "
                                 "shorten some items.", total=total, max=session_minutes), "minutes")
    return clean


def replace_agenda(session: Session, user, items) -> list[TimedItem]:
    lock_programme(session.programme_id)  # lock order: salon/database.py
    check_manage(user, session)
    clean = clean_agenda(items, session.duration_minutes)
    db.session.execute(AgendaItem.__table__.delete().where(AgendaItem.session_id == session.id))
    for position, row in enumerate(clean):
        db.session.add(AgendaItem(programme_id=session.programme_id, session_id=session.id, position=position, **row))
    db.session.flush()
    audit.record(session.programme_id, user, "agenda.edit", session, session=session.number, items=len(clean))
    return agenda(session)


def guest_ids_among(session_id: int, guest_ids: list[int]) -> set[int]:
    """Which of guest_ids are the session's guests."""
    return set(db.session.scalars(select(Guest.id).where(Guest.session_id == session_id,
                                                         Guest.id.in_(guest_ids or [0]))))


def guests(session_id: int) -> list[Guest]:
    return list(db.session.scalars(select(Guest).where(Guest.session_id == session_id).order_by(Guest.id)))


def add_guest(session: Session, user, data: dict, is_sample: bool = False) -> Guest:
    lock_programme(session.programme_id)  # lock order: salon/database.py
    check_manage(user, session)
    guest = Guest(programme_id=session.programme_id, session_id=session.id,
                  name=clean_text(data.get("name", ""), "name", limits.GUEST_NAME.max, True),
                  unit=clean_text(data.get("unit", ""), "unit", limits.GUEST_UNIT.max, True),
                  contact=clean_text(data.get("contact", ""), "contact", limits.GUEST_CONTACT.max, False),
                  is_sample=is_sample)
    db.session.add(guest)
    db.session.flush()
    audit.record(session.programme_id, user, "guest.add", guest, session=session.number, name=guest.name,
                 unit=guest.unit)
    return guest


def remove_guest(session: Session, user, guest_id) -> None:
    lock_programme(session.programme_id)  # lock order: salon/database.py
    check_manage(user, session)
    guest = programmes.get_scoped(Guest, guest_id, session.programme_id, "guest_id")
    if guest.session_id != session.id:
        raise NotFound(_("Not found."), "guest_id")
    audit.record(session.programme_id, user, "guest.remove", guest, session=session.number, name=guest.name)
    db.session.delete(guest)
    db.session.flush()
