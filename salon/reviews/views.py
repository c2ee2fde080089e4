"""Pages: the half-year review — open it, the roll, the QR check-in, the secret ballot, the result with the
arithmetic of the rule, the printable report and the exports."""
from __future__ import annotations

import re

import qrcode
import qrcode.image.svg
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from salon import clock
from salon.accounts.auth import bureau_required, login_required
from salon.ballots.hooks import close_due_polls
from salon.ballots.vote_page import BallotPage, ballot_page
from salon.committee.terms import sitting_term_of
from salon.errors import Conflict, DomainError, Forbidden, NotFound
from salon.exports import FORMATS, table_response
from salon.forms import EmptyForm, flash_error, show_error
from salon.home import notices
from salon.home.tasks import Task, TaskContext
from salon.i18n import isolate, session_time
from salon.programmes import services as programmes
from salon.reviews import services
from salon.reviews.forms import CloseReviewForm, OpenReviewForm, RollOffForm
from salon.reviews.document import pdf_response
from salon.reviews.models import ReviewState
from salon.rules import committee as rules

bp = Blueprint("reviews", __name__, url_prefix="/reviews")


def _review(review_id):
    return services.get_review(review_id, current_user.programme_id)


def _to(review):
    return redirect(url_for("reviews.review", review_id=review.id))


def _outcome_helpers() -> dict:
    return {"progress_line": services.progress_line, "action_line": services.action_line}


def _my_seat_id():
    return programmes.seat_id_of(current_user)


@bp.route("/")
@login_required
def index():
    programme = current_user.programme
    services.advance(programme)
    return render_template("reviews/index.html", reviews=services.reviews(programme.id),
                           due=services.due(programme, clock.utcnow()), upcoming=services.next_window(programme),
                           open_now=services.open_review_of(programme.id))


def _confirm_page(form, status: int = 200):
    try:
        plan = services.opening(current_user.programme)
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("reviews.index"))
    return render_template("reviews/open.html", plan=plan, form=form, rules=rules,
                           decided_by_label=services.decided_by_label), status


@bp.route("/new")
@bureau_required
def confirm_open():
    """Before the review opens (it cannot be undone): what it covers, whether it is early, what happens."""
    return _confirm_page(OpenReviewForm())


@bp.route("/", methods=["POST"])
@bureau_required
def open_review():
    form = OpenReviewForm()
    if not form.validate_on_submit():
        return _confirm_page(form, 422)
    try:
        review = services.open_review(current_user.programme, current_user, reason=form.reason.data,
                                      confirm_empty=form.confirm_empty.data)
    except DomainError as exc:
        if exc.field not in ("reason", "confirm_empty"):
            raise
        show_error(form, exc)
        return _confirm_page(form, exc.status)
    flash(_("The review is open: take the roll or show the check-in code."), "success")
    return _to(review)


@bp.route("/<int:review_id>")
@login_required
def review(review_id):
    return _review_page(_review(review_id))


def _review_page(review, off_form=None, close_form=None, status: int = 200):
    """The review's page; off_form, close_form: a form sent back with its errors under its fields."""
    view = services.review_view(review, current_user)
    communities = programmes.communities(current_user.programme_id, active_only=True) if view.roll else []
    off_form = off_form or RollOffForm(formdata=None)
    off_form.seat_id.choices = [(c.seat.id, isolate(c.name)) for c in communities if c.seat.id in view.present_seats]
    return render_template("reviews/review.html", view=view, communities=communities, button_form=EmptyForm(),
                           off_form=off_form, close_form=close_form or CloseReviewForm(formdata=None), rules=rules,
                           decided_by_label=services.decided_by_label, **_outcome_helpers()), status


@bp.route("/<int:review_id>/roll", methods=["POST"])
@login_required
def roll(review_id):
    review = _review(review_id)
    if EmptyForm().validate_on_submit():
        seat_ids = [int(v) for v in request.form.getlist("seat_ids") if v.isdigit()]
        try:
            marked = services.take_roll(review, current_user, seat_ids)
        except DomainError as exc:
            flash_error(exc)
            return _to(review)
        flash(_("%(n)d marked present.", n=marked), "success")
    return _to(review)


@bp.route("/<int:review_id>/roll/off", methods=["POST"])
@login_required
def roll_off(review_id):
    """Take a seat off the roll, with a reason, until it has voted (SPEC §4.1)."""
    review = _review(review_id)
    form = RollOffForm()
    form.seat_id.choices = [(seat_id, "") for seat_id in services.present_seats(review.id)]
    if not services.can_take_roll(current_user, review):
        raise Forbidden(_("Only the bureau and the chair take the roll."), "review")
    if form.validate_on_submit():
        try:
            services.take_off_roll(review, current_user, form.seat_id.data, form.reason.data)
        except DomainError as exc:
            flash_error(exc)
            return _to(review)
        flash(_("Taken off the roll."), "success")
    elif form.text_refused:
        return _review_page(review, off_form=form, status=422)
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    return _to(review)


def qr_svg(url: str) -> Markup:
    """The QR code as inline SVG, drawn by the qrcode library (no CDN, no image file)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=12)
    svg = image.to_string(encoding="unicode")  # the library's own markup; the URL in it is ours
    label = escape(_("QR code: scan it to check in"))
    return Markup(re.sub(r'^<svg width="[^"]*" height="[^"]*"', f'<svg width="100%" role="img" aria-label="{label}"', svg))


@bp.route("/<int:review_id>/qr")
@login_required
def qr(review_id):
    review = _review(review_id)
    if not services.can_take_roll(current_user, review):
        raise Forbidden(_("Only the bureau and the chair take the roll."), "review")
    if not services.checkin_open(review):
        # Check-in is over: no code to scan (the link would only be refused).
        return render_template("reviews/qr.html", review=review, url=None, svg=None)
    url = url_for("reviews.checkin", token=services.checkin_token(review), _external=True)
    return render_template("reviews/qr.html", review=review, url=url, svg=qr_svg(url))


@bp.route("/checkin/<token>", methods=["GET", "POST"])
@login_required
def checkin(token):
    programme = current_user.programme
    review = services.review_of_token(token, programme.id)
    if request.method == "POST" and EmptyForm().validate_on_submit():
        added = services.check_in(review, current_user)
        flash(_("You are checked in: you may vote.") if added else _("You had already checked in."), "success")
        return redirect(url_for("reviews.vote", review_id=review.id))
    return render_template("reviews/checkin.html", review=review, button_form=EmptyForm(),
                           present=_my_seat_id() in services.present_seats(review.id))


@bp.route("/<int:review_id>/vote", methods=["GET", "POST"])
@login_required
def vote(review_id):
    review = _review(review_id)
    view = services.review_view(review, current_user)
    notes = {}
    for question in view.poll.questions:
        row = next((r for r in view.topics if r.session_id == question.ref_id), None)
        if row is not None and question.ref_id is not None:
            notes[question.id] = [_("Session %(n)d", n=row.number or 0)] + services.outcome_notes(row.outcomes)
    return ballot_page(BallotPage(
        view.poll, heading=_("Half-year review"), back_url=url_for("reviews.review", review_id=review.id),
        action_url=url_for("reviews.vote", review_id=review.id), seat_id=_my_seat_id(),
        intro=(_("Only those present vote. For each topic: was it effective? Then: do you support the committee's "
                 "choice of topics?") if view.topics else
               _("Only those present vote. No topic chosen by the committee was held in the period: the ballot asks "
                 "only whether you support the committee's choice of topics.")), notes=notes,
        not_eligible=_("You are not checked in: only those present vote. Check in by scanning the code shown at "
                       "the venue, or ask the chair to mark you present.")))


@bp.route("/<int:review_id>/close", methods=["POST"])
@bureau_required
def close(review_id):
    """Closing cannot be undone: the form carries an "I understand" box the page asks to tick (and, with
    JavaScript, a confirmation), so the close is confirmed with or without a script."""
    review = _review(review_id)
    form = CloseReviewForm()
    if form.validate_on_submit():
        services.close_review(review, current_user.programme, current_user)
        if review.state == ReviewState.OPEN:  # a sealed ballot: the rule waits for the trustees' count
            flash(_("Check-in and voting have ended. The rule is applied once the trustees have decrypted the "
                    "count."), "success")
        else:
            flash(_("The review is closed."), "success")
    elif form.text_refused:
        return _review_page(review, close_form=form, status=422)
    elif form.is_submitted() and "understood" in form.errors:
        flash(_("Tick the box to confirm that you want to close the review."), "error")
    return _to(review)


@bp.route("/<int:review_id>/report")
@login_required
def report(review_id):
    view = services.review_view(_review(review_id), current_user)
    return render_template("reviews/report.html", view=view, programme=current_user.programme, rules=rules,
                           **_outcome_helpers())


@bp.route("/<int:review_id>/report.pdf")
@login_required
def report_pdf(review_id):
    view = services.review_view(_review(review_id), current_user)
    return pdf_response(view, current_user.programme)


@bp.route("/<int:review_id>/export.<fmt>")
@bureau_required
def export(review_id, fmt):
    review = _review(review_id)
    if fmt not in FORMATS:
        raise NotFound(_("Not found."), "fmt")
    if review.state != ReviewState.CLOSED:
        raise Conflict(_("Export once the review has closed."), "review")
    return table_response(services.export_rows(review, services.review_view(review, current_user)),
                          f"review-{review.id}", fmt, _("Half-year review"),
                          services.export_heading(review, current_user.programme))


CHECKIN_STAGE = "review_checkin"


def checkin_notice(programme, link, deadline, hours) -> str:
    """The group's notice when a review opens. It links the review's page, not the check-in link: only those at
    the venue check in, by scanning the QR code shown there (SPEC §4), so the signed link stays off the group."""
    return _("[%(programme)s] The half-year review is open. Secretaries at the venue: scan the QR code shown there "
             "to check in, then vote; only those present vote. Check-in closes at %(deadline)s (%(hours)d hours "
             "after the opening). The review: %(link)s", programme=programme.name, hours=hours,
             deadline=session_time(deadline), link=link)


def _latest_review(context: TaskContext):
    """The programme's latest review and how many of the sitting term's reviews counted, read once for the home
    page (services.latest_review)."""
    return context.shared("reviews.latest", lambda: services.latest_review(
        context.user.programme_id, getattr(sitting_term_of(context), "id", None)))


def catch_up(context: TaskContext) -> None:
    """Before the home page's tasks: a review whose ballot has closed gets its outcome (SPEC §4); a recall ends
    the term, so what the page read of the committee and the reviews is read again."""
    close_due_polls(context)
    if services.apply_if_closed(_latest_review(context)[0], context.programme, context.now):
        for key in ("reviews.latest", "committee.sitting_term", "committee.members_now", "committee.last_term"):
            context.forget(key)


def review_tasks(context: TaskContext) -> list[Task]:
    """SPEC §4 on the home page: a review due (bureau), check in and vote (secretaries), a void review."""
    user, programme, now = context.user, context.programme, context.now
    found = []
    latest, held = _latest_review(context)
    current = latest if latest is not None and latest.state == ReviewState.OPEN else None
    void_again = user.is_bureau and current is None and latest is not None and latest.outcome == rules.VOID
    if user.is_bureau and not void_again \
            and services.due(programme, now, False, sitting_term_of(context), current, held) is not None:
        found.append(Task(_("The committee's half-year review is due: hold it."), url_for("reviews.index"), True))
    if current is not None and user.is_bureau and now < current.checkin_until:
        link = url_for("reviews.review", review_id=current.id, _external=True)
        found.append(Task(
            _("The half-year review is open: %(n)d communities have checked in; check-in closes %(when)s. Show the "
              "check-in code at the venue.", n=len(services.present_seats(current.id)),
              when=session_time(current.checkin_until)),
            url_for("reviews.qr", review_id=current.id), True, due=current.checkin_until, stage=CHECKIN_STAGE,
            notice=notices.notice(CHECKIN_STAGE, programme=programme, link=link, deadline=current.checkin_until,
                                  hours=services.checkin_hours(current))))
    if current is not None and user.is_secretary:
        found.append(Task(_("The half-year review is open: check in at the venue, then vote."),
                          url_for("reviews.review", review_id=current.id), True))
    if void_again:  # says "hold it again"; the plain "review due" task would say the same twice
        found.append(Task(_("The last review was void (no quorum): hold it again."), url_for("reviews.index"), True))
    return found
