"""iCalendar (RFC 5545) feeds of the schedule: stable UIDs, SEQUENCE, STATUS:CANCELLED, the
programme's time zone as VTIMEZONE/TZID, so calendar apps update events in place."""
from __future__ import annotations

from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from icalendar import Calendar, Event, Timezone

from salon.programmes.models import Programme
from salon.schedule.models import Session, SessionStatus


def uid(session: Session) -> str:
    return f"salon-session-{session.id}@programme-{session.programme_id}.salon"


def _summary(session: Session, programme: Programme) -> str:
    chair = session.chair.name if session.chair else _("no chair yet")
    if session.number:
        return _("No. %(number)d %(programme)s — chair: %(chair)s", number=session.number,
                 programme=programme.name, chair=chair)
    return _("%(programme)s — chair: %(chair)s", programme=programme.name, chair=chair)


def build(programme: Programme, sessions: list[Session], name: str) -> bytes:
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
        event.add("uid", uid(session))
        event.add("dtstamp", session.updated_at.replace(tzinfo=timezone.utc))
        event.add("last-modified", session.updated_at.replace(tzinfo=timezone.utc))
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=session.duration_minutes))
        event.add("summary", _summary(session, programme))
        if session.venue:
            event.add("location", session.venue)
        event.add("sequence", session.sequence)
        event.add("status", "CANCELLED" if session.status == SessionStatus.CANCELLED else "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()
