"""What a session produced (SPEC §6): attendance, minutes, resolutions and action items.

The bureau and the session's chair write; everyone of the programme reads. Other rooms ask here:
`summaries` (each session's resolutions and action items, in a fixed number of queries) and `overdue_items`
serve the half-year review (SPEC §4) and the packet (SPEC §7)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, or_, select

from salon import clock
from salon.accounts import services as accounts
from salon.audit import services as audit
from salon.database import as_id, lock_programme
from salon.errors import Conflict, Forbidden, ValidationFailed, clean_text
from salon.extensions import db
from salon.outcomes import limits
from salon.outcomes.models import ActionItem, ActionUpdate, Attendance, Minutes, Resolution
from salon.programmes import services as programmes
from salon.rules import outcomes as rules
from salon.schedule import services as schedule
from salon.topics import services as topics

if TYPE_CHECKING:
    from salon.programmes.models import Programme
    from salon.schedule.models import Session

STATUS_LABELS = {rules.OPEN: _l("open"), rules.IN_PROGRESS: _l("in progress"), rules.DONE: _l("done"),
                 rules.DROPPED: _l("dropped")}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


# --- who may do what ----------------------------------------------------------------------------

def can_write(user, session: Session) -> bool:
    """SPEC §6: the chair or the bureau records what a session produced."""
    return topics.can_manage(user, session)


def owns(user, item: ActionItem) -> bool:
    """The secretary of the community that owns the action item (its owner unit is that community)."""
    if item.owner_community_id is None or not user.is_secretary:
        return False
    seat = programmes.seat_of(user)
    return seat is not None and seat.community_id == item.owner_community_id


def can_report(user, item: ActionItem, session: Session) -> bool:
    """Who records an action item's progress: the bureau and the chair (SPEC §6), and the owning community's
    secretary for their own community's items (issue 15)."""
    return can_write(user, session) or owns(user, item)


def _check_write(user, session: Session, now: datetime) -> None:
    if not can_write(user, session):
        raise Forbidden(_("Only the bureau and this session's chair can do this."), "session_id")
    _check_recordable(session, now)


def _check_recordable(session: Session, now: datetime) -> None:
    if session.status == schedule.SessionStatus.CANCELLED or session.number is None:
        raise Conflict(_("This session was cancelled: it has nothing to record."), "session_id")
    if now < session.starts_at:
        raise Conflict(_("What a session produced can be recorded once it has begun."), "session_id")
    lock_programme(session.programme_id)  # step 1 of the lock order (salon/database.py): every write here is audited


def today(programme: Programme, now: datetime | None = None) -> date:
    return rules.local_today(now or clock.utcnow(), programme.timezone or "Asia/Shanghai")


# --- input ---------------------------------------------------------------------------------------

def clean_due(value, name: str = "due_on") -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationFailed(_("Not a valid date or time."), name)
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationFailed(_("Not a valid date or time."), name)
    low, high = limits.DUE_YEARS
    if not low <= value.year <= high:
        raise ValidationFailed(_("Must be between %(low)d and %(high)d.", low=low, high=high), name)
    return value


def clean_status(value, name: str = "status") -> str:
    if value not in rules.STATUSES:
        raise ValidationFailed(_("Must be one of: %(choices)s.", choices=", ".join(rules.STATUSES)), name)
    return value


def _id_list(values, name: str, most: int) -> list[int]:
    if values is None:
        return []
    if not isinstance(values, (list, tuple)):
        raise ValidationFailed(_("Must be a list."), name)
    if len(values) > most:
        raise ValidationFailed(_("At most %(n)d items.", n=most), name)
    ids = []
    for value in values:
        number = as_id(value) if not isinstance(value, str) else as_id(value.strip() or None)
        if number is None:
            raise ValidationFailed(_("Not found."), name)
        ids.append(number)
    return sorted(set(ids))


# --- attendance ----------------------------------------------------------------------------------

@dataclass
class AttendanceRow:
    id: int
    name: str
    present: bool
    holder: str | None = None  # a community's secretary (then, if recorded; now, if not)
    unit: str | None = None    # a guest's unit


@dataclass
class AttendanceView:
    communities: list[AttendanceRow]
    guests: list[AttendanceRow]

    @property
    def present_communities(self) -> int:
        return sum(1 for r in self.communities if r.present)

    @property
    def present_guests(self) -> int:
        return sum(1 for r in self.guests if r.present)


def attendance(session: Session) -> AttendanceView:
    """Every active community (and any inactive one recorded as present), and the session's guests."""
    rows = db.session.execute(
        select(Attendance.community_id, Attendance.guest_id, Attendance.holder_id)
        .where(Attendance.session_id == session.id)).all()
    present_c = {r.community_id: r.holder_id for r in rows if r.community_id is not None}
    present_g = {r.guest_id for r in rows if r.guest_id is not None}
    communities = programmes.roll_communities(session.programme_id, list(present_c))
    holders = programmes.holders_by_community(session.programme_id)
    recorded = accounts.display_names([h for h in present_c.values() if h])
    out_c = []
    for c in communities:
        holder_id = present_c.get(c.id)
        holder = recorded.get(holder_id) if holder_id else (holders[c.id].display_name if c.id in holders else None)
        out_c.append(AttendanceRow(c.id, c.name, c.id in present_c, holder=holder))
    out_g = [AttendanceRow(g.id, g.name, g.id in present_g, unit=g.unit) for g in topics.guests(session.id)]
    return AttendanceView(out_c, out_g)


def record_attendance(session: Session, user, community_ids, guest_ids, now: datetime | None = None) -> AttendanceView:
    """Replace the session's attendance with the communities and guests given (absence is no row)."""
    now = now or clock.utcnow()
    community_ids = _id_list(community_ids, "community_ids", 1000)
    guest_ids = _id_list(guest_ids, "guest_ids", 1000)
    _check_write(user, session, now)
    known = programmes.community_ids_among(session.programme_id, community_ids)
    if set(community_ids) - known:
        raise ValidationFailed(_("Choose communities of this programme."), "community_ids")
    guests = topics.guest_ids_among(session.id, guest_ids)
    if set(guest_ids) - guests:
        raise ValidationFailed(_("Choose guests of this session."), "guest_ids")
    seats = programmes.holders_at(session.programme_id, community_ids, session.starts_at)
    db.session.execute(delete(Attendance).where(Attendance.session_id == session.id))
    for community_id in community_ids:
        seat_id, holder_id = seats[community_id]
        db.session.add(Attendance(programme_id=session.programme_id, session_id=session.id, seat_id=seat_id,
                                  community_id=community_id, holder_id=holder_id, recorded_by_id=user.id,
                                  recorded_at=now))
    for guest_id in guest_ids:
        db.session.add(Attendance(programme_id=session.programme_id, session_id=session.id, guest_id=guest_id,
                                  recorded_by_id=user.id, recorded_at=now))
    db.session.flush()
    audit.record(session.programme_id, user, "attendance.record", session, session=session.number,
                 communities=len(community_ids), guests=len(guest_ids))
    return attendance(session)


# --- minutes and resolutions ---------------------------------------------------------------------

def minutes_of(session_id: int) -> Minutes | None:
    return db.session.scalar(select(Minutes).where(Minutes.session_id == session_id))


def set_minutes(session: Session, user, summary, now: datetime | None = None) -> Minutes:
    now = now or clock.utcnow()
    summary = clean_text(summary, "summary", limits.MINUTES_MAX, False)
    _check_write(user, session, now)
    minutes = minutes_of(session.id)
    if minutes is None:
        minutes = Minutes(programme_id=session.programme_id, session_id=session.id)
        db.session.add(minutes)
    minutes.summary, minutes.updated_by_id, minutes.updated_at = summary, user.id, now
    db.session.flush()
    audit.record(session.programme_id, user, "minutes.edit", session, session=session.number, length=len(summary))
    return minutes


def resolutions(session_id: int) -> list[Resolution]:
    return list(db.session.scalars(select(Resolution).where(Resolution.session_id == session_id)
                                   .order_by(Resolution.number)))


def add_resolution(session: Session, user, text, now: datetime | None = None) -> Resolution:
    now = now or clock.utcnow()
    text = clean_text(text, "text", limits.RESOLUTION_MAX, True)
    _check_write(user, session, now)
    schedule.lock_session(session.id)
    count, top = db.session.execute(select(func.count(Resolution.id), func.max(Resolution.number))
                                    .where(Resolution.session_id == session.id)).one()
    if count >= limits.RESOLUTIONS_PER_SESSION:
        raise Conflict(_("At most %(n)d items.", n=limits.RESOLUTIONS_PER_SESSION), "text")
    resolution = Resolution(programme_id=session.programme_id, session_id=session.id, number=(top or 0) + 1,
                            text=text, created_by_id=user.id, created_at=now)
    db.session.add(resolution)
    db.session.flush()
    audit.record(session.programme_id, user, "resolution.add", resolution, session=session.number,
                 number=resolution.number)
    return resolution


def get_resolution(resolution_id, programme_id: int) -> Resolution:
    return programmes.get_scoped(Resolution, resolution_id, programme_id, "resolution_id")


def remove_resolution(resolution: Resolution, user, now: datetime | None = None) -> None:
    """The later resolutions move up, so the numbers stay 1, 2, 3 …"""
    now = now or clock.utcnow()
    session = schedule.session_by_id(resolution.session_id)
    _check_write(user, session, now)
    schedule.lock_session(session.id)
    number = resolution.number
    audit.record(session.programme_id, user, "resolution.remove", resolution, session=session.number, number=number)
    db.session.delete(resolution)
    db.session.flush()
    for later in db.session.scalars(select(Resolution).where(Resolution.session_id == session.id,
                                                             Resolution.number > number)
                                    .order_by(Resolution.number)):
        later.number -= 1
        db.session.flush()


# --- action items --------------------------------------------------------------------------------

def _owner_community(programme_id: int, owner_unit: str) -> int | None:
    """An owner named exactly like one of the programme's communities is that community."""
    return programmes.community_id_named(programme_id, owner_unit)


def actions(session_id: int) -> list[ActionItem]:
    return list(db.session.scalars(select(ActionItem).where(ActionItem.session_id == session_id)
                                   .order_by(ActionItem.id)))


def add_action(session: Session, user, data: dict, now: datetime | None = None) -> ActionItem:
    now = now or clock.utcnow()
    what = clean_text(data.get("what"), "what", limits.ACTION_WHAT_MAX, True)
    owner = clean_text(data.get("owner_unit"), "owner_unit", limits.OWNER_UNIT_MAX, True)
    due_on = clean_due(data.get("due_on"))
    status = clean_status(data.get("status") or rules.OPEN)
    _check_write(user, session, now)
    schedule.lock_session(session.id)
    if db.session.scalar(select(func.count(ActionItem.id)).where(ActionItem.session_id == session.id)) \
            >= limits.ACTIONS_PER_SESSION:
        raise Conflict(_("At most %(n)d items.", n=limits.ACTIONS_PER_SESSION), "what")
    item = ActionItem(programme_id=session.programme_id, session_id=session.id, what=what, owner_unit=owner,
                      owner_community_id=_owner_community(session.programme_id, owner), due_on=due_on,
                      status=status, created_by_id=user.id, created_at=now, updated_at=now)
    db.session.add(item)
    db.session.flush()
    audit.record(session.programme_id, user, "action.add", item, session=session.number, owner=owner,
                 due_on=due_on.isoformat() if due_on else None)
    return item


def get_action(item_id, programme_id: int) -> ActionItem:
    return programmes.get_scoped(ActionItem, item_id, programme_id, "action_item_id")


def updates(item_id: int) -> list[ActionUpdate]:
    return list(db.session.scalars(select(ActionUpdate).where(ActionUpdate.action_item_id == item_id)
                                   .order_by(ActionUpdate.at.desc(), ActionUpdate.id.desc())))


_UNSET = object()


def update_action(item: ActionItem, user, data: dict, now: datetime | None = None) -> ActionUpdate:
    """A dated update: a new status, a new due date, a note — at least one of them."""
    now = now or clock.utcnow()
    status = clean_status(data["status"]) if data.get("status") not in (None, "") else None
    due_on = clean_due(data["due_on"]) if "due_on" in data and data["due_on"] not in (None, "") else _UNSET
    if data.get("clear_due"):
        due_on = None
    note = clean_text(data.get("note"), "note", limits.UPDATE_NOTE_MAX, False)
    session = schedule.session_by_id(item.session_id)
    new_status = status if status is not None and status != item.status else None
    new_due = due_on is not _UNSET and due_on != item.due_on
    if not can_write(user, session):
        if not owns(user, item):
            raise Forbidden(_("Only the bureau, this session's chair and the owning community's secretary can do "
                              "this."), "item_id")
        if new_due:
            raise Forbidden(_("Only the bureau and this session's chair change the due date."), "due_on")
    _check_recordable(session, now)
    if new_status is None and not new_due and not note:
        raise ValidationFailed(_("Change the status or the due date, or write a note."), "note")
    if db.session.scalar(select(func.count(ActionUpdate.id)).where(ActionUpdate.action_item_id == item.id)) \
            >= limits.UPDATES_PER_ITEM:
        raise Conflict(_("At most %(n)d items.", n=limits.UPDATES_PER_ITEM), "note")
    update = ActionUpdate(programme_id=item.programme_id, action_item_id=item.id, at=now, by_id=user.id, note=note,
                          old_status=item.status if new_status else None, new_status=new_status,
                          old_due_on=item.due_on if new_due else None, new_due_on=due_on if new_due else None)
    if new_status:
        item.status = new_status
    if new_due:
        item.due_on = due_on
    item.updated_at = now
    db.session.add(update)
    db.session.flush()
    audit.record(item.programme_id, user, "action.update", item, session=session.number,
                 status=new_status, due_on=due_on.isoformat() if new_due and due_on else None)
    return update


# --- what other rooms and pages read ---------------------------------------------------------------

@dataclass(frozen=True)
class ActionState:
    id: int
    what: str
    owner_unit: str
    owner_community_id: int | None
    due_on: date | None
    status: str
    overdue: bool


@dataclass(frozen=True)
class ResolutionState:
    id: int
    number: int
    text: str


@dataclass
class SessionOutcome:
    session_id: int
    resolutions: list[ResolutionState] = field(default_factory=list)
    actions: list[ActionState] = field(default_factory=list)
    present_community_ids: set[int] = field(default_factory=set)
    present_guest_ids: set[int] = field(default_factory=set)
    minutes: str = ""

    def count_by_status(self) -> dict[str, int]:
        counts = {status: 0 for status in rules.STATUSES}
        for item in self.actions:
            counts[item.status] = counts.get(item.status, 0) + 1
        return counts


def summaries(programme_id: int, session_ids, today_: date | None = None) -> dict[int, SessionOutcome]:
    """Each session's resolutions, action items (with status and whether overdue), attendance and minutes:
    four queries whatever the number of sessions. Sessions of another programme are left out."""
    ids = [i for i in (as_id(s) for s in session_ids) if i is not None]
    out = {sid: SessionOutcome(sid) for sid in ids}
    if not ids:
        return out
    if today_ is None:
        today_ = today(programmes.get_programme(programme_id))
    for r in db.session.scalars(select(Resolution).where(Resolution.programme_id == programme_id,
                                                         Resolution.session_id.in_(ids))
                                .order_by(Resolution.session_id, Resolution.number)):
        out[r.session_id].resolutions.append(ResolutionState(r.id, r.number, r.text))
    for a in db.session.scalars(select(ActionItem).where(ActionItem.programme_id == programme_id,
                                                         ActionItem.session_id.in_(ids))
                                .order_by(ActionItem.session_id, ActionItem.id)):
        out[a.session_id].actions.append(_state(a, today_))
    for session_id, community_id, guest_id in db.session.execute(
            select(Attendance.session_id, Attendance.community_id, Attendance.guest_id)
            .where(Attendance.programme_id == programme_id, Attendance.session_id.in_(ids))):
        if community_id is not None:
            out[session_id].present_community_ids.add(community_id)
        if guest_id is not None:
            out[session_id].present_guest_ids.add(guest_id)
    for session_id, summary in db.session.execute(
            select(Minutes.session_id, Minutes.summary).where(Minutes.programme_id == programme_id,
                                                              Minutes.session_id.in_(ids))):
        out[session_id].minutes = summary
    return out


def _state(item: ActionItem, today_: date) -> ActionState:
    return ActionState(item.id, item.what, item.owner_unit, item.owner_community_id, item.due_on, item.status,
                       rules.is_overdue(item.due_on, item.status, today_))


@dataclass(frozen=True)
class Overdue:
    item: ActionItem
    session_number: int | None
    session_id: int


OVERDUE_PAGE = 20


def _overdue_query(programme_id: int, today_: date, community_id: int | None):
    kept = schedule.not_cancelled()
    query = (select(ActionItem, kept.c.number)
             .join(kept, kept.c.id == ActionItem.session_id)
             .where(ActionItem.programme_id == programme_id, ActionItem.due_on.is_not(None),
                    ActionItem.due_on < today_, ActionItem.status.not_in(list(rules.FINISHED))))
    if community_id is not None:
        query = query.where(ActionItem.owner_community_id == community_id)
    return query


def overdue_items(programme_id: int, today_: date, community_id: int | None = None) -> list[Overdue]:
    """Every item whose due date is before `today_` (the programme's local day) and that is neither done nor
    dropped, oldest due first, in one query; `community_id` keeps the ones that community owns. Pages and the
    API show them a page at a time (`overdue_page`)."""
    return [Overdue(item, number, item.session_id) for item, number in db.session.execute(
        _overdue_query(programme_id, today_, community_id).order_by(ActionItem.due_on, ActionItem.id))]


def overdue_page(programme_id: int, today_: date, community_id: int | None = None, *, cursor=None,
                 limit: int = OVERDUE_PAGE) -> tuple[list[Overdue], int | None]:
    """One page of `overdue_items`, by keyset: `cursor` is the id of the last item of the previous page, so a
    page costs the same however many items were left undone over the years (SPEC §9). Answers the page and the
    next page's cursor (None on the last)."""
    query = _overdue_query(programme_id, today_, community_id)
    if cursor not in (None, ""):
        anchor = db.session.get(ActionItem, as_id(cursor)) if as_id(cursor) else None
        if anchor is None or anchor.programme_id != programme_id or anchor.due_on is None:
            raise ValidationFailed(_("This cursor does not belong to any page of action items."), "cursor")
        query = query.where(or_(ActionItem.due_on > anchor.due_on,
                                and_(ActionItem.due_on == anchor.due_on, ActionItem.id > anchor.id)))
    rows = [Overdue(item, number, item.session_id) for item, number in
            db.session.execute(query.order_by(ActionItem.due_on, ActionItem.id).limit(limit + 1))]
    return rows[:limit], (rows[limit - 1].item.id if len(rows) > limit else None)


def overdue_count(programme_id: int, today_: date, community_id: int | None = None) -> int:
    query = _overdue_query(programme_id, today_, community_id).with_only_columns(func.count(ActionItem.id))
    return db.session.scalar(query) or 0


@dataclass
class SessionRecord:
    session: Session
    attendance: AttendanceView
    minutes: Minutes | None
    resolutions: list[Resolution]
    actions: list[ActionItem]
    overdue: set[int]
    can_write: bool
    recordable: bool
    today: date


def session_record(session: Session, user, now: datetime | None = None) -> SessionRecord:
    now = now or clock.utcnow()
    today_ = today(user.programme, now)
    items = actions(session.id)
    return SessionRecord(
        session=session, attendance=attendance(session), minutes=minutes_of(session.id),
        resolutions=resolutions(session.id), actions=items,
        overdue={a.id for a in items if rules.is_overdue(a.due_on, a.status, today_)},
        can_write=can_write(user, session),
        recordable=session.status != schedule.SessionStatus.CANCELLED and session.number is not None
        and now >= session.starts_at, today=today_)
