"""Pages: the topics of the sessions — nominate, vote (with a confirmation step), results, decide, agenda."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from salon import clock
from salon.accounts.auth import bureau_required, login_required

from salon.ballots.hooks import close_due_polls
from salon.ballots import services as ballots
from salon.ballots.vote_page import BallotPage, OptionDetail, ballot_page
from salon.errors import DomainError, int_argument
from salon.forms import ConfirmForm, EmptyForm, show_error
from salon.home import notices
from salon.home.tasks import Task, TaskContext
from salon.i18n import isolate, session_time
from salon.schedule import services as schedule
from salon.topics import limits, services
from salon.topics.forms import AgendaForm, DecideForm, GuestForm, NominationForm

bp = Blueprint("topics", __name__, url_prefix="/topics")



def _nomination(nomination_id):
    return services.get_nomination(nomination_id, current_user.programme_id)



def _to_session(session_id):
    return redirect(url_for("sessions.page", session_id=session_id))


@bp.route("/")
@login_required
def index():
    services.advance(current_user.programme)
    page = int_argument("page", default=1)
    listing = services.topic_list(current_user.programme_id, clock.utcnow(), page)
    return render_template("topics/index.html", listing=listing, page=page, more=listing.more)


@bp.route("/sessions/<int:session_id>")
@login_required
def session(session_id):
    """The old address of a session's topic: the session page shows its whole life now."""
    return redirect(url_for("sessions.page", session_id=schedule.session_for(current_user, session_id).id), 301)


@bp.route("/sessions/<int:session_id>/nominate", methods=["GET", "POST"])
@login_required
def nominate(session_id):
    session = schedule.session_for(current_user, session_id)
    form = NominationForm()
    if form.validate_on_submit():
        try:
            services.nominate(session, current_user, form.values())
        except DomainError as exc:
            show_error(form, exc)
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
            show_error(form, exc)
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
    view = services.session_topic(schedule.session_for(current_user, session_id), current_user)
    if view.poll is None:
        return render_template("topics/vote.html", view=view)
    return ballot_page(BallotPage(
        view.poll, heading=_("Session %(n)d", n=view.session.number) if view.session.number else "",
        back_url=url_for("sessions.page", session_id=view.session.id),
        action_url=url_for("topics.vote", session_id=view.session.id), seat_id=view.my_seat_id,
        voted=view.voted, eligible=view.eligible,
        intro=_("Approve 1 to %(k)d nominations, or none for a blank ballot.",
                k=view.poll.questions[0].max_choices),
        details=_details(view)))


def _details(view) -> dict:
    """Each option's nomination (its community and text), so a voter can read what they approve."""
    by_id = {n.id: n for n in view.nominations}
    found = {}
    for question in view.poll.questions:
        for option in question.options:
            n = by_id.get(option.ref_id)
            if n is not None:
                found[option.id] = OptionDetail(n.community.name, n.problem, n.hoped_result, n.outside_units)
    return found


@bp.route("/sessions/<int:session_id>/results")
@login_required
def results(session_id):
    view = services.session_topic(schedule.session_for(current_user, session_id), current_user)
    wanted = ballots.normalise_receipt(request.args.get("receipt") or "")
    return render_template("topics/results.html", view=view, wanted=wanted,
                           found=wanted in view.receipts if wanted else None)


@bp.route("/sessions/<int:session_id>/open-vote", methods=["POST"])
@bureau_required
def open_vote(session_id):
    session = schedule.session_for(current_user, session_id)
    if EmptyForm().validate_on_submit():
        services.open_voting(session, current_user.programme, current_user)
        flash(_("Voting is open."), "success")
    return _to_session(session.id)


@bp.route("/sessions/<int:session_id>/close-vote", methods=["POST"])
@bureau_required
def close_vote(session_id):
    session = schedule.session_for(current_user, session_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.close_voting(session, current_user)
        flash(_("Voting is closed; the tally and the receipts are published."), "success")
    elif form.text_refused:  # the box sent back with its error under it
        return render_template("topics/close_vote.html", session=session, form=form), 422
    elif form.is_submitted() and "understood" in form.errors:
        flash(_("Tick the box to confirm: this cannot be undone."), "error")
        return _to_session(session.id)
    return redirect(url_for("topics.results", session_id=session.id))


@bp.route("/sessions/<int:session_id>/decide", methods=["GET", "POST"])
@bureau_required
def decide(session_id):
    view = services.session_topic(schedule.session_for(current_user, session_id), current_user)
    form = DecideForm()
    form.nomination_id.choices = [(n.id, isolate(n.title)) for n in view.nominations]
    if form.validate_on_submit():
        try:
            services.decide(view.session, current_user, form.nomination_id.data, form.rationale.data)
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("The topic is decided; a default agenda was created."), "success")
            return redirect(url_for("topics.agenda", session_id=view.session.id))
    return render_template("topics/decide.html", view=view, form=form), 422 if form.errors else 200


@bp.route("/sessions/<int:session_id>/agenda")
@login_required
def agenda(session_id):
    session = schedule.session_for(current_user, session_id)
    return render_template("topics/agenda.html", session=session, items=services.agenda(session),
                           decision=services.decision_of(session.id), guests=services.guests(session.id),
                           manage=services.can_manage(current_user, session), guest_form=GuestForm(formdata=None),
                           button_form=EmptyForm())


@bp.route("/sessions/<int:session_id>/agenda/edit", methods=["GET", "POST"])
@login_required
def edit_agenda(session_id):
    session = schedule.session_for(current_user, session_id)
    services.check_manage(current_user, session)
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
            if exc.field in ("minutes", "items") and exc.status == 422:
                form.items.errors = [e for e in form.items.errors if isinstance(e, str)] + [exc.message]
            else:
                show_error(form, exc)
        else:
            flash(_("The agenda was saved."), "success")
            return redirect(url_for("topics.agenda", session_id=session.id))
    failed = bool(form.errors) or any(isinstance(e, str) for e in form.items.errors)
    for entry in form.items:
        entry.form.minutes.description = _("All items together: at most %(n)d minutes.", n=session.duration_minutes)
    return render_template("topics/agenda_edit.html", session=session, form=form, limits=limits), \
        422 if failed else 200


@bp.route("/sessions/<int:session_id>/guests", methods=["POST"])
@login_required
def add_guest(session_id):
    session = schedule.session_for(current_user, session_id)
    form = GuestForm()
    if form.validate_on_submit():
        try:
            services.add_guest(session, current_user, {"name": form.name.data, "unit": form.unit.data,
                                                       "contact": form.contact.data or ""})
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Guest added."), "success")
            return redirect(url_for("topics.agenda", session_id=session.id))
    services.check_manage(current_user, session)
    return render_template("topics/agenda.html", session=session, items=services.agenda(session),
                           decision=services.decision_of(session.id), guests=services.guests(session.id),
                           manage=True, guest_form=form, button_form=EmptyForm()), 422


@bp.route("/sessions/<int:session_id>/guests/<int:guest_id>/remove", methods=["POST"])
@login_required
def remove_guest(session_id, guest_id):
    session = schedule.session_for(current_user, session_id)
    if EmptyForm().validate_on_submit():
        services.remove_guest(session, current_user, guest_id)
        flash(_("Guest removed."), "success")
    return redirect(url_for("topics.agenda", session_id=session.id))


def catch_up(context: TaskContext) -> None:
    """Before the home page's tasks: voting opened or closed as the sessions' windows say (SPEC §3, §8)."""
    close_due_polls(context)
    services.advance(context.programme, context.now, polls_closed=True)


def topic_tasks(context: TaskContext) -> list[Task]:
    """SPEC §3 on the home page: open windows, and whether this person has acted; for the bureau, every step of
    the next sessions that waits for it, each with a link to where it is done and a notice for the group."""
    user, now = context.user, context.now
    found = []
    pending = services.tasks_state_of(context)
    for item in pending:
        session = item.session
        url = url_for("sessions.page", session_id=session.id)
        if user.is_bureau:
            found.extend(_bureau_tasks(user.programme, item, now, context))
            continue
        if item.nominating and user.is_secretary and item.my_nominations is not None:
            found.append(Task(_("Nominations for session %(n)d are open: you have nominated %(done)d of %(max)d.",
                                n=session.number, done=item.my_nominations,
                                max=user.programme.nominations_per_community),
                              url_for("topics.nominate", session_id=session.id),
                              item.my_nominations == 0, due=item.frame.nominate_closes))
        if item.poll_state == "open" and item.eligible:
            if item.voted:
                found.append(Task(_("Voting for session %(n)d is open — you voted.", n=session.number), url))
            else:
                found.append(Task(_("Voting for session %(n)d is open — you have not voted.", n=session.number),
                                  url_for("topics.vote", session_id=session.id), True, due=item.poll.closes_at))
        if item.decided:
            found.append(Task(_("The topic of session %(n)d is decided: “%(title)s”.", n=session.number,
                                title=item.decided_title), url, due=session.starts_at))
    return found


def awaiting_count_task(item, context, url: str, text: str) -> Task:
    """The home page's line for a closed vote whose count awaits the trustees (SPEC §5.1): nobody can decide it
    yet, so no task invites a decision; it says whom the count waits for (the committee room shows it to its
    members with the link to their picks)."""
    names = services.awaited_trustees_of(context).get(item.poll.id, ())
    detail = _("The count awaits the trustees: %(names)s.", names="、".join(names)) if names else None
    return Task(text, url, False, detail=detail, due=item.session.starts_at)



def _bureau_tasks(programme, item, now, context) -> list[Task]:
    session, frame = item.session, item.frame
    page = url_for("sessions.page", session_id=session.id)
    link = url_for("sessions.page", session_id=session.id, _external=True)
    found = []
    if item.nominating:
        found.append(Task(
            _("Nominations for session %(n)d are open: %(count)d so far, closing %(when)s.", n=session.number,
              count=item.nominations, when=session_time(frame.nominate_closes)),
            page + "#nominations", due=frame.nominate_closes, stage="nominations_open",
            notice=notices.notice("nominations_open", programme=programme, session=session,
                                  deadline=frame.nominate_closes, link=link)))
    elif item.poll_state is None and not item.nominations and now >= frame.nominate_closes:
        found.append(Task(
            _("Nominations for session %(n)d closed %(when)s with none: move the session to a later date, or "
              "cancel it so its chair takes the next session.", n=session.number,
              when=session_time(frame.nominate_closes)),
            url_for("sessions.page", session_id=session.id, _anchor="when"), True, due=session.starts_at))
    elif item.poll_state is None and now < frame.vote_closes and frame.vote_opens - now < timedelta(days=14):
        if item.nominations and not ballots.key_ready(programme.id, services.POLL_KIND, now):
            found.append(Task(
                _("Voting for session %(n)d should open %(when)s, but the trustees' key is not ready: voting "
                  "waits until it is. See the trustees page.", n=session.number,
                  when=session_time(frame.vote_opens)),
                url_for("trustees.index"), True, due=frame.vote_opens))
        elif item.nominations:
            found.append(Task(
                _("Voting for session %(n)d opens %(when)s over %(count)d nominations; you may open it now.",
                  n=session.number, when=session_time(frame.vote_opens), count=item.nominations),
                page + "#vote", due=frame.vote_opens))
        else:
            found.append(Task(
                _("Session %(n)d has no nominations and voting should open %(when)s: ask the communities to "
                  "nominate.", n=session.number, when=session_time(frame.vote_opens)),
                page + "#nominations", True, due=frame.vote_opens))
    if item.poll_state == "open":
        found.append(Task(
            _("Voting for session %(n)d is open until %(when)s: %(turnout)d of %(eligible)d seats have voted.",
              n=session.number, when=session_time(item.poll.closes_at), turnout=item.turnout,
              eligible=item.poll.eligible_count),
            page + "#vote", due=item.poll.closes_at, stage="voting_open",
            notice=notices.notice("voting_open", programme=programme, session=session,
                                  deadline=item.poll.closes_at,
                                  link=url_for("topics.vote", session_id=session.id, _external=True))))
    if item.awaiting_count:
        found.append(awaiting_count_task(item, context, page, _(
            "Voting for session %(n)d has closed; the trustees have not yet decrypted its count. The topic is "
            "decided once it is known (the committee's days to decide start then).", n=session.number)))
    elif item.poll_state == "closed" and not item.decided and item.bureau_decides:
        found.append(Task(_("Voting for session %(n)d has closed: decide the topic.", n=session.number),
                          url_for("topics.decide", session_id=session.id), True, due=session.starts_at,
                          detail=services.overdue_detail(item, context)))
    if item.decided:
        if not item.agenda_items:
            found.append(Task(_("Session %(n)d has no agenda yet: write it.", n=session.number),
                              url_for("topics.edit_agenda", session_id=session.id), True, due=session.starts_at))
        if not item.guests:
            found.append(Task(_("Session %(n)d has no guests yet: invite the outside units.", n=session.number),
                              url_for("topics.agenda", session_id=session.id, _anchor="guests"),
                              due=session.starts_at))
        found.append(Task(
            _("The topic of session %(n)d is decided: “%(title)s”. Tell the secretaries.", n=session.number,
              title=item.decided_title), page, due=session.starts_at, stage="topic_decided",
            notice=notices.notice("topic_decided", programme=programme, session=session, title=item.decided_title,
                                  link=link)))
    return found
