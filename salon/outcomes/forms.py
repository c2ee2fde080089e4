"""Forms of the after-session record: attendance, minutes, resolutions, action items and their updates."""
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from salon.forms import Form, MultiCheckboxField
from salon.outcomes import limits
from salon.outcomes.services import STATUS_LABELS


def _statuses():
    return [(key, label) for key, label in STATUS_LABELS.items()]


class AttendanceForm(Form):
    community_ids = MultiCheckboxField(_l("Communities present"), coerce=int, validate_choice=True)
    guest_ids = MultiCheckboxField(_l("Guests present"), coerce=int, validate_choice=True)


class MinutesForm(Form):
    summary = TextAreaField(_l("Minutes summary"), validators=[Optional(), Length(max=limits.MINUTES_MAX)])


class ResolutionForm(Form):
    text = TextAreaField(_l("Resolution"), validators=[DataRequired(), Length(max=limits.RESOLUTION_MAX)])


class ActionForm(Form):
    what = StringField(_l("What is to be done"), validators=[DataRequired(), Length(max=limits.ACTION_WHAT_MAX)])
    owner_unit = StringField(_l("Owner unit"), validators=[DataRequired(), Length(max=limits.OWNER_UNIT_MAX)],
                             description=_l("A community's name, or an outside unit such as 县医保局."))
    due_on = DateField(_l("Due date"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=_statuses, default="open")

    def values(self) -> dict:
        return {"what": self.what.data, "owner_unit": self.owner_unit.data, "due_on": self.due_on.data,
                "status": self.status.data}


class UpdateForm(Form):
    status = SelectField(_l("Status"), choices=_statuses)
    due_on = DateField(_l("Due date"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=limits.UPDATE_NOTE_MAX)])

    def values(self) -> dict:
        values = {"status": self.status.data, "note": self.note.data or ""}
        if "due_on" in self:
            values["due_on"] = self.due_on.data
        return values
