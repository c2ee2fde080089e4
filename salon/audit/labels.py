"""What each audit action is called on the page (the stored action key stays English and stable)."""
from flask_babel import lazy_gettext as _l

ACTIONS = {
    "account.create": _l("Account created"),
    "account.reset": _l("Account reset"),
    "agenda.edit": _l("Agenda edited"),
    "community.add": _l("Community added"),
    "community.deactivate": _l("Community deactivated"),
    "community.reactivate": _l("Community reactivated"),
    "community.rename": _l("Community renamed"),
    "feed.create": _l("Calendar link created"),
    "feed.revoke": _l("Calendar link revoked"),
    "guest.add": _l("Guest added"),
    "guest.remove": _l("Guest removed"),
    "invitation.accept": _l("Invitation accepted"),
    "invitation.issue": _l("Invitation issued"),
    "poll.close": _l("Voting closed"),
    "poll.open": _l("Voting opened"),
    "programme.create": _l("Programme created"),
    "programme.settings": _l("Settings changed"),
    "rotation.draw": _l("Rotation drawn by lot"),
    "rotation.reorder": _l("Rotation reordered"),
    "schedule.blackouts": _l("Blackout months changed"),
    "schedule.generate": _l("Schedule generated"),
    "seat.handover": _l("Seat handed over"),
    "session.cancel": _l("Session cancelled"),
    "session.edit": _l("Session changed"),
    "session.lock": _l("Session locked"),
    "session.unlock": _l("Session unlocked"),
    "swap.accept": _l("Swap accepted"),
    "swap.bureau": _l("Chairs swapped by the bureau"),
    "swap.decline": _l("Swap declined"),
    "swap.request": _l("Swap requested"),
    "swap.withdraw": _l("Swap request withdrawn"),
    "token.create": _l("API token created"),
    "token.revoke": _l("API token revoked"),
    "topic.decide": _l("Topic decided"),
}


def label(action: str):
    return ACTIONS.get(action, action)
