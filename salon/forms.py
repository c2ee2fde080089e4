"""Shared form pieces: the base of every form, the empty form for POST-only buttons, and turning domain errors
into field errors."""
from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectMultipleField
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget

from salon.errors import DomainError, not_the_forms, text_error


def _inputs(fields):
    """Every input of a form, nested rows (FieldList, FormField) included."""
    for field in fields:
        if hasattr(field, "entries"):
            yield from _inputs(field.entries)
        elif hasattr(field, "form") and isinstance(field.form, FlaskForm):
            yield from _inputs(field.form)
        else:
            yield field


class Form(FlaskForm):
    """Every page's form. Besides its own validators, each input is checked for text no database can store
    (NUL and other control characters): the page answers with the error under that input, never a 500."""

    text_refused = False  # set by validate: some input holds text no database can store

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in _inputs(self):
            problems = {text_error(value) for value in field.raw_data or () if isinstance(value, str)}
            problems -= {None, *field.errors}  # a nested row's form may have said so already
            if problems:
                field.errors = list(field.errors) + sorted(problems)
                self.text_refused = True
                valid = False
        return valid


class EmptyForm(Form):
    """A POST-only button: nothing but the CSRF token."""


class ConfirmForm(Form):
    """An action that cannot be undone (templates/macros.html `confirm_button`): the box must be ticked, so the
    action is confirmed even without JavaScript; with it, the form's data-confirm asks in words as well."""

    understood = BooleanField(_l("I understand: this cannot be undone"), validators=[DataRequired()])


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes (e.g. the communities present at a session)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def show_error(form: FlaskForm, exc: DomainError) -> None:
    """Put the service's message under the field it names, or at the top of the page (a 404 or 403 goes on to
    the error handler: salon.errors.not_the_forms)."""
    not_the_forms(exc)
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [exc.message]
    else:
        flash(exc.message, "error")
        # Still an error of the form: the page answers 422, and the request's transaction rolls back.
        form.form_errors = list(form.form_errors) + [exc.message]


def flash_error(exc: DomainError) -> None:
    """A button's refusal, said at the top of the page it returns to (a 404 or 403 goes on to the error handler)."""
    not_the_forms(exc)
    flash(exc.message, "error")
