"""Forms of the topic pages: nominate, decide, the agenda and guests (the vote page is the ballot engine's)."""
from flask_babel import lazy_gettext as _l
from wtforms import FieldList, FormField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from salon.forms import Form
from salon.topics import limits
from salon.topics.models import HOPED_MAX, PROBLEM_MAX, RATIONALE_MAX, TITLE_MAX, UNITS_MAX


class NominationForm(Form):
    title = StringField(_l("Topic"), validators=[DataRequired(), Length(max=TITLE_MAX)],
                        description=_l("At most %(n)d characters.", n=TITLE_MAX))
    problem = TextAreaField(_l("The problem and real cases behind it"),
                            validators=[DataRequired(), Length(max=PROBLEM_MAX)])
    hoped_result = TextAreaField(_l("The result hoped for"), validators=[Optional(), Length(max=HOPED_MAX)])
    outside_units = StringField(_l("Outside units that should attend"),
                                validators=[Optional(), Length(max=UNITS_MAX)],
                                description=_l("e.g. 县医保局"))

    def values(self) -> dict:
        return {name: getattr(self, name).data or "" for name in
                ("title", "problem", "hoped_result", "outside_units")}


class DecideForm(Form):
    nomination_id = RadioField(_l("The topic"), coerce=int, validators=[DataRequired()])
    rationale = TextAreaField(_l("Rationale"), validators=[Optional(), Length(max=RATIONALE_MAX)],
                              description=_l("Mandatory when the pick is not the most approved nomination."))


class AgendaRowForm(Form):
    class Meta:
        csrf = False

    title = StringField(_l("Item"), validators=[Optional(), Length(max=limits.AGENDA_TITLE.max)])
    lead = StringField(_l("Led by"), validators=[Optional(), Length(max=limits.AGENDA_LEAD.max)])
    minutes = IntegerField(_l("Minutes"), validators=[Optional(), NumberRange(limits.ITEM_MINUTES_MIN,
                                                                              limits.ITEM_MINUTES_MAX)],
                           render_kw={"inputmode": "numeric"})
    note = StringField(_l("Note"), validators=[Optional(), Length(max=limits.AGENDA_NOTE.max)])


class AgendaForm(Form):
    items = FieldList(FormField(AgendaRowForm), min_entries=1, max_entries=limits.AGENDA_ITEMS_MAX)

    def values(self) -> list[dict]:
        rows = []
        for entry in self.items:
            data = entry.form.data
            if (data.get("title") or "").strip():
                rows.append({"title": data["title"], "lead": data.get("lead") or "", "note": data.get("note") or "",
                             "minutes": data.get("minutes")})
        return rows


class GuestForm(Form):
    name = StringField(_l("Guest's name"), validators=[DataRequired(), Length(max=limits.GUEST_NAME.max)])
    unit = StringField(_l("Unit"), validators=[DataRequired(), Length(max=limits.GUEST_UNIT.max)],
                       description=_l("e.g. 县医保局"))
    contact = StringField(_l("Contact"), validators=[Optional(), Length(max=limits.GUEST_CONTACT.max)],
                          description=_l("Phone or e-mail, optional."))
