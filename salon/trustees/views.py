"""Pages: the programme's trustee terms (and the bureau's announce and draw), a term's page where a trustee's own
device runs the key ceremony and decrypts closed polls (salon/static/trustees.js), and the JSON the device
reads and posts (the same services as the API; logged-in, CSRF token in a header)."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user

from salon import clock
from salon.accounts.auth import bureau_required, login_required
from salon.ballots import services as ballots
from salon.committee import services as committee
from salon.errors import DomainError, ValidationFailed
from salon.errors.answers import json_error
from salon.forms import EmptyForm
from salon.home.tasks import Task, TaskContext
from salon.security import IMPORT_MAP, SEALING_POLICY
from salon.trustees import services
from salon.trustees.models import ANNOUNCED, CHECKING, COMMITTEE, DEALING, DRAWN, FAILED, READY, SHARING

bp = Blueprint("trustees", __name__, url_prefix="/trustees")


def state_label(state: str) -> str:
    return {ANNOUNCED: _("seed published, not drawn yet"), DEALING: _("trustees are dealing"),
            SHARING: _("trustees are sending their shares"), CHECKING: _("trustees are checking their shares"),
            READY: _("key ready"), FAILED: _("failed: fewer than three trustees left")}.get(state, state)


def complaint_text(c) -> str:
    """A complaint and its verdict in words, for the term's page (docs/sealed-ballots.md, "Complaints")."""
    if c.verdict == "restarted":  # before complaints carried evidence (migration 0013)
        return _("In round %(round)d trustee %(by)d reported that the share dealt by trustee %(against)d failed "
                 "its check: the ceremony started again.", round=c.round, by=c.by, against=c.against)
    said = _("Round %(round)d: trustee %(by)d complained that the share dealt to them by trustee %(against)d "
             "failed.", round=c.round, by=c.by, against=c.against)
    if c.verdict == "rejected":
        return said + " " + _("Rejected: with the key the complainer disclosed, the share opens and checks out "
                              "against trustee %(against)d’s commitments. It is published below, the complainer "
                              "uses it, and the ceremony goes on.", against=c.against)
    if c.reason == "does-not-open":
        why = _("Upheld: with the key the complainer disclosed (and proved), the share does not open.")
    else:
        why = _("Upheld: the share opens with the key the complainer disclosed, but fails the check against "
                "trustee %(against)d’s commitments.", against=c.against)
    return said + " " + why + " " + _("Trustee %(against)d is dropped and the ceremony started again without "
                                      "them.", against=c.against)


def step_label(state: str) -> str:
    """What a trustee does at a step of the ceremony, for 'not done yet' and 'missed the deadline of'."""
    return {DEALING: _("dealing"), SHARING: _("sending the shares"),
            CHECKING: _("confirming the key")}.get(state, state)


def when(moment) -> str:
    return format_datetime(moment, "yyyy-MM-dd HH:mm")


def kind_label(term) -> str:
    return _("The committee's trustees") if term.kind == COMMITTEE else _("Trustees drawn by lot")


@bp.route("/")
@login_required
def index():
    programme = current_user.programme
    now = clock.utcnow()
    services.advance(programme, now)
    drawn = services.current_drawn(programme.id)
    terms, sitting = services.terms(programme.id), _sitting_id(programme.id)
    return render_template("trustees/index.html", terms=terms, drawn=drawn,
                           announce_due=services.announce_due(programme.id, now, drawn),
                           entries=services.lot_entries(programme.id) if drawn and drawn.state == ANNOUNCED else [],
                           mine={term.id for term, _t in services.terms_of(current_user)},
                           complaints=services.complaint_counts([t.id for t in terms]),
                           late=services.late_counts([t.id for t in terms]),
                           serving={t.id for t in terms if services.serves_new_polls(t, now, sitting)},
                           kind_label=kind_label, button_form=EmptyForm(), now=now)


def _sitting_id(programme_id: int) -> int | None:
    sitting = committee.sitting_term(programme_id)
    return sitting.id if sitting else None


@bp.route("/announce", methods=["POST"])
@bureau_required
def announce():
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            services.announce_draw(current_user.programme, current_user)
            flash(_("The seed is published: draw the trustees when you are ready."), "success")
        except DomainError as exc:
            flash(exc.message, "error")
    return redirect(url_for("trustees.index"))


@bp.route("/<int:term_id>/draw", methods=["POST"])
@bureau_required
def draw(term_id):
    term = services.get_term(term_id, current_user.programme_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            services.draw(term, current_user)
            flash(_("The trustees are drawn: each now opens this page on their own device."), "success")
        except DomainError as exc:
            flash(exc.message, "error")
    return redirect(url_for("trustees.term", term_id=term.id))


@bp.route("/<int:term_id>")
@login_required
def term(term_id):
    term = services.get_term(term_id, current_user.programme_id)
    services.enforce_deadline(term, clock.utcnow())
    trustee = services.trustee_of(term, current_user)
    awaiting = []
    if trustee is not None and term.state == READY:
        awaiting = ballots.polls_to_decrypt(term.programme_id, term.key_term, trustee.index)
    body = render_template("trustees/term.html", term=term, trustee=trustee, lot=services.lot_rows(term),
                           dropped=services.dropped_from(term, current_user), complaint_text=complaint_text,
                           at_step=services.awaited_at_step(term), step_label=step_label,
                           awaiting=awaiting, awaited=services.polls_awaited(term), poll_title=ballots.poll_title,
                           kind_label=kind_label, import_map=IMPORT_MAP,
                           storage_key=f"salon-trustee:p{term.programme_id}:k{term.id}:u{current_user.id}")
    # A trustee's page runs the device's modules: its policy allows the import map by its hash (salon.security).
    return (body, 200, {"Content-Security-Policy": SEALING_POLICY}) if trustee is not None else body


# --- what the trustee's device reads and posts --------------------------------------------------------------

def _device(view):
    """A JSON endpoint of the device: a trustee of the term only; a refusal is the API's error body."""

    @wraps(view)
    @login_required
    def wrapped(term_id, **kwargs):
        try:
            term = services.get_term(term_id, current_user.programme_id)
            services.enforce_deadline(term, clock.utcnow())
            return view(term, **kwargs)
        except DomainError as exc:
            return json_error(exc.status, exc.message, exc.as_fields())

    return wrapped


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed(_("The request body is not valid JSON."), "body")
    return data


@bp.route("/<int:term_id>/device")
@_device
def device(term):
    return _device_state(term)


def _device_state(term):
    """What a trustee's device reads after each step: the term's state and its own part."""
    return jsonify(services.device_state(term, services.trustee_of(term, current_user)))


@bp.route("/<int:term_id>/device/dealing", methods=["POST"])
@_device
def device_dealing(term):
    data = _body()
    services.post_dealing(term, current_user, data.get("transport_key"), data.get("commitments"),
                          data.get("proofs"), data.get("round"))
    return _device_state(term)


@bp.route("/<int:term_id>/device/shares", methods=["POST"])
@_device
def device_shares(term):
    data = _body()
    services.post_shares(term, current_user, data.get("shares"), data.get("round"))
    return _device_state(term)


@bp.route("/<int:term_id>/device/confirm", methods=["POST"])
@_device
def device_confirm(term):
    data = _body()
    services.confirm(term, current_user, data.get("public_key"), data.get("round"))
    return _device_state(term)


@bp.route("/<int:term_id>/device/complaint", methods=["POST"])
@_device
def device_complaint(term):
    data = _body()
    services.complain(term, current_user, data.get("dealer"), data.get("evidence"), data.get("round"))
    return _device_state(term)


@bp.route("/<int:term_id>/device/polls/<int:poll_id>")
@_device
def device_poll(term, poll_id):
    return jsonify(services.decryption_request_for(term, current_user, poll_id))


@bp.route("/<int:term_id>/device/polls/<int:poll_id>", methods=["POST"])
@_device
def device_decrypt(term, poll_id):
    counted = services.decrypt(term, current_user, poll_id, _body().get("decryption"))
    return jsonify({"counted": counted})


# --- the home page ---------------------------------------------------------------------------------------------

def _home_rows(context: TaskContext):
    return context.shared("trustees.home_rows", lambda: services.home_rows(context.user))


def catch_up(context: TaskContext) -> None:
    """Before the home page's tasks: a ceremony's step whose deadline has come, among the terms the page shows,
    drops its late trustees (services.enforce_deadline); no statement when none has. (A committee's trustees start
    when it is seated: nothing else to catch up.)"""
    due = [term for term, _t in _home_rows(context) if services.deadline_due(term, context.now)]
    if due:
        for term in due:
            services.enforce_deadline(term, context.now)
        context.forget("trustees.home_rows")


def trustee_tasks(context: TaskContext) -> list[Task]:
    """A trustee's step of a ceremony under way, with its deadline, or closed polls awaiting their decryption
    (one click); the bureau's prompt to draw trustees when no drawn key is ready, and, while a ceremony is under
    way, who has not done its step yet (and who a deadline dropped). One statement, plus the engine's question per
    ready term the user is a trustee of, plus one for the trustees' names while a ceremony is under way."""
    user, now = context.user, context.now
    rows = _home_rows(context)
    found = []
    for term, trustee in rows:
        if trustee is None:
            continue
        url = url_for("trustees.term", term_id=term.id)
        if term.state in (DEALING, SHARING, CHECKING) and not services.has_done_step(term, trustee):
            found.append(Task(_("You are a trustee of the sealed ballots' key: open the key ceremony on your own "
                                "device before %(when)s, or you are dropped from it.", when=when(term.deadline)),
                              url, True, due=term.deadline))
        elif services.may_await_decryption(term, now):
            polls = ballots.polls_to_decrypt(term.programme_id, term.key_term, trustee.index)
            late = [poll for poll in polls if services.decryption_overdue(poll, now)]
            if late:
                found.append(Task(_("%(n)d closed polls await your decryption, %(late)d of them overdue (the "
                                    "trustees had until %(when)s): one click on your own device.", n=len(polls),
                                    late=len(late), when=when(services.decryption_deadline(late[0]))),
                                  url, True, due=services.decryption_deadline(late[0])))
            elif polls:
                found.append(Task(_("%(n)d closed polls await your decryption: one click on your own device.",
                                    n=len(polls)), url, True))
    if user.is_bureau:
        found += _ceremonies_under_way(rows)
        found += _outcomes_overdue(user.programme_id, now)
        drawn = next((term for term, _t in rows if term.kind == DRAWN and term.retired_at is None), None)
        if drawn is not None and drawn.state == ANNOUNCED:
            found.append(Task(_("The trustees' seed is published: draw the trustees."),
                              url_for("trustees.index"), True))
        elif not (drawn is not None and services.serves_new_polls(drawn, now)) \
                and services.announce_due(user.programme_id, now, drawn):
            found.append(Task(_("No trustee key is ready: no vote, review or election can open. Draw the trustees."),
                              url_for("trustees.index"), True))
    return found


def _outcomes_overdue(programme_id: int, now) -> list[Task]:
    """The bureau's warning for each election or review whose count the trustees have not decrypted by their
    deadline: no outcome comes without it (docs/sealed-ballots.md, "When the trustees do not decrypt in time")."""
    kinds = {"election": _("The committee election"), "review": _("The committee review")}
    return [Task(_("%(what)s closed %(closed)s, and its count is overdue: the trustees had until %(when)s to decrypt "
                   "it. Its outcome waits for the count.", what=kinds.get(poll.kind, poll.kind),
                   closed=when(poll.closed_at), when=when(services.decryption_deadline(poll))),
                 url_for("trustees.index"), True,
                 detail=_("The count awaits the trustees: %(names)s.", names="、".join(names)) if names else None,
                 due=services.decryption_deadline(poll))
            for poll, names in services.overdue_outcomes(programme_id, now)]


def _ceremonies_under_way(rows) -> list[Task]:
    """The bureau's view of each ceremony under way: who has not done the current step, before its deadline drops
    them, and who a deadline has dropped already (docs/sealed-ballots.md, "Deadlines")."""
    under_way = {term.id: term for term, _t in rows if term.state in (DEALING, SHARING, CHECKING)
                 and term.retired_at is None and term.deadline is not None}
    people = services.ceremony_trustees(sorted(under_way))
    found = []
    for term_id, term in sorted(under_way.items()):
        trustees = people.get(term_id, [])
        awaited = [t.user.display_name for t in trustees if t.dropped_at is None
                   and not services.has_done_step(term, t)]
        dropped = [t.user.display_name for t in trustees if services.dropped_late(t)]
        detail = _("Dropped for missing a deadline: %(names)s.", names="、".join(dropped)) if dropped else None
        found.append(Task(_("%(kind)s: %(names)s have not finished %(step)s; at %(when)s those who have not are "
                            "dropped and the others start again.", kind=kind_label(term), names="、".join(awaited),
                            step=step_label(term.state), when=when(term.deadline)),
                          url_for("trustees.term", term_id=term.id), False, detail=detail, due=term.deadline))
    return found
