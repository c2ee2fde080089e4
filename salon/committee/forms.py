"""Forms of the committee pages: nominate a candidate, extend standing, open the vote, record a pick."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from salon.committee.services import EXTEND_MAX_DAYS, NOTE_MAX
from salon.forms import Form
from salon.topics import limits as topic_limits


class CandidateForm(Form):
    seat_id = SelectField(_l("Secretary"), coerce=int, validators=[DataRequired()],
                          description=_l("Your own community: you stand at once. Another: they stand once they accept."))


class ExtendForm(Form):
    days = IntegerField(_l("Extend standing by (days)"), validators=[DataRequired(), NumberRange(1, EXTEND_MAX_DAYS)],
                        default=7, render_kw={"inputmode": "numeric"})


class OpenVoteForm(Form):
    fewer_ok = BooleanField(_l("Open even with fewer candidates than seats"))


class PickForm(Form):
    nomination_id = RadioField(_l("Your pick"), coerce=int, validators=[DataRequired()])
    rationale = TextAreaField(_l("Rationale"), validators=[Optional(), Length(max=topic_limits.RATIONALE.max)],
                              description=_l("Mandatory when the pick is not the most approved nomination."))


class OpenElectionForm(Form):
    reason = HiddenField()
    note = TextAreaField(_l("Why now"), validators=[Optional(), Length(max=NOTE_MAX)],
                         description=_l("Required for an early election: shown on the committee page and in the audit "
                                        "log."))
