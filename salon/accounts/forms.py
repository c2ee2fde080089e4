from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from salon.accounts.services import MIN_PASSWORD
from salon.forms import Form


class LoginForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=40)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class SetPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD, max=200)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


class LanguageForm(Form):
    locale = HiddenField(validators=[DataRequired()])
    next = HiddenField()


class TokenForm(Form):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=80)],
                       description=_l("What will use it, e.g. “my spreadsheet”."))


class InviteColleagueForm(Form):
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=40)],
                           description=_l("Lower-case letters, digits, dots, dashes or underscores."),
                           render_kw={"autocapitalize": "none"})
