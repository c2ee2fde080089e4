"""Pages: what a session produced — attendance, minutes, resolutions, action items — and the overdue list."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from salon import clock
from salon.accounts.auth import login_required
from salon.errors import DomainError, int_argument
from salon.forms import EmptyForm, show_error
from salon.i18n import isolate
from salon.outcomes import services
from salon.outcomes.forms import ActionForm, AttendanceForm, MinutesForm, ResolutionForm, UpdateForm
from salon.rules import outcomes as rules
from salon.schedule import services as schedule

bp = Blueprint("outcomes", __name__, url_prefix="/outcomes")



def _to_record(session_id):
    return redirect(url_for("outcomes.session", session_id=session_id))



def _attendance_form(record, formdata=True) -> AttendanceForm:
    form = AttendanceForm() if formdata else AttendanceForm(formdata=None)
    form.community_ids.choices = [(r.id, isolate(r.name)) for r in record.attendance.communities]
    form.guest_ids.choices = [(r.id, f"{isolate(r.name)} ({isolate(r.unit)})") for r in record.attendance.guests]
    if not formdata:
        form.community_ids.data = [r.id for r in record.attendance.communities if r.present]
        form.guest_ids.data = [r.id for r in record.attendance.guests if r.present]
    return form


def _page(session, status=200, **forms):
    record = services.session_record(session, current_user)
    minutes = record.minutes.summary if record.minutes else ""
    defaults = {"attendance_form": _attendance_form(record, formdata=False),
                "minutes_form": MinutesForm(formdata=None, data={"summary": minutes}),
                "resolution_form": ResolutionForm(formdata=None), "action_form": ActionForm(formdata=None)}
    defaults.update(forms)
    return render_template("outcomes/session.html", record=record, button_form=EmptyForm(),
                           status_label=services.status_label, **defaults), status


@bp.route("/sessions/<int:session_id>")
@login_required
def session(session_id):
    return _page(schedule.session_for(current_user, session_id))


@bp.route("/sessions/<int:session_id>/attendance", methods=["POST"])
@login_required
def attendance(session_id):
    session = schedule.session_for(current_user, session_id)
    record = services.session_record(session, current_user)
    form = _attendance_form(record)
    if form.validate_on_submit():
        try:
            services.record_attendance(session, current_user, form.community_ids.data or [], form.guest_ids.data or [])
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Attendance saved."), "success")
            return _to_record(session.id)
    return _page(session, 422, attendance_form=form)


@bp.route("/sessions/<int:session_id>/minutes", methods=["POST"])
@login_required
def minutes(session_id):
    session = schedule.session_for(current_user, session_id)
    form = MinutesForm()
    if form.validate_on_submit():
        try:
            services.set_minutes(session, current_user, form.summary.data or "")
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return _to_record(session.id)
    return _page(session, 422, minutes_form=form)


@bp.route("/sessions/<int:session_id>/resolutions", methods=["POST"])
@login_required
def add_resolution(session_id):
    session = schedule.session_for(current_user, session_id)
    form = ResolutionForm()
    if form.validate_on_submit():
        try:
            resolution = services.add_resolution(session, current_user, form.text.data)
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Resolution %(n)d added.", n=resolution.number), "success")
            return _to_record(session.id)
    return _page(session, 422, resolution_form=form)


@bp.route("/resolutions/<int:resolution_id>/remove", methods=["POST"])
@login_required
def remove_resolution(resolution_id):
    resolution = services.get_resolution(resolution_id, current_user.programme_id)
    session_id = resolution.session_id
    if EmptyForm().validate_on_submit():
        services.remove_resolution(resolution, current_user)
        flash(_("Resolution removed; the later ones moved up."), "success")
    return _to_record(session_id)


@bp.route("/sessions/<int:session_id>/actions", methods=["POST"])
@login_required
def add_action(session_id):
    session = schedule.session_for(current_user, session_id)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            services.add_action(session, current_user, form.values())
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Action item added."), "success")
            return _to_record(session.id)
    return _page(session, 422, action_form=form)


@bp.route("/actions/<int:item_id>", methods=["GET", "POST"])
@login_required
def action(item_id):
    item = services.get_action(item_id, current_user.programme_id)
    session = schedule.session_for(current_user, item.session_id)
    form = UpdateForm(data={"status": item.status, "due_on": item.due_on})
    writer = services.can_write(current_user, session)
    if not writer:  # the owning community's secretary reports progress; the due date stays the chair's
        del form.due_on
    if form.validate_on_submit():
        try:
            services.update_action(item, current_user, form.values())
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("outcomes.action", item_id=item.id))
    today = services.today(current_user.programme)
    return render_template("outcomes/action.html", item=item, session=session, form=form,
                           updates=services.updates(item.id), can_write=services.can_report(current_user, item, session),
                           overdue=rules.is_overdue(item.due_on, item.status, today),
                           status_label=services.status_label), 422 if form.errors else 200


@bp.route("/overdue")
@login_required
def overdue():
    today = services.today(current_user.programme, clock.utcnow())
    cursor = int_argument("after")
    items, following = services.overdue_page(current_user.programme_id, today, cursor=cursor)
    return render_template("outcomes/overdue.html", items=items, following=following, cursor=cursor,
                           total=services.overdue_count(current_user.programme_id, today), today=today,
                           status_label=services.status_label)
