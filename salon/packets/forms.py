"""The form that makes a guest link to a packet."""
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length, Optional

from salon.forms import Form
from salon.outcomes import limits


class GuestLinkForm(Form):
    label = StringField(_l("For whom"), validators=[Optional(), Length(max=limits.GUEST_LINK_LABEL_MAX)],
                        description=_l("e.g. 县医保局 王科长 — so you know which link to revoke."))
