"""Pages: log in and out, accept an invitation, language, personal API tokens, the bureau's people list."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from salon.accounts import services
from salon.accounts.auth import bureau_required, client_address, login_required, safe_next
from salon.accounts.forms import InviteColleagueForm, LanguageForm, LoginForm, SetPasswordForm, TokenForm
from salon.accounts.models import User
from salon.errors import DomainError
from salon.extensions import db, limiter
from salon.forms import EmptyForm, flash_error, show_error
from salon.i18n import bdi, with_names
from salon.rows import get_scoped

from salon.programmes import services as programme_services

bp = Blueprint("accounts", __name__)


def _login_account_key() -> str:
    return "account:" + (request.form.get("username") or "").strip().lower()[:40]


def _failed(response) -> bool:
    """A log-in that counts against the limits: refused, not one the database could not answer (503: the
    password was never checked, docs/faults.md)."""
    return response.status_code not in (302, 503)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SALON_LOGIN_LIMIT_ADDRESS"], key_func=client_address,
               methods=["POST"], deduct_when=_failed, scope="login-address")
@limiter.limit(lambda: current_app.config["SALON_LOGIN_LIMIT_ACCOUNT"], key_func=_login_account_key,
               methods=["POST"], deduct_when=_failed, scope="login-account")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm(next=request.args.get("next", ""), username=request.args.get("username", "")[:40])
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is not None:
            login_user(user)
            if user.locale is None and session.get("locale"):
                user.locale = session["locale"]
            return redirect(safe_next(form.next.data) or url_for("home.index"))
        form.password.errors = [_("Wrong username or password.")]
        return render_template("accounts/login.html", form=form), 401
    return render_template("accounts/login.html", form=form), 422 if form.errors else 200


@bp.route("/logout", methods=["POST"])
def logout():
    if EmptyForm().validate_on_submit():
        logout_user()
        flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    invitation = services.open_invitation(token)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(token, form.password.data, form.confirm.data)
        except DomainError as exc:
            show_error(form, exc)
        else:
            logout_user()
            flash(_("Your password is set. Please log in."), "success")
            return redirect(url_for("accounts.login", username=user.username))
    status = 422 if form.errors else 200
    return render_template("accounts/invitation.html", form=form, invited=invitation.user), status


@bp.route("/language", methods=["POST"])
def language():
    form = LanguageForm()
    if form.validate_on_submit():
        try:
            session["locale"] = services.set_locale(current_user, form.locale.data)
        except DomainError as exc:
            flash_error(exc)
    return redirect(safe_next(form.next.data) or url_for("home.index"))


@bp.route("/account")
@login_required
def account():
    """The person's own page: who they are, and their API tokens and calendar links (for everyone, not in the
    main menu)."""
    seat = programme_services.seat_of(current_user) if current_user.is_secretary else None
    return render_template("accounts/account.html", seat=seat)


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        try:
            _token, new_token = services.create_token(current_user, form.name.data)
        except DomainError as exc:
            show_error(form, exc)
        else:
            form = TokenForm(formdata=None)
    status = 422 if form.errors else 200
    return render_template("accounts/tokens.html", form=form, tokens=services.tokens_of(current_user),
                           new_token=new_token, revoke_form=EmptyForm()), status


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id):
    if EmptyForm().validate_on_submit():
        services.revoke_token(current_user, token_id)
        flash(_("The token is revoked."), "success")
    return redirect(url_for("accounts.tokens"))


@bp.route("/people", methods=["GET", "POST"])
@bureau_required
def people():
    form = InviteColleagueForm()
    link = None
    if form.validate_on_submit():
        try:
            user, token = services.invite_colleague(current_user.programme, current_user,
                                                    form.username.data, form.display_name.data)
        except DomainError as exc:
            show_error(form, exc)
        else:
            link = url_for("accounts.accept_invitation", token=token, _external=True)
            flash(with_names(_("Invitation created for %(name)s. Send them the link below."), name=bdi(user.display_name)),
                  "success")
            form = InviteColleagueForm(formdata=None)
    users = db.session.scalars(select(User).where(User.programme_id == current_user.programme_id)
                               .order_by(User.role, User.active.desc(), User.username)).all()
    status = 422 if form.errors else 200
    return render_template("accounts/people.html", form=form, users=users, link=link,
                           reset_form=EmptyForm()), status


@bp.route("/people/<int:user_id>/reset", methods=["POST"])
@bureau_required
def reset(user_id):
    user = get_scoped(User, user_id, current_user.programme_id, "user_id")
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("accounts.people"))
    if not user.active:
        flash(_("This account is closed; hand the seat over instead."), "error")
        return redirect(url_for("accounts.people"))
    token = services.reset_account(user, current_user)
    link = url_for("accounts.accept_invitation", token=token, _external=True)
    return render_template("accounts/invitation_issued.html", user=user, link=link)
