"""iCalendar (RFC 5545) feeds of the schedule: stable UIDs, SEQUENCE, STATUS:CANCELLED, the
programme's time zone as VTIMEZONE/TZID, so calendar apps update events in place."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Callable
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from icalendar import Calendar, Event, Timezone

from salon.schedule.models import Session, SessionStatus

if TYPE_CHECKING:
    from salon.programmes.models import Programme


def uid(session: Session) -> str:
    return f"salon-session-{session.id}@programme-{session.programme_id}.salon"


def _summary(session: Session, programme: Programme) -> str:
    chair = session.chair.name if session.chair else _("no chair yet")
    if session.number:
        return _("No. %(number)d %(programme)s — chair: %(chair)s", number=session.number,
                 programme=programme.name, chair=chair)
    return _("%(programme)s — chair: %(chair)s", programme=programme.name, chair=chair)


def _description(session: Session, topic: str | None, link: str | None) -> str:
    lines = [_("Topic: %(title)s", title=topic) if topic else _("Topic: not decided yet")]
    if link:
        lines.append(link)
    return "\n".join(lines)


def build(programme: Programme, sessions: list[Session], name: str,
          topics: dict[int, tuple[str, datetime]] | None = None, link: Callable[[Session], str] | None = None) -> bytes:
    """The feed. `topics` (session id → decided title and when) puts each session's topic into its event; `link`
    gives the session's page, put into the event as its URL and in its description."""
    topics = topics or {}
    zone = ZoneInfo(programme.timezone)
    cal = Calendar()
    cal.add("prodid", "-//Salon//Community governance salon//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", programme.timezone)
    cal.add_component(Timezone.from_tzid(programme.timezone))
    for session in sessions:
        start = session.starts_at.replace(tzinfo=timezone.utc).astimezone(zone)
        event = Event()
        topic, decided_at = topics.get(session.id, (None, None))
        # A decided topic changes the event: its moment counts as a modification, so calendars refresh it.
        changed = max(session.updated_at, decided_at) if decided_at else session.updated_at
        event.add("uid", uid(session))
        event.add("dtstamp", changed.replace(tzinfo=timezone.utc))
        event.add("last-modified", changed.replace(tzinfo=timezone.utc))
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=session.duration_minutes))
        event.add("summary", _summary(session, programme))
        if session.venue:
            event.add("location", session.venue)
        url = link(session) if link else None
        event.add("description", _description(session, topic, url))
        if url:
            event.add("url", url)
        event.add("sequence", session.sequence)
        event.add("status", "CANCELLED" if session.status == SessionStatus.CANCELLED else "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()
