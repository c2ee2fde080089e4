from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from salon.forms import Form
from salon.programmes.services import SETTINGS

WEEKDAYS = [SelectChoice(0, _l("Monday")), SelectChoice(1, _l("Tuesday")), SelectChoice(2, _l("Wednesday")),
            SelectChoice(3, _l("Thursday")), SelectChoice(4, _l("Friday")), SelectChoice(5, _l("Saturday")),
            SelectChoice(6, _l("Sunday"))]
WEEKS = [SelectChoice(1, _l("first")), SelectChoice(2, _l("second")), SelectChoice(3, _l("third")),
         SelectChoice(4, _l("fourth")), SelectChoice(-1, _l("last"))]

LABELS = {
    "name": (_l("Programme name"), None),
    "bureau_name": (_l("Bureau"), _l("e.g. 富平县民政局")),
    "timezone": (_l("Time zone"), _l("e.g. Asia/Shanghai")),
    "session_weekday": (_l("Session weekday"), None),
    "session_week": (_l("Week of the month"), None),
    "session_hour": (_l("Start hour"), None),
    "session_minute": (_l("Start minute"), None),
    "session_duration_minutes": (_l("Length of a session (minutes)"), None),
    "default_venue": (_l("Default venue"), None),
    "horizon_months": (_l("Schedule horizon (months)"), None),
    "nominations_per_community": (_l("Nominations per community and session"), None),
    "nomination_close_days": (_l("Nominations close (days before the session)"), None),
    "vote_open_days": (_l("Voting opens (days before the session)"), None),
    "vote_close_days": (_l("Voting closes (days before the session)"), None),
    "approvals_max": (_l("Most nominations one ballot may approve"), None),
    "bureau_sessions": (_l("Sessions decided by the bureau"), None),
    "committee_size": (_l("Committee size"), None),
    "review_period_months": (_l("Months between reviews"), None),
    "review_threshold_pct": (_l("Re-election threshold (percent of those present who oppose)"), None),
    "review_quorum": (_l("A review needs more than half of the active communities present"), None),
    "checkin_hours": (_l("Hours a check-in code stays valid"), None),
    "decision_deadline_days": (_l("Days the committee has to decide after the vote closes"),
                               _l("Then the bureau decides, and the decision says the committee missed the deadline.")),
    "committee_term_months": (_l("Committee term (months)"),
                              _l("0: until a review recalls it. Otherwise the next election is prompted a month "
                                 "before the end.")),
    "min_ballots_published": (_l("Fewest ballots for per-option counts to be published"), None),
    "guest_link_days": (_l("Days a guest's packet link stays valid"), None),
    "invitation_days": (_l("Days an invitation link stays valid"), None),
}


def _field(setting):
    label, description = LABELS[setting.name]
    kw = {"description": description} if description else {}
    if setting.name == "session_weekday":
        return SelectField(label, choices=WEEKDAYS, coerce=int, **kw)
    if setting.name == "session_week":
        return SelectField(label, choices=WEEKS, coerce=int, **kw)
    if setting.kind is bool:
        return BooleanField(label, **kw)
    if setting.kind is int:
        return IntegerField(label, validators=[InputRequired(), NumberRange(setting.low, setting.high)],
                            render_kw={"inputmode": "numeric"}, **kw)
    validators = [DataRequired()] if setting.low else [Optional()]
    return StringField(label, validators=validators + [Length(max=setting.high)], **kw)


# Settings of features that have not landed yet (the committee, reviews, guest packet links): the page shows only
# what the service does. A room that lands takes its names out of this set.
NOT_YET_BUILT: frozenset[str] = frozenset()  # every setting's feature exists (committee, reviews, guest links)
SHOWN = tuple(s.name for s in SETTINGS if s.name not in NOT_YET_BUILT)

SettingsForm = type("SettingsForm", (Form,), {s.name: _field(s) for s in SETTINGS if s.name in SHOWN})


class CommunityForm(Form):
    name = StringField(_l("Community name"), validators=[DataRequired(), Length(max=80)])


class HandoverForm(Form):
    display_name = StringField(_l("New secretary's name"), validators=[DataRequired(), Length(max=80)])
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=40)],
                           description=_l("Lower-case letters, digits, dots, dashes or underscores."),
                           render_kw={"autocapitalize": "none"})
