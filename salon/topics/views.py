"""Pages: the topics of the sessions — nominate, vote (with a confirmation step), results, decide, agenda."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from salon import clock
from salon.accounts.auth import bureau_required, login_required
from salon.ballots.views import BallotPage, ballot_page
from salon.errors import DomainError, Forbidden
from salon.forms import EmptyForm, show_error
from salon.home.tasks import Task
from salon.programmes import services as programmes
from salon.topics import services
from salon.topics.forms import AgendaForm, DecideForm, GuestForm, NominationForm

bp = Blueprint("topics", __name__, url_prefix="/topics")


def _session(session_id):
    return services.get_session(session_id, current_user.programme_id)


def _nomination(nomination_id):
    return services.get_nomination(nomination_id, current_user.programme_id)


def _form_error(form, exc: DomainError) -> None:
    """Permission and existence errors answer 403/404; the rest go under the field at fault."""
    if exc.status in (403, 404):
        raise exc
    show_error(form, exc)


def _to_session(session_id):
    return redirect(url_for("topics.session", session_id=session_id))


@bp.route("/")
@login_required
def index():
    services.advance(current_user.programme)
    page = request.args.get("page", 1, type=int) or 1
    rows, more = services.session_rows(current_user.programme_id, page)
    return render_template("topics/index.html", rows=rows, page=page, more=more)


@bp.route("/sessions/<int:session_id>")
@login_required
def session(session_id):
    view = services.session_topic(_session(session_id), current_user)
    return render_template("topics/session.html", view=view, now=clock.utcnow(), button_form=EmptyForm())


@bp.route("/sessions/<int:session_id>/nominate", methods=["GET", "POST"])
@login_required
def nominate(session_id):
    session = _session(session_id)
    form = NominationForm()
    if form.validate_on_submit():
        try:
            services.nominate(session, current_user, form.values())
        except DomainError as exc:
            _form_error(form, exc)
        else:
            flash(_("Your nomination was added."), "success")
            return _to_session(session.id)
    return render_template("topics/nominate.html", session=session, form=form, nomination=None), \
        422 if form.errors else 200


@bp.route("/nominations/<int:nomination_id>")
@login_required
def nomination(nomination_id):
    nomination = _nomination(nomination_id)
    return render_template("topics/nomination.html", nomination=nomination)


@bp.route("/nominations/<int:nomination_id>/edit", methods=["GET", "POST"])
@login_required
def edit_nomination(nomination_id):
    nomination = _nomination(nomination_id)
    services.check_editable(nomination, current_user, clock.utcnow())
    form = NominationForm(obj=nomination)
    if form.validate_on_submit():
        try:
            services.edit_nomination(nomination, current_user, form.values())
        except DomainError as exc:
            _form_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return _to_session(nomination.session_id)
    return render_template("topics/nominate.html", session=nomination.session, form=form,
                           nomination=nomination), 422 if form.errors else 200


@bp.route("/nominations/<int:nomination_id>/withdraw", methods=["POST"])
@login_required
def withdraw(nomination_id):
    nomination = _nomination(nomination_id)
    if EmptyForm().validate_on_submit():
        services.withdraw(nomination, current_user)
        flash(_("The nomination was withdrawn."), "success")
    return _to_session(nomination.session_id)


@bp.route("/nominations/<int:nomination_id>/carry-over", methods=["POST"])
@login_required
def carry_over(nomination_id):
    nomination = _nomination(nomination_id)
    if EmptyForm().validate_on_submit():
        copy = services.carry_over(nomination, current_user)
        flash(_("Carried over to session %(n)d.", n=copy.session.number), "success")
        return _to_session(copy.session_id)
    return _to_session(nomination.session_id)


@bp.route("/sessions/<int:session_id>/vote", methods=["GET", "POST"])
@login_required
def vote(session_id):
    view = services.session_topic(_session(session_id), current_user)
    if view.poll is None:
        return render_template("topics/vote.html", view=view)
    return ballot_page(BallotPage(
        view.poll, heading=_("Session %(n)d", n=view.session.number) if view.session.number else "",
        back_url=url_for("topics.session", session_id=view.session.id),
        action_url=url_for("topics.vote", session_id=view.session.id), seat_id=_my_seat_id(),
        intro=_("Approve 1 to %(k)d nominations, or none for a blank ballot.",
                k=view.poll.questions[0].max_choices)))


def _my_seat_id():
    seat = programmes.seat_of(current_user) if current_user.is_secretary else None
    return seat.id if seat else None


@bp.route("/sessions/<int:session_id>/results")
@login_required
def results(session_id):
    view = services.session_topic(_session(session_id), current_user)
    wanted = (request.args.get("receipt") or "").strip().upper()[:20]
    return render_template("topics/results.html", view=view, wanted=wanted,
                           found=wanted in view.receipts if wanted else None)


@bp.route("/sessions/<int:session_id>/open-vote", methods=["POST"])
@bureau_required
def open_vote(session_id):
    session = _session(session_id)
    if EmptyForm().validate_on_submit():
        services.open_voting(session, current_user.programme, current_user)
        flash(_("Voting is open."), "success")
    return _to_session(session.id)


@bp.route("/sessions/<int:session_id>/close-vote", methods=["POST"])
@bureau_required
def close_vote(session_id):
    session = _session(session_id)
    if EmptyForm().validate_on_submit():
        services.close_voting(session, current_user)
        flash(_("Voting is closed; the tally and the receipts are published."), "success")
    return redirect(url_for("topics.results", session_id=session.id))


@bp.route("/sessions/<int:session_id>/decide", methods=["GET", "POST"])
@bureau_required
def decide(session_id):
    view = services.session_topic(_session(session_id), current_user)
    form = DecideForm()
    form.nomination_id.choices = [(n.id, n.title) for n in view.nominations]
    if form.validate_on_submit():
        try:
            services.decide(view.session, current_user, form.nomination_id.data, form.rationale.data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            flash(_("The topic is decided; a default agenda was created."), "success")
            return redirect(url_for("topics.agenda", session_id=view.session.id))
    return render_template("topics/decide.html", view=view, form=form), 422 if form.errors else 200


@bp.route("/sessions/<int:session_id>/agenda")
@login_required
def agenda(session_id):
    session = _session(session_id)
    return render_template("topics/agenda.html", session=session, items=services.agenda(session),
                           decision=services.decision_of(session.id), guests=services.guests(session.id),
                           manage=services.can_manage(current_user, session), guest_form=GuestForm(formdata=None),
                           button_form=EmptyForm())


@bp.route("/sessions/<int:session_id>/agenda/edit", methods=["GET", "POST"])
@login_required
def edit_agenda(session_id):
    session = _session(session_id)
    if not services.can_manage(current_user, session):
        raise Forbidden(_("Only the bureau and this session's chair can do this."), "session_id")
    timed = services.agenda(session)
    form = AgendaForm()
    if request.method == "GET":
        rows = [{"title": t.item.title, "lead": t.item.lead, "minutes": t.item.minutes, "note": t.item.note}
                for t in timed] + [{}, {}]
        form = AgendaForm(formdata=None, data={"items": rows})
    elif form.validate_on_submit():
        try:
            services.replace_agenda(session, current_user, form.values())
        except DomainError as exc:
            _form_error(form, exc)
        else:
            flash(_("The agenda was saved."), "success")
            return redirect(url_for("topics.agenda", session_id=session.id))
    return render_template("topics/agenda_edit.html", session=session, form=form), 422 if form.errors else 200


@bp.route("/sessions/<int:session_id>/guests", methods=["POST"])
@login_required
def add_guest(session_id):
    session = _session(session_id)
    form = GuestForm()
    if form.validate_on_submit():
        try:
            services.add_guest(session, current_user, {"name": form.name.data, "unit": form.unit.data,
                                                       "contact": form.contact.data or ""})
        except DomainError as exc:
            _form_error(form, exc)
        else:
            flash(_("Guest added."), "success")
            return redirect(url_for("topics.agenda", session_id=session.id))
    if not services.can_manage(current_user, session):
        raise Forbidden(_("Only the bureau and this session's chair can do this."), "session_id")
    return render_template("topics/agenda.html", session=session, items=services.agenda(session),
                           decision=services.decision_of(session.id), guests=services.guests(session.id),
                           manage=True, guest_form=form, button_form=EmptyForm()), 422


@bp.route("/sessions/<int:session_id>/guests/<int:guest_id>/remove", methods=["POST"])
@login_required
def remove_guest(session_id, guest_id):
    session = _session(session_id)
    if EmptyForm().validate_on_submit():
        services.remove_guest(session, current_user, guest_id)
        flash(_("Guest removed."), "success")
    return redirect(url_for("topics.agenda", session_id=session.id))


def topic_tasks(user) -> list[Task]:
    """SPEC §3 on the home page: open windows, and whether this person has acted."""
    now = clock.utcnow()
    services.advance(user.programme, now)
    found = []
    pending = services.tasks_state(user, now)
    for item in pending:
        session = item.session
        url = url_for("topics.session", session_id=session.id)
        if item.nominating and user.is_secretary and item.my_nominations is not None:
            found.append(Task(_("Nominations for session %(n)d are open: you have nominated %(done)d of %(max)d.",
                                n=session.number, done=item.my_nominations,
                                max=user.programme.nominations_per_community),
                              url_for("topics.nominate", session_id=session.id),
                              item.my_nominations == 0))
        if item.poll_state == "open" and item.eligible:
            if item.voted:
                found.append(Task(_("Voting for session %(n)d is open — you voted.", n=session.number), url))
            else:
                found.append(Task(_("Voting for session %(n)d is open — you have not voted.", n=session.number),
                                  url_for("topics.vote", session_id=session.id), True))
        if item.poll_state == "closed" and not item.decided and user.is_bureau and item.bureau_decides:
            found.append(Task(_("Voting for session %(n)d has closed: decide the topic.", n=session.number),
                              url_for("topics.decide", session_id=session.id), True))
    return found
