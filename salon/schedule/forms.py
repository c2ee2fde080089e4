"""Forms of the schedule pages."""
from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from salon.forms import Form
from salon.schedule.services import MAX_MONTHS


class GenerateForm(Form):
    months = IntegerField(_l("Months to plan"), validators=[InputRequired(), NumberRange(1, MAX_MONTHS)],
                          render_kw={"inputmode": "numeric"},
                          description=_l("Held, swapped and locked sessions stay as they are."))


class BlackoutForm(Form):
    blackout_months = StringField(_l("Months without a session"), validators=[Optional(), Length(max=1200)],
                                  description=_l("YYYY-MM, separated by spaces or commas, e.g. 2027-02"))


class EditSessionForm(Form):
    date = DateField(_l("Date"), validators=[InputRequired()])
    time = TimeField(_l("Start time"), validators=[InputRequired()])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=200)])


class BureauSwapForm(Form):
    other_session_id = SelectField(_l("Swap chairs with"), coerce=int, validate_choice=False)


class AskSwapForm(Form):
    other_session_id = SelectField(_l("Swap with"), coerce=int, validate_choice=False)
    message = TextAreaField(_l("Message to the other chair"), validators=[Optional(), Length(max=300)],
                            render_kw={"rows": 3})


class FeedForm(Form):
    community_id = SelectField(_l("Calendar"), validate_choice=False)
