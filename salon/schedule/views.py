"""Pages: the schedule, one session, a community's duties, the swap inbox, the bureau's controls
and calendar subscriptions. The feed itself is public but needs its signed token."""
from __future__ import annotations

import re

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from salon import clock
from salon.accounts.auth import bureau_required, login_required
from salon.errors import DomainError, Forbidden, int_argument
from salon.forms import EmptyForm, show_error
from salon.i18n import bdi, isolate, session_time, with_names
from salon.programmes import services as programmes
from salon.schedule import ical, services
from salon.schedule.forms import (AskSwapForm, BlackoutForm, BureauSwapForm, EditSessionForm, FeedForm,
                                  GenerateForm)
from salon.schedule.session_part import session_context
from salon.topics import services as topics

bp = Blueprint("schedule", __name__)



def _my_community():
    return services.community_of(current_user)


@bp.route("/schedule")
@login_required
def index():
    """The coming sessions, and the past a page at a time, newest first (SPEC §9)."""
    now = clock.utcnow()
    services.mark_past_held(current_user.programme_id, now)
    cursor = int_argument("before")
    past, older = _past_page(cursor, now)
    return render_template("schedule/index.html", now=now, mine=_my_community(), cursor=cursor,
                           upcoming=[] if cursor else services.sessions(current_user.programme_id, since=now),
                           past=[s for s in past if s.starts_at < now], older=older)


def _past_page(cursor, now, community_id=None):
    try:
        return services.session_page(current_user.programme_id, cursor, services.PAST_PAGE,
                                     community_id=community_id, until=now, newest_first=True)
    except DomainError:
        return services.session_page(current_user.programme_id, None, services.PAST_PAGE,
                                     community_id=community_id, until=now, newest_first=True)


@bp.route("/schedule/communities/<int:community_id>")
@login_required
def duties(community_id):
    community = programmes.get_community(community_id, current_user.programme_id)
    now = clock.utcnow()
    cursor = int_argument("before")
    past, older = _past_page(cursor, now, community.id)
    coming = [] if cursor else services.sessions(current_user.programme_id, community.id, since=now)
    shown = [s for s in past[::-1] if s.starts_at < now] + coming
    return render_template("schedule/duties.html", community=community, now=now, mine=_my_community(),
                           sessions=shown, older=older, cursor=cursor)


def _render_session(session, edit=None, swap=None, ask=None, status=200):
    return render_template("schedule/session.html", **session_context(session, edit, swap, ask)), status


@bp.route("/schedule/sessions/<int:session_id>", methods=["GET", "POST"])
@login_required
def session(session_id):
    session = services.session_for(current_user, session_id)
    if request.method == "POST":
        if not current_user.is_bureau:
            raise Forbidden(_("Only the bureau can do this."))
        form = EditSessionForm()
        if form.validate_on_submit():
            try:
                services.edit_session(session, current_user, form.date.data, form.time.data, form.venue.data or "")
            except DomainError as exc:
                show_error(form, exc)
            else:
                flash(_("Saved. Calendars will show the change."), "success")
                return redirect(url_for("sessions.page", session_id=session.id))
        return _render_session(session, edit=form, status=422)
    return redirect(url_for("sessions.page", session_id=session.id), 301)


@bp.route("/schedule/sessions/<int:session_id>/cancel", methods=["POST"])
@bureau_required
def cancel(session_id):
    session = services.session_for(current_user, session_id)
    if EmptyForm().validate_on_submit():
        services.cancel_session(session, current_user)
        flash(_("The session is cancelled; its chair takes the next session."), "success")
    return redirect(url_for("sessions.page", session_id=session.id))


@bp.route("/schedule/sessions/<int:session_id>/lock", methods=["POST"])
@bureau_required
def lock(session_id):
    session = services.session_for(current_user, session_id)
    if EmptyForm().validate_on_submit():
        services.set_locked(session, current_user, True)
        flash(_("Locked: regenerating will not change this session."), "success")
    return redirect(url_for("sessions.page", session_id=session.id))


@bp.route("/schedule/sessions/<int:session_id>/unlock", methods=["POST"])
@bureau_required
def unlock(session_id):
    session = services.session_for(current_user, session_id)
    if EmptyForm().validate_on_submit():
        services.set_locked(session, current_user, False)
        flash(_("Unlocked."), "success")
    return redirect(url_for("sessions.page", session_id=session.id))


@bp.route("/schedule/sessions/<int:session_id>/swap", methods=["POST"])
@bureau_required
def swap(session_id):
    session = services.session_for(current_user, session_id)
    form = BureauSwapForm()
    if form.validate_on_submit():
        try:
            other = services.get_session(form.other_session_id.data, current_user.programme_id, "other_session_id")
            services.bureau_swap(session, other, current_user)
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Chairs swapped: %(a)s and %(b)s.", a=session.chair.name, b=other.chair.name), "success")
            return redirect(url_for("schedule.index"))
    return _render_session(session, swap=form, status=422)


@bp.route("/schedule/sessions/<int:session_id>/ask", methods=["POST"])
@login_required
def ask(session_id):
    session = services.session_for(current_user, session_id)
    form = AskSwapForm()
    if form.validate_on_submit():
        try:
            other = services.get_session(form.other_session_id.data, current_user.programme_id, "other_session_id")
            services.request_swap(current_user, session, other, form.message.data or "")
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(with_names(_("Your request is sent to %(community)s."), community=bdi(other.chair.name)), "success")
            return redirect(url_for("schedule.swaps"))
    return _render_session(session, ask=form, status=422)


@bp.route("/schedule/swaps")
@login_required
def swaps():
    return render_template("schedule/swaps.html", inbox=services.inbox(current_user), button_form=EmptyForm(),
                           mine=_my_community())


def _answer(request_id, action, message):
    swap_request = services.get_request(request_id, current_user.programme_id)
    if EmptyForm().validate_on_submit():
        action(swap_request, current_user)
        flash(message, "success")
    return redirect(url_for("schedule.swaps"))


@bp.route("/schedule/swaps/<int:request_id>/accept", methods=["POST"])
@login_required
def accept(request_id):
    return _answer(request_id, services.accept_request, _("Swap accepted; the schedule and calendars show it."))


@bp.route("/schedule/swaps/<int:request_id>/decline", methods=["POST"])
@login_required
def decline(request_id):
    return _answer(request_id, services.decline_request, _("Request declined."))


@bp.route("/schedule/swaps/<int:request_id>/withdraw", methods=["POST"])
@login_required
def withdraw(request_id):
    return _answer(request_id, services.withdraw_request, _("Request withdrawn."))


# --- the bureau's controls ---------------------------------------------------------------------

def _render_manage(generate=None, blackouts=None, order_errors=None, status=200):
    programme = current_user.programme
    generate = generate or GenerateForm(formdata=None, months=programme.horizon_months)
    blackouts = blackouts or BlackoutForm(formdata=None,
                                          blackout_months=" ".join(programme.blackout_months or []))
    order = services.rotation_order(programme.id)
    return render_template("schedule/manage.html", programme=programme, generate=generate, blackouts=blackouts,
                           order=order, order_errors=order_errors or {}, button_form=EmptyForm(),
                           sorted_ids=sorted(c.id for c in order)), status


@bp.route("/schedule/manage")
@bureau_required
def manage():
    return _render_manage()


@bp.route("/schedule/generate", methods=["POST"])
@bureau_required
def generate():
    form = GenerateForm()
    if form.validate_on_submit():
        try:
            result = services.generate(current_user.programme, current_user, form.months.data)
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Schedule generated for %(n)d months (%(created)d new sessions).", n=form.months.data,
                    created=result["created"]), "success")
            for session in result["too_soon"]:
                flash(_("Session %(n)d on %(when)s is too close to take nominations (they close %(days)d days "
                        "before). Move it to a later date, or cancel it so its chair takes the next session.",
                        n=session.number or 0, when=session_time(session.starts_at),
                        days=current_user.programme.nomination_close_days), "error")
            return redirect(url_for("schedule.index"))
    return _render_manage(generate=form, status=422)


@bp.route("/schedule/draw", methods=["POST"])
@bureau_required
def draw():
    if EmptyForm().validate_on_submit():
        seed, _order = services.draw_lots(current_user.programme, current_user)
        flash(_("New order drawn by lot with seed %(seed)s.", seed=seed), "success")
    return redirect(url_for("schedule.manage"))


@bp.route("/schedule/reorder", methods=["POST"])
@bureau_required
def reorder():
    order = services.rotation_order(current_user.programme_id)
    errors, keyed = {}, []
    for index, community in enumerate(order):
        raw = (request.form.get(f"position-{community.id}") or "").strip()
        if not re.fullmatch(r"\d{1,4}", raw):
            errors[community.id] = _("Give a whole number.")
            continue
        keyed.append((int(raw), index, community.id))
    if errors or not EmptyForm().validate_on_submit():
        if not errors:
            flash(_("The form expired; please try again."), "error")
        return _render_manage(order_errors=errors, status=422)
    services.reorder(current_user.programme, current_user, [cid for _p, _i, cid in sorted(keyed)])
    flash(_("Rotation order saved; the future schedule follows it."), "success")
    return redirect(url_for("schedule.manage"))


@bp.route("/schedule/blackouts", methods=["POST"])
@bureau_required
def blackouts():
    form = BlackoutForm()
    if form.validate_on_submit():
        months = [m for m in re.split(r"[\s,，、;]+", form.blackout_months.data or "") if m]
        try:
            services.set_blackouts(current_user.programme, current_user, months)
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Blackout months saved."), "success")
            return redirect(url_for("schedule.manage"))
    return _render_manage(blackouts=form, status=422)


# --- calendar feeds --------------------------------------------------------------------------

def _feed_choices():
    return [("", _("Whole programme"))] + [
        (str(c.id), _("Chair duties of %(community)s", community=isolate(c.name)))
        for c in programmes.communities(current_user.programme_id, active_only=True)]


@bp.route("/schedule/feeds", methods=["GET", "POST"])
@login_required
def feeds():
    form = FeedForm()
    form.community_id.choices = _feed_choices()
    if form.validate_on_submit():
        try:
            services.create_feed(current_user, form.community_id.data or None)
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Calendar link ready: copy it into your calendar app."), "success")
            return redirect(url_for("schedule.feeds"))
    elif request.method == "GET":
        mine = _my_community()
        form.community_id.data = str(mine.id) if mine else ""
    feeds = [(f, url_for("schedule.feed", token=services.feed_token(f), _external=True))
             for f in services.feeds_of(current_user)]
    return render_template("schedule/feeds.html", form=form, feeds=feeds, button_form=EmptyForm()), \
        422 if form.errors else 200


@bp.route("/schedule/feeds/<int:feed_id>/revoke", methods=["POST"])
@login_required
def revoke_feed(feed_id):
    feed = services.get_feed(feed_id, current_user)
    if EmptyForm().validate_on_submit():
        services.revoke_feed(feed, current_user)
        flash(_("The calendar link is revoked; calendars using it stop updating."), "success")
    return redirect(url_for("schedule.feeds"))


@bp.route("/calendar/<token>.ics")
def feed(token):
    calendar_feed = services.open_feed(token)
    programme = programmes.get_programme(calendar_feed.programme_id)
    if calendar_feed.community_id is None:
        chosen = services.feed_sessions(programme.id)
        name = programme.name
    else:
        chosen = services.feed_sessions(programme.id, calendar_feed.community_id)
        name = _("%(programme)s — chair duties of %(community)s", programme=programme.name,
                 community=calendar_feed.community.name)
    body = ical.build(programme, chosen, name, topics.decided_titles([s.id for s in chosen]),
                      lambda s: url_for("sessions.page", session_id=s.id, _external=True))
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": 'inline; filename="salon.ics"', "Cache-Control": "private, max-age=300"})
