"""Copy-ready notices for the county's chat group: at each stage of a session (nominations open, voting open,
topic decided, and what other rooms add: packet ready, review check-in …) a short Chinese text with the deep
link and the deadline, which the bureau copies into the group.

A room adds a stage with `register(stage, builder)`; the builder takes keyword arguments and returns the text in
the current locale. `notice(stage, **kw)` renders it in Chinese whatever the bureau's own language, because the
group reads Chinese."""
from __future__ import annotations

from typing import Callable

from flask_babel import force_locale, gettext as _

from salon.i18n import session_time

GROUP_LOCALE = "zh_Hans"
_builders: dict[str, Callable[..., str]] = {}


def register(stage: str, builder: Callable[..., str]) -> None:
    _builders[stage] = builder


def stages() -> list[str]:
    return sorted(_builders)


def notice(stage: str, **kw) -> str:
    """The notice for `stage` in the group's language; kw: what the stage's builder needs."""
    with force_locale(GROUP_LOCALE):
        return _builders[stage](**kw)


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


register("nominations_open", _nominations_open)
register("voting_open", _voting_open)
register("topic_decided", _topic_decided)
