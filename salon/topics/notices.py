"""The topics room's notices for the county's chat group (salon.home.notices): nominations open, voting open,
topic decided."""
from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _

from salon.home import notices
from salon.i18n import session_time


def _when(moment) -> str:
    return session_time(moment)


def _nominations_open(programme, session, deadline, link) -> str:
    return _("[%(programme)s] Nominations for session %(n)d (%(when)s) are open. Each community may nominate "
             "up to %(k)d topics by %(deadline)s: %(link)s",
             programme=programme.name, n=session.number, when=_when(session.starts_at),
             k=programme.nominations_per_community, deadline=_when(deadline), link=link)


def _voting_open(programme, session, deadline, link) -> str:
    return _("[%(programme)s] Voting on the topic of session %(n)d is open until %(deadline)s. Secret ballot: "
             "each secretary approves up to %(k)d nominations. Vote here: %(link)s",
             programme=programme.name, n=session.number, deadline=_when(deadline),
             k=programme.approvals_max, link=link)


def _topic_decided(programme, session, title, link, deadline=None) -> str:
    return _("[%(programme)s] The topic of session %(n)d is decided: “%(title)s”. The session is on %(when)s "
             "at %(venue)s. Agenda and details: %(link)s",
             programme=programme.name, n=session.number, title=title, when=_when(session.starts_at),
             venue=session.venue or _("the usual venue"), link=link)


def init_app(app: Flask) -> None:
    notices.register(app, "nominations_open", _nominations_open)
    notices.register(app, "voting_open", _voting_open)
    notices.register(app, "topic_decided", _topic_decided)
