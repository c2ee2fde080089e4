"""Pages: the sitting committee (or why the bureau decides), elections, their ballot, a member's pick."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user

from salon import clock
from salon.accounts.auth import bureau_required, login_required
from salon.ballots.hooks import close_due_polls
from salon.ballots.vote_page import BallotPage, ballot_page
from salon.committee import services
from salon.committee.terms import members_now_of, sitting_members_of, sitting_term_of
from salon.committee.forms import CandidateForm, ExtendForm, OpenElectionForm, OpenVoteForm, PickForm
from salon.committee.models import ElectionState
from salon.errors import Conflict, DomainError
from salon.exports import table_response
from salon.forms import ConfirmForm, EmptyForm, flash_error, show_error
from salon.home.tasks import Task, TaskContext
from salon.i18n import isolate, session_time
from salon.programmes import services as programmes
from salon.rules import committee as rules
from salon.rules import topics as topic_rules
from salon.schedule import services as schedule
from salon.topics import services as topics

bp = Blueprint("committee", __name__, url_prefix="/committee")


def _election(election_id):
    return services.get_election(election_id, current_user.programme_id)


def _to(election):
    return redirect(url_for("committee.election", election_id=election.id))


def _my_seat_id():
    return programmes.seat_id_of(current_user)


@bp.route("/")
@login_required
def index():
    programme = current_user.programme
    services.advance(programme)
    return _index_page()


def _index_page(form=None, status=200):
    programme = current_user.programme
    return render_template("committee/index.html", standing=services.standing(programme.id),
                           elections=services.elections(programme.id),
                           first_due=services.first_election_due(programme), button_form=EmptyForm(),
                           openable=services.election_openable(programme, clock.utcnow()),
                           election_form=form or OpenElectionForm(formdata=None),
                           reason_label=election_reason_label), status


def election_reason_label(reason: str) -> str:
    return {"first": _("the first election"), "recall": _("after a recall"),
            "term_end": _("the term ends"), "early": _("an early election"),
            "by_election": _("a by-election for the rest of the term")}.get(reason, reason)


@bp.route("/elections", methods=["POST"])
@bureau_required
def open_election():
    form = OpenElectionForm()
    if form.validate_on_submit():
        try:
            election = services.open_election(current_user.programme, current_user, reason=form.reason.data or None,
                                              note=form.note.data or "")
        except DomainError as exc:
            show_error(form, exc)
            return _index_page(form, exc.status)
        flash(_("The election is open: secretaries can stand."), "success")
        return _to(election)
    return _index_page(form, 422)


def _candidate_form(view) -> CandidateForm:
    form = CandidateForm()
    taken = {c.seat_id for c in view.candidates}
    holders = programmes.holders_by_community(current_user.programme_id)
    form.seat_id.choices = [(c.seat.id, f"{isolate(c.name)} · {isolate(holders[c.id].display_name)}")
                            for c in programmes.communities(current_user.programme_id, active_only=True)
                            if c.id in holders and c.seat.id not in taken]
    return form


def ranking(view, poll, results) -> list[tuple[str, int | None, bool]]:
    """A closed ballot's candidates by name, most approved first, each marked elected or not (the elected are
    the committee it seated). With counts withheld (SPEC §5) no count and no order by votes: the elected first."""
    elected = {m.seat_id for m in view.seated}
    rows = [(o.label, results.counts.get(o.id, 0) if results.published else None, o.ref_id in elected)
            for q in poll.questions for o in q.options]
    if results.published:
        return sorted(rows, key=lambda r: (-r[1], not r[2], r[0]))
    return sorted(rows, key=lambda r: (not r[2], r[0]))


def _election_page(view, status=200, **forms):
    context = {"view": view, "button_form": EmptyForm(), "now": clock.utcnow(), "ranking": ranking,
               "candidate_form": forms.get("candidate_form") or _candidate_form(view),
               "extend_form": forms.get("extend_form") or ExtendForm(formdata=None),
               "open_form": forms.get("open_form") or OpenVoteForm(formdata=None),
               "fewer": services.fewer_candidates_alarm(view.election, clock.utcnow())}
    return render_template("committee/election.html", **context), status


@bp.route("/elections/<int:election_id>")
@login_required
def election(election_id):
    return _election_page(services.election_view(_election(election_id), current_user))


@bp.route("/elections/<int:election_id>/candidates", methods=["POST"])
@login_required
def nominate(election_id):
    election = _election(election_id)
    view = services.election_view(election, current_user)
    form = _candidate_form(view)
    if form.validate_on_submit():
        try:
            services.nominate(election, current_user, form.seat_id.data)
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Nominated."), "success")
            return _to(election)
    elif not current_user.is_secretary:
        services.nominate(election, current_user, None)  # answers 403 for anyone but a secretary
    return _election_page(view, 422, candidate_form=form)


@bp.route("/elections/<int:election_id>/accept", methods=["POST"])
@login_required
def accept(election_id):
    election = _election(election_id)
    if EmptyForm().validate_on_submit():
        services.accept(election, current_user)
        flash(_("You stand in this election."), "success")
    return _to(election)


@bp.route("/elections/<int:election_id>/extend", methods=["POST"])
@bureau_required
def extend(election_id):
    election = _election(election_id)
    form = ExtendForm()
    if form.validate_on_submit():
        services.extend_standing(election, current_user, form.days.data)
        flash(_("Standing was extended."), "success")
        return _to(election)
    return _election_page(services.election_view(election, current_user), 422, extend_form=form)


@bp.route("/elections/<int:election_id>/open-vote", methods=["POST"])
@bureau_required
def open_vote(election_id):
    election = _election(election_id)
    form = OpenVoteForm()
    if form.validate_on_submit():
        try:
            services.open_vote(election, current_user.programme, current_user, fewer_ok=bool(form.fewer_ok.data))
        except DomainError as exc:
            flash_error(exc)
            return _election_page(services.election_view(election, current_user), exc.status, open_form=form)
        flash(_("Voting is open."), "success")
    return _to(election)


@bp.route("/elections/<int:election_id>/close-vote", methods=["POST"])
@bureau_required
def close_vote(election_id):
    election = _election(election_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.close_vote(election, current_user.programme, current_user)
        flash(_("Voting is closed and counted."), "success")
    elif form.is_submitted() and "understood" in form.errors:
        flash(_("Tick the box to confirm: this cannot be undone."), "error")
    return _to(election)


@bp.route("/elections/<int:election_id>/vote", methods=["GET", "POST"])
@login_required
def vote(election_id):
    election = _election(election_id)
    view = services.election_view(election, current_user)
    poll = view.runoff or view.poll
    if poll is None:
        return _to(election)
    return ballot_page(BallotPage(
        poll, heading=_("Committee election") + (" · " + _("runoff") if view.runoff else ""),
        back_url=url_for("committee.election", election_id=election.id),
        action_url=url_for("committee.vote", election_id=election.id), seat_id=_my_seat_id()))


@bp.route("/elections/<int:election_id>/export.<fmt>")
@bureau_required
def export(election_id, fmt):
    election = _election(election_id)
    if election.state != ElectionState.CLOSED:
        raise Conflict(_("Export once the election has closed."), "election")
    return table_response(services.export_rows(services.election_view(election, current_user)),
                          f"election-{election.id}", fmt, _("Committee election"),
                          services.export_heading(election, current_user.programme))


@bp.route("/sessions/<int:session_id>/pick", methods=["GET", "POST"])
@login_required
def pick(session_id):
    session = schedule.session_for(current_user, session_id)
    view = topics.session_topic(session, current_user)
    form = PickForm()
    form.nomination_id.choices = [(n.id, isolate(n.title)) for n in view.nominations]
    if form.validate_on_submit():
        try:
            services.record_pick(session, current_user, form.nomination_id.data, form.rationale.data)
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Your pick is recorded, signed with your name."), "success")
            return redirect(url_for("committee.pick", session_id=session.id))
    term = services.sitting_term(current_user.programme_id)
    return render_template("committee/pick.html", view=view, form=form, picks=services.picks(session.id),
                           member=services.is_member(current_user, term)), 422 if form.errors else 200


def who_decides(session) -> dict:
    """For the session page's decision card (SPEC §3.3, §4.1): who decides this session's topic and why — the
    members sitting today, or the bureau and the reason (first sessions, no committee, a recall, a committee
    of fewer than 2, the deadline passed). A template global, so the topics room needs nothing from this one."""
    programme = current_user.programme
    who = topics.decider_of(session, programme)  # the rule lives in salon.rules.topics
    if who.who == topic_rules.COMMITTEE:
        # A sealed vote's count awaited: the deadline runs from the count, so it has not started (docs/committee.md).
        awaiting = topics.awaiting_count(topics.topic_poll(session.id))
        return {"decider": "committee", "members": services.sitting_members(services.sitting_term(programme.id)),
                "why": "", "deadline": who.deadline,
                "awaiting": _("The trustees have not yet decrypted the vote's count: the committee's %(n)d days to "
                              "decide start once it is known; until then the bureau does not take over.",
                              n=programme.decision_deadline_days) if awaiting else ""}
    why = services.decider_reason_text(who.reason, programme)
    if who.reason in (topic_rules.NO_COMMITTEE, topic_rules.RECALL, topic_rules.VACANCY):
        why = services.standing(programme.id).reason or why  # says whether an election is under way
    return {"decider": "bureau", "members": [], "why": why, "deadline": who.deadline, "awaiting": ""}


def decided_by(decision, counts_published: bool) -> services.DecisionShown:
    """A template global: the decision as every page shows it (services.shown_decision)."""
    return services.shown_decision(decision, counts_published)


DEADLINE_WARNING = timedelta(days=1)  # the bureau is warned this long before the committee's deadline


def _running_election(context: TaskContext):
    """The election under way (at most one: services.open_election), read once for the home page."""
    return context.shared("committee.running_election", lambda: services.running_election(context.user.programme_id))


def catch_up(context: TaskContext) -> None:
    """Before the home page's tasks: an election whose ballot has closed is counted (SPEC §4), places that fell
    vacant are recorded and filled (SPEC §4.1)."""
    close_due_polls(context)
    services.count_if_closed(_running_election(context), context.programme, context.now)
    if any(not sits and member.user_id is not None for member, sits in members_now_of(context)):
        services.reconcile(context.user.programme_id, None, context.now, sitting_term_of(context))
        context.forget("committee.members_now")


def committee_tasks(context: TaskContext) -> list[Task]:
    """SPEC §4, §4.1 on the home page: elections (first, next, by-election), standing, voting, members' picks,
    and the committee's decision deadline."""
    user, programme, now = context.user, context.programme, context.now
    found = []
    term = sitting_term_of(context)
    election = _running_election(context)
    if election is not None and election.state == ElectionState.CLOSED:  # counted by the catch-up
        election = None
    # A sitting committee or a running election means an election was held: the first is not due.
    if user.is_bureau and term is None and election is None and services.first_election_due(programme):
        found.append(Task(_("The bureau-decided sessions are held: open the first committee election."),
                          url_for("committee.index"), True))
    if user.is_bureau and election is None and term is not None:
        sitting = len(sitting_members_of(context))
        if sitting < topic_rules.MIN_SITTING:
            found.append(Task(_("Fewer than 2 members of the committee sit: the bureau decides until a by-election "
                                "fills the places. Open the by-election."), url_for("committee.index"), True))
        if term.ends_at is not None and rules.next_election_prompted(term.ends_at, now):
            found.append(Task(_("The committee's term ends on %(when)s: open the next election; the committee "
                                "decides until its successor is seated.",
                                when=format_datetime(term.ends_at, "yyyy-MM-dd")),
                              url_for("committee.index"), True, due=term.ends_at))
    if election is not None:
        url = url_for("committee.election", election_id=election.id)
        if election.state == ElectionState.STANDING:
            if user.is_bureau:
                alarm = services.fewer_candidates_alarm(election, now)
                text = (_("Committee election: fewer candidates than seats — extend standing or open the vote.")
                        if alarm else _("Committee election: open the vote when standing closes."))
                found.append(Task(text, url, alarm or now >= election.standing_until))
            elif now < election.standing_until:
                seat_id = context.seat.id if context.seat is not None else programmes.seat_id_of(user)
                nominated = next((c for c in services.candidates(election.id)
                                  if c.seat_id == seat_id and c.accepted_at is None), None)
                if nominated is not None:
                    found.append(Task(_("You were nominated for the committee: accept to stand (standing closes "
                                        "%(when)s).", when=session_time(election.standing_until)), url, True))
                else:
                    found.append(Task(_("Committee election: standing is open — stand, or nominate a secretary."),
                                      url))
        else:
            view = services.election_view(election, user, now)
            if view.eligible and not view.voted:
                found.append(Task(_("Committee election: you have not voted."),
                                  url_for("committee.vote", election_id=election.id), True))
    member = term is not None and services.is_member(user, term, sitting_members_of(context))
    if term is not None and (member or user.is_bureau):  # the deadline matters only while a committee sits
        for item in topics.tasks_state_of(context):
            if item.poll_state != "closed" or item.decided:
                continue
            who = item.who
            if item.awaiting_count:  # nothing to decide yet (SPEC §5.1): the bureau's line is the topics room's
                if member and who.who == topic_rules.COMMITTEE:
                    names = topics.awaited_trustees_of(context).get(item.poll.id, ())
                    found.append(Task(
                        _("Session %(n)d: the trustees have not yet decrypted the vote's count; record your "
                          "committee pick once it is known (the committee's days to decide start then).",
                          n=item.session.number),
                        url_for("committee.pick", session_id=item.session.id), False,
                        detail=_("The count awaits the trustees: %(names)s.", names="、".join(names)) if names
                        else None, due=item.session.starts_at))
            elif member and who.who == topic_rules.COMMITTEE:
                found.append(Task(_("Session %(n)d: record your committee pick.", n=item.session.number),
                                  url_for("committee.pick", session_id=item.session.id), True, due=who.deadline,
                                  detail=topics.overdue_detail(item, context)))
            elif user.is_bureau and who.who == topic_rules.COMMITTEE and who.deadline is not None \
                    and now >= who.deadline - DEADLINE_WARNING:
                found.append(Task(_("Session %(n)d: the committee has until %(when)s to reach a majority; then the "
                                    "bureau decides.", n=item.session.number,
                                    when=format_datetime(who.deadline, "yyyy-MM-dd HH:mm")),
                                  url_for("topics.session", session_id=item.session.id), True, due=who.deadline))
            elif user.is_bureau and who.reason == topic_rules.DEADLINE:
                found.append(Task(_("Session %(n)d: the committee did not decide by %(when)s; the bureau decides "
                                    "now.", n=item.session.number,
                                    when=format_datetime(who.deadline, "yyyy-MM-dd HH:mm")),
                                  url_for("topics.decide", session_id=item.session.id), True))
    return found
