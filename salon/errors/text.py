"""Text no database can store: NUL and other control characters, lone UTF-16 surrogates. One check for every
form field, API body and service."""
from __future__ import annotations

import re

from flask import current_app, g, render_template, request
from flask_babel import gettext as _

from salon.errors.answers import wants_json
from salon.errors.domain import ValidationFailed
from salon.extensions import db


def _is_control(text: str) -> bool:
    return any(ord(c) < 32 and c not in "\t\n\r" for c in text)


def _is_lone_surrogate(text: str) -> bool:
    """Half of a UTF-16 pair (JSON's "\\ud800" alone): no database can store it as text."""
    return any("\ud800" <= c <= "\udfff" for c in text)


def _first_control_character(value, name: str, bad=_is_control) -> str | None:
    """The input holding a bad string, named like the API's field errors: `title`, `items.0.title`."""
    def child(key) -> str:
        return str(key) if name == "body" else f"{name}.{key}"

    if isinstance(value, str):
        return name if bad(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _first_control_character(item, child(key), bad) or _first_control_character(key, child(key), bad)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            # A list of strings is one input (a form field sent twice, a list of months); a list of objects
            # names its items: items.0.title.
            found = _first_control_character(item, f"{name}.{index}" if isinstance(item, (dict, list)) else name, bad)
            if found:
                return found
    return None


# In JSON a control character can only arrive escaped (\u0000 …); tab, newline and return are fine.
_JSON_CONTROL = re.compile(rb"\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])")
_JSON_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def text_error(value: str) -> str | None:
    """Why a string cannot be stored as text, or None: the one check that every form field and body share."""
    if _is_control(value):
        return _("Control characters are not allowed.")
    if _is_lone_surrogate(value):
        return _("Not valid text: a lone UTF-16 surrogate.")
    return None


def clean_text(value, field: str, limit: int, required: bool = False, *, allow_none: bool = True,
               required_message: str | None = None) -> str:
    """The one check of a text field a service is given: text (None counts as empty unless `allow_none` is
    off), stripped, present when `required`, at most `limit` characters, and storable (text_error). Page forms
    and API schemas check the same limits first, from the same constants, and every request's text is checked
    for what no database can store before a view runs (reject_control_characters)."""
    if value is None and allow_none:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(_("Must be text."), field)
    value = value.strip()
    if required and not value:
        raise ValidationFailed(required_message or _("This field is required."), field)
    if len(value) > limit:
        raise ValidationFailed(_("At most %(n)d characters.", n=limit), field)
    problem = text_error(value)
    if problem:
        raise ValidationFailed(problem, field)
    return value


def reject_control_characters() -> None:
    """NUL and other control characters cannot be stored (PostgreSQL refuses NUL): say which field.

    A page's form is answered by its own page, the error under the field (salon.forms.Form checks every
    field); here the input is only noted, and `refuse_unchecked_text` stops a request whose page did not."""
    sources = [request.args.to_dict(flat=False)] if request.args else []
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = request.form.to_dict(flat=False)
        if wants_json():
            sources.append(form)
        else:
            g.bad_text_field = _first_control_character(form, "body") or _first_control_character(
                form, "body", _is_lone_surrogate)
    # Cheap look at the raw body first; parse only when it may hold one (the ballot path stays fast).
    if request.is_json:
        raw = request.get_data(cache=True)
        if _JSON_CONTROL.search(raw) or _JSON_SURROGATE.search(raw):
            sources.append(request.get_json(silent=True))
    for source in sources:
        field = _first_control_character(source, "body")
        if field:
            raise ValidationFailed(_("Control characters are not allowed."), field)
        field = _first_control_character(source, "body", _is_lone_surrogate)
        if field:
            raise ValidationFailed(_("Not valid text: a lone UTF-16 surrogate."), field)


def refuse_unchecked_text(response):
    """A page that accepted a form with a control character in an input no form field checked (a field the
    page does not know): nothing of it is kept, and the answer names the input."""
    field = g.get("bad_text_field")
    if field and response.status_code < 400:
        db.session.rollback()
        message = f"{field}: {_('Control characters are not allowed.')}"
        return current_app.make_response((render_template("errors/error.html", status=422, message=message),
                                          422))
    return response
