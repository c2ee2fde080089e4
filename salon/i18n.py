"""Language: Chinese (zh_Hans) first, English second; remembered per user, or per browser before log-in."""
from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_time, get_locale, lazy_gettext
from flask_login import current_user
from markupsafe import Markup, escape

from salon.extensions import babel

LANGUAGE_NAMES = {"zh_Hans": "中文", "en": "English"}


def select_locale() -> str:
    if not has_request_context():
        return current_app.config.get("SALON_DEFAULT_LOCALE", "zh_Hans")
    user = g.get("api_user") or current_user
    if user and user.is_authenticated and user.locale:
        return user.locale
    chosen = session.get("locale")
    if chosen in LANGUAGE_NAMES:
        return chosen
    if request.path.startswith("/api/"):
        best = request.accept_languages.best_match(["zh", "en"])
        if best == "en":
            return "en"
    return current_app.config.get("SALON_DEFAULT_LOCALE", "zh_Hans")


def select_timezone() -> str:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.programme.timezone
    return "Asia/Shanghai"


def session_time(moment) -> str:
    """A session's start as people say it: 2026年12月31日星期四 14:30 / Thursday, December 31, 2026 2:30 PM."""
    return f"{format_date(moment, 'full')} {format_time(moment, 'short')}"


def bdi(value):
    """A name typed by someone, isolated from the text around it (`{{ community.name|bdi }}`): a right-to-left
    name or a stray U+202E cannot reorder the sentence it sits in. Nothing stays nothing (`|bdi or '—'`).
    Only for element content: <title>, <option>, <textarea> and attribute values cannot hold markup."""
    if value is None or value == "":
        return value
    return Markup("<bdi>%s</bdi>") % value


def isolate(value):
    """The same isolation for text that cannot hold markup (<title>, <option>, a confirmation's data-confirm):
    the name between U+2068 FIRST STRONG ISOLATE and U+2069 POP DIRECTIONAL ISOLATE, which browsers and dialogs
    treat as <bdi> treats its content. Never for a value a form sends back (an input's value, a <textarea>)."""
    if value is None or value == "":
        return value
    return f"\u2068{value}\u2069"


def with_names(sentence: str, **values) -> Markup:
    """A sentence from Python that names someone, as markup for a page: `sentence` is the translation asked for
    without its values (`_("%(name)s joined.")`), each value is escaped, and names come wrapped by bdi()."""
    return escape(sentence) % values


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)

    app.jinja_env.globals.update(session_time=session_time, format_date=format_date,
                                 format_datetime=format_datetime, format_time=format_time)
    app.add_template_filter(bdi, "bdi")
    app.add_template_filter(isolate, "isolate")

    @app.context_processor
    def language_names():
        return {"LANGUAGE_NAMES": LANGUAGE_NAMES, "get_locale": get_locale, "format_date": format_date,
                "format_datetime": format_datetime, "format_time": format_time, "session_time": session_time}


_l = lazy_gettext
