"""Pages: programme settings, the communities and their seats."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from salon.accounts.auth import bureau_required, login_required
from salon import secrecy
from salon.errors import DomainError
from salon.forms import EmptyForm, show_error
from salon.i18n import bdi, with_names
from salon.programmes import services
from salon.programmes.forms import SHOWN, CommunityForm, HandoverForm, SettingsForm
from salon.programmes.models import Community

bp = Blueprint("programmes", __name__)


def _community(community_id) -> Community:
    return services.get_scoped(Community, community_id, current_user.programme_id, "community_id")


@bp.route("/programme/settings", methods=["GET", "POST"])
@bureau_required
def settings():
    programme = current_user.programme
    form = SettingsForm(obj=programme)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in SHOWN}
        try:
            changed = services.update_settings(programme, current_user, values)
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Settings saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("programmes.settings"))
    return render_template("programmes/settings.html", form=form, shown=SHOWN,
                           secrecy=secrecy.said(secrecy.check())), 422 if form.errors else 200


@bp.route("/communities", methods=["GET", "POST"])
@login_required
def communities():
    form = CommunityForm()
    if form.is_submitted() and not current_user.is_bureau:
        return render_template("errors/error.html", status=403,
                               message=_("Only the bureau can do this.")), 403
    if form.validate_on_submit():
        try:
            community = services.add_community(current_user.programme, current_user, form.name.data)
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(with_names(_("%(name)s joined the programme, at the end of the rotation."), name=bdi(community.name)),
                  "success")
            return redirect(url_for("programmes.communities"))
    return render_template(
        "programmes/communities.html", form=form,
        communities=services.communities(current_user.programme_id),
        holders=services.holders_by_community(current_user.programme_id),
    ), 422 if form.errors else 200


@bp.route("/communities/<int:community_id>", methods=["GET", "POST"])
@login_required
def community(community_id):
    community = _community(community_id)
    form = CommunityForm(obj=community)
    if form.is_submitted() and not current_user.is_bureau:
        return render_template("errors/error.html", status=403,
                               message=_("Only the bureau can do this.")), 403
    if form.validate_on_submit():
        try:
            services.rename_community(community, current_user, form.name.data)
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("programmes.community", community_id=community.id))
    return render_template("programmes/community.html", community=community, form=form,
                           history=services.seat_history(community), button_form=EmptyForm(),
                           handover=HandoverForm(formdata=None)), 422 if form.errors else 200


@bp.route("/communities/<int:community_id>/deactivate", methods=["POST"])
@bureau_required
def deactivate(community_id):
    community = _community(community_id)
    if EmptyForm().validate_on_submit():
        said: list[str] = []
        services.deactivate_community(community, current_user, said=said)
        flash(with_names(_("%(name)s is inactive: it no longer chairs or votes."), name=bdi(community.name)),
              "success")
        for line in said:  # the committee's place falling vacant, who moved up (SPEC §4.1)
            flash(line, "success")
    return redirect(url_for("programmes.community", community_id=community.id))


@bp.route("/communities/<int:community_id>/reactivate", methods=["POST"])
@bureau_required
def reactivate(community_id):
    community = _community(community_id)
    if EmptyForm().validate_on_submit():
        services.reactivate_community(community, current_user)
        flash(with_names(_("%(name)s is active again, at the end of the rotation."), name=bdi(community.name)),
              "success")
    return redirect(url_for("programmes.community", community_id=community.id))


@bp.route("/communities/<int:community_id>/handover", methods=["POST"])
@bureau_required
def handover(community_id):
    community = _community(community_id)
    form = HandoverForm()
    if form.validate_on_submit():
        said: list[str] = []
        try:
            user, token = services.hand_over_seat(community, current_user, form.username.data,
                                                  form.display_name.data, said=said)
        except DomainError as exc:
            show_error(form, exc)
        else:
            for line in said:  # the committee's place falling vacant, who moved up (SPEC §4.1)
                flash(line, "success")
            link = url_for("accounts.accept_invitation", token=token, _external=True)
            return render_template("accounts/invitation_issued.html", user=user, link=link)
    return render_template("programmes/community.html", community=community,
                           form=CommunityForm(obj=community, formdata=None),
                           history=services.seat_history(community), button_form=EmptyForm(),
                           handover=form), 422
