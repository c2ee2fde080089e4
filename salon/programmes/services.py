"""Programme management: settings, communities, seats and their hand-over (换届)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from salon.accounts import services as accounts
from salon.audit import services as audit
from salon.clock import utcnow
from salon.errors import Conflict, NotFound, ValidationFailed, clean_text
from salon.database import as_id, lock_programme
from salon.extensions import db
from salon.programmes import signals
from salon.programmes.models import Community, Programme, Seat, SeatHolding
from salon.rows import get_scoped  # noqa: F401 - the rooms find their rows through it (salon.rows)
from salon.rules.topics import MIN_SITTING

if TYPE_CHECKING:
    from salon.accounts.models import User


def check_name(name: str, field: str = "name", limit: int = 80) -> str:
    return clean_text(name, field, limit, required=True)


# --- programmes -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Setting:
    """One configurable value of SPEC.md: its bounds, used by the page form, the API and the service."""
    name: str
    kind: type
    low: int | None = None
    high: int | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting("name", str, 1, 120),
    Setting("bureau_name", str, 0, 120),
    Setting("timezone", str, 1, 64),
    Setting("session_weekday", int, 0, 6),
    Setting("session_week", int, -1, 4),
    Setting("session_hour", int, 0, 23),
    Setting("session_minute", int, 0, 59),
    Setting("session_duration_minutes", int, 30, 600),
    Setting("default_venue", str, 0, 200),
    Setting("horizon_months", int, 1, 36),
    Setting("nominations_per_community", int, 1, 10),
    Setting("nomination_close_days", int, 1, 60),
    Setting("vote_open_days", int, 1, 60),
    Setting("vote_close_days", int, 0, 59),
    Setting("approvals_max", int, 1, 20),
    Setting("bureau_sessions", int, 0, 24),
    Setting("committee_size", int, MIN_SITTING, 9),  # fewer could never reach a majority (SPEC §4.1)
    Setting("review_period_months", int, 1, 24),
    Setting("review_threshold_pct", int, 1, 99),
    Setting("review_quorum", bool),
    Setting("checkin_hours", int, 1, 24),
    Setting("decision_deadline_days", int, 1, 30),  # SPEC §4.1: then the bureau decides
    Setting("committee_term_months", int, 0, 60),  # SPEC §4.1: 0 = until recalled
    Setting("min_ballots_published", int, 1, 50),
    Setting("guest_link_days", int, 1, 60),
    Setting("invitation_days", int, 1, 60),
)
SETTING_NAMES = tuple(s.name for s in SETTINGS)
# Changing one of these moves the free future sessions (SPEC §2 day rule).
SCHEDULE_SETTINGS = {"timezone", "session_weekday", "session_week", "session_hour", "session_minute",
                     "session_duration_minutes", "default_venue"}


def _check_setting(setting: Setting, value: Any) -> Any:
    if setting.kind is bool:
        if not isinstance(value, bool):
            raise ValidationFailed(_("Must be true or false."), setting.name)
        return value
    if setting.kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationFailed(_("Must be a whole number."), setting.name)
        if not setting.low <= value <= setting.high:
            raise ValidationFailed(
                _("Must be between %(low)d and %(high)d.", low=setting.low, high=setting.high), setting.name)
        return value
    return clean_text(value, setting.name, setting.high, required=bool(setting.low), allow_none=False)


def update_settings(programme: Programme, actor: User, values: dict[str, Any]) -> list[str]:
    """Check every value first, then change them all: a bad value changes nothing."""
    lock_programme(programme.id)  # lock order: salon/database.py
    by_name = {s.name: s for s in SETTINGS}
    clean: dict[str, Any] = {}
    for key, value in values.items():
        if key not in by_name:
            raise ValidationFailed(_("Unknown setting."), key)
        clean[key] = _check_setting(by_name[key], value)
    if "timezone" in clean:
        try:
            ZoneInfo(clean["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationFailed(_("Unknown time zone, e.g. Asia/Shanghai."), "timezone")
    if "session_week" in clean and clean["session_week"] == 0:
        raise ValidationFailed(_("Use 1 to 4, or -1 for the last week."), "session_week")
    open_days = clean.get("vote_open_days", programme.vote_open_days)
    close_days = clean.get("vote_close_days", programme.vote_close_days)
    if close_days >= open_days:
        raise ValidationFailed(_("Voting must close after it opens: fewer days before the session."),
                               "vote_close_days")
    changed = [k for k, v in clean.items() if getattr(programme, k) != v]
    for key in changed:
        setattr(programme, key, clean[key])
    if changed:
        audit.record(programme.id, actor, "programme.settings", programme,
                     changed={k: clean[k] for k in changed})
    if SCHEDULE_SETTINGS.intersection(changed):
        signals.schedule_settings_changed.send(programme, actor=actor)
    return changed


def create_programme(name: str, bureau_name: str, username: str, display_name: str,
                     password: str | None = None) -> tuple[Programme, User]:
    programme = Programme(name=check_name(name, "name", 120), bureau_name=(bureau_name or "").strip()[:120])
    db.session.add(programme)
    db.session.flush()
    user = accounts.create_user(programme, accounts.Role.BUREAU, username, display_name, password)
    audit.record(programme.id, None, "programme.create", programme, name=programme.name)
    audit.record(programme.id, None, "account.create", user, username=user.username, role="bureau")
    return programme, user


# --- communities ----------------------------------------------------------------------------

def communities(programme_id: int, active_only: bool = False) -> list[Community]:
    query = select(Community).where(Community.programme_id == programme_id)
    if active_only:
        query = query.where(Community.active.is_(True))
    return list(db.session.scalars(query.order_by(Community.rotation_position, Community.id)))


def _check_unique_name(programme_id: int, name: str, exclude_id: int | None = None) -> None:
    query = select(Community.id).where(Community.programme_id == programme_id, Community.name == name)
    if exclude_id is not None:
        query = query.where(Community.id != exclude_id)
    if db.session.scalar(query):
        raise Conflict(_("A community of this name already exists."), "name")


def _next_position(programme_id: int) -> int:
    top = db.session.scalar(select(func.max(Community.rotation_position))
                            .where(Community.programme_id == programme_id))
    return (top or 0) + 1


def add_community(programme: Programme, actor: User | None, name: str, is_sample: bool = False) -> Community:
    """A joining community goes to the end of the rotation order (SPEC §2)."""
    lock_programme(programme.id)  # lock order: salon/database.py
    name = check_name(name)
    _check_unique_name(programme.id, name)
    community = Community(programme_id=programme.id, name=name, is_sample=is_sample,
                          rotation_position=_next_position(programme.id))
    db.session.add(community)
    db.session.flush()
    db.session.add(Seat(programme_id=programme.id, community_id=community.id))
    db.session.flush()
    audit.record(programme.id, actor, "community.add", community, name=name)
    signals.community_joined.send(community, actor=actor)  # the schedule refills the future (SPEC §2)
    return community


def rename_community(community: Community, actor: User, name: str) -> Community:
    lock_programme(community.programme_id)  # lock order: salon/database.py
    name = check_name(name)
    _check_unique_name(community.programme_id, name, exclude_id=community.id)
    if name != community.name:
        old, community.name = community.name, name
        audit.record(community.programme_id, actor, "community.rename", community, old=old, new=name)
    return community


def _tell(signal, community: Community, actor, now: datetime, said: list[str] | None) -> None:
    """Send a seat's signal; what the receivers say for the person who acted goes into `said` (when given)."""
    for _receiver, lines in signal.send(community, actor=actor, now=now):
        if said is not None and isinstance(lines, list):
            said.extend(str(line) for line in lines)


def deactivate_community(community: Community, actor: User, said: list[str] | None = None) -> Community:
    """The community leaves the programme; said: receives what other rooms say of it (programmes.signals)."""
    lock_programme(community.programme_id)  # lock order: salon/database.py
    if not community.active:
        raise Conflict(_("This community is already inactive."), "active")
    community.active = False
    community.deactivated_at = utcnow()
    community.rotation_position = None
    audit.record(community.programme_id, actor, "community.deactivate", community, name=community.name)
    _tell(signals.community_left, community, actor, community.deactivated_at, said)
    return community


def reactivate_community(community: Community, actor: User) -> Community:
    """Coming back counts as joining: to the end of the order."""
    lock_programme(community.programme_id)  # lock order: salon/database.py
    if community.active:
        raise Conflict(_("This community is already active."), "active")
    community.active = True
    community.deactivated_at = None
    community.rotation_position = _next_position(community.programme_id)
    audit.record(community.programme_id, actor, "community.reactivate", community, name=community.name)
    signals.community_joined.send(community, actor=actor)  # the schedule refills the future (SPEC §2)
    return community


def get_community(community_id, programme_id: int, field: str = "community_id") -> Community:
    return get_scoped(Community, community_id, programme_id, field)


def get_seat(seat_id, programme_id: int, field: str = "seat_id") -> Seat:
    return get_scoped(Seat, seat_id, programme_id, field)


def lock_community(community_id: int) -> None:
    """Step 3 of the lock order (salon/database.py): the community row FOR UPDATE, so writes that count the
    community's rows (its nominations for a session) run one at a time."""
    db.session.execute(select(Community.id).where(Community.id == community_id).with_for_update())


def active_seats(programme_id: int) -> list[int]:
    """The ids of the programme's seats whose community is active: the voters of a topic poll, of a committee
    election, and the roll of a review."""
    return list(db.session.scalars(select(Seat.id).join(Community, Community.id == Seat.community_id).where(
        Seat.programme_id == programme_id, Community.active.is_(True))))


def all_programmes() -> list[Programme]:
    """Every programme, in id order (the ticks walk them)."""
    return list(db.session.scalars(select(Programme).order_by(Programme.id)))


def each_programme(advance: Callable[[Programme, datetime], list[str]]) -> Callable[[datetime], list[str]]:
    """A tick for `salon tick` (salon.registry) made of a room's step for one programme: `advance(programme,
    now)` for every programme in id order, in a request context (the lines it says are translated, its links
    built), each line it says prefixed by the programme's name. The one loop over the programmes of the ticks."""
    def tick(now: datetime) -> list[str]:
        with current_app.test_request_context():
            return [f"{programme.name}: {line}" for programme in all_programmes() for line in advance(programme, now)]
    return tick


def active_community_count(programme_id: int) -> int:
    return db.session.scalar(select(func.count(Community.id)).where(
        Community.programme_id == programme_id, Community.active.is_(True)))


def community_ids_among(programme_id: int, community_ids: list[int]) -> set[int]:
    """Which of community_ids are the programme's communities."""
    return set(db.session.scalars(select(Community.id).where(Community.programme_id == programme_id,
                                                             Community.id.in_(community_ids or [0]))))


def community_id_named(programme_id: int, name: str) -> int | None:
    return db.session.scalar(select(Community.id).where(Community.programme_id == programme_id,
                                                        Community.name == name))


def roll_communities(programme_id: int, also_ids: list[int]) -> list[Community]:
    """The programme's active communities and those of also_ids (inactive ones recorded on a roll), in
    rotation order."""
    return list(db.session.scalars(
        select(Community).where(Community.programme_id == programme_id,
                                or_(Community.active.is_(True), Community.id.in_(also_ids or [0])))
        .order_by(Community.rotation_position, Community.id)))


def seats_by_id(seat_ids: list[int]) -> dict[int, Seat]:
    return {seat.id: seat for seat in db.session.scalars(select(Seat).where(Seat.id.in_(seat_ids)))}


def community_names_of_seats(seat_ids: list[int]) -> dict[int, str]:
    """Seat id → its community's name, in one query."""
    if not seat_ids:
        return {}
    return dict(db.session.execute(select(Seat.id, Community.name).join(Community, Community.id == Seat.community_id)
                                   .where(Seat.id.in_(seat_ids))).all())


# The seat a user holds now, for a statement over users (aliased u) that another room writes in SQL: the API
# guard's token check on PostgreSQL (salon.accounts.auth).
SEAT_HELD_SQL = "seat_holdings AS h ON h.user_id = u.id AND h.ended_at IS NULL"


def with_seat_held(query, user_id, *conditions):
    """query (another room's select over users) outer-joined to the seat its column `user_id` names holds now
    (when `conditions` hold too), selecting the seat's id after the query's columns, in one statement."""
    return query.add_columns(SeatHolding.seat_id).outerjoin(
        SeatHolding, and_(SeatHolding.user_id == user_id, SeatHolding.ended_at.is_(None), *conditions))


def sitting_holdings():
    """The seats held now in communities that have not left, as (seat_id, user_id): a subquery for a room to
    join its rows to in one statement (the committee's sitting members)."""
    return (select(SeatHolding.seat_id, SeatHolding.user_id).join(Seat, Seat.id == SeatHolding.seat_id)
            .join(Community, Community.id == Seat.community_id)
            .where(SeatHolding.ended_at.is_(None), Community.active.is_(True)).subquery())


def holders_at(programme_id: int, community_ids: list[int], moment: datetime) -> dict[int, tuple[int, int | None]]:
    """Community id → (seat id, the user holding the seat at `moment`), in one query."""
    rows = db.session.execute(
        select(Seat.community_id, Seat.id, SeatHolding.user_id)
        .outerjoin(SeatHolding, and_(SeatHolding.seat_id == Seat.id, SeatHolding.started_at <= moment,
                                     or_(SeatHolding.ended_at.is_(None), SeatHolding.ended_at > moment)))
        .where(Seat.programme_id == programme_id, Seat.community_id.in_(community_ids or [0]))).all()
    out: dict[int, tuple[int, int | None]] = {}
    for community_id, seat_id, user_id in rows:
        if community_id not in out or user_id is not None:
            out[community_id] = (seat_id, user_id)
    return out


def current_holding(seat_id: int) -> SeatHolding | None:
    return db.session.scalar(select(SeatHolding).where(SeatHolding.seat_id == seat_id,
                                                       SeatHolding.ended_at.is_(None)))


def holders_by_community(programme_id: int) -> dict[int, User]:
    """Community id → the secretary holding its seat now, in one query."""
    rows = db.session.execute(
        accounts.with_users(select(Seat.community_id).join(SeatHolding, SeatHolding.seat_id == Seat.id)
                            .where(Seat.programme_id == programme_id, SeatHolding.ended_at.is_(None)),
                            SeatHolding.user_id)
    ).all()
    return {community_id: user for community_id, user in rows}


def community_counts(programme_id: int):
    """Two scalar subqueries, to select along with others in one statement: the programme's active communities,
    and those of them whose seat no secretary holds now."""
    held = (select(Seat.id).join(SeatHolding, SeatHolding.seat_id == Seat.id)
            .where(Seat.community_id == Community.id, SeatHolding.ended_at.is_(None)).exists())
    active = (Community.programme_id == programme_id, Community.active.is_(True))
    return (select(func.count(Community.id)).where(*active).scalar_subquery(),
            select(func.count(Community.id)).where(*active, ~held).scalar_subquery())


def seat_ids_by_community(programme_id: int) -> dict[int, int]:
    """Community id → its seat's id, in one query (API clients name seats in elections and the roll)."""
    return dict(db.session.execute(select(Seat.community_id, Seat.id).where(Seat.programme_id == programme_id)).all())


def seat_of(user: User) -> Seat | None:
    return db.session.scalar(
        select(Seat).join(SeatHolding, SeatHolding.seat_id == Seat.id)
        .where(SeatHolding.user_id == user.id, SeatHolding.ended_at.is_(None))
    )


def bureau_or_chair(user, chair_community_id: int | None, seat: Seat | None = None) -> bool:
    """The bureau, or the secretary of the community that chairs: a session's agenda, guests, outcomes and guest
    links (SPEC §3.4, §6, §7), a review's roll (SPEC §4). seat: the secretary's, when the caller has it."""
    if user.is_bureau:
        return True
    if seat is None and user.is_secretary:
        seat = seat_of(user)
    return seat is not None and chair_community_id is not None and seat.community_id == chair_community_id


def seat_id_of(user: User) -> int | None:
    """The seat a secretary holds now (the one that votes), or None for anyone else."""
    seat = seat_of(user) if user.is_secretary else None
    return seat.id if seat else None


def hand_over_seat(community: Community, actor: User | None, username: str, display_name: str,
                   password: str | None = None, said: list[str] | None = None) -> tuple[User, str | None]:
    """换届: the seat passes to a new secretary; the old holder's account closes; history stays.

    Returns the new secretary and their invitation token (None when a password was set directly,
    as the demo loader does). said: receives what other rooms say of it (programmes.signals)."""
    lock_programme(community.programme_id)  # lock order: salon/database.py
    seat = community.seat
    now = utcnow()
    new_user = accounts.create_user(community.programme, accounts.Role.SECRETARY, username, display_name, password)
    previous = current_holding(seat.id)
    if previous is not None:
        previous.ended_at = now
        accounts.deactivate(previous.user)
    db.session.add(SeatHolding(programme_id=community.programme_id, seat_id=seat.id,
                               user_id=new_user.id, started_at=now))
    db.session.flush()
    audit.record(community.programme_id, actor, "seat.handover", community,
                 community=community.name, to=new_user.username,
                 previous=previous.user.username if previous else None)
    _tell(signals.seat_handed_over, community, actor, now, said)
    token = None if password else accounts.invite(new_user, actor)
    return new_user, token


def seat_history(community: Community) -> list[SeatHolding]:
    return list(db.session.scalars(
        select(SeatHolding).where(SeatHolding.seat_id == community.seat.id)
        .order_by(SeatHolding.started_at.desc(), SeatHolding.id.desc())
    ))


def get_programme(programme_id: int) -> Programme:
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise NotFound(_("Not found."), "programme")
    return programme
