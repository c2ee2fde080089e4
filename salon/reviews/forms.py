"""Forms of the review pages: open a review (its reason when early, the confirmation when it would judge no
topic), take a seat off the roll, and confirm the close."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from salon.forms import Form
from salon.reviews.models import REASON_MAX


class OpenReviewForm(Form):
    reason = TextAreaField(_l("Why now (needed when the review opens more than 14 days before it falls due)"),
                           validators=[Optional(), Length(max=REASON_MAX)])
    confirm_empty = BooleanField(_l("Open it anyway: there is no topic to judge, only the overall question"))


class RollOffForm(Form):
    seat_id = SelectField(_l("Community"), coerce=int, validators=[DataRequired()])
    reason = TextAreaField(_l("Why it comes off the roll"), validators=[DataRequired(), Length(max=REASON_MAX)])


class CloseReviewForm(Form):
    understood = BooleanField(_l("I understand: check-in ends, voting ends and the rule is applied; this cannot be "
                                 "undone"), validators=[DataRequired()])
