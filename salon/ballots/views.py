"""The one vote page every kind of poll uses (topic votes, elections, reviews): approval questions as
checkboxes, single-choice questions as radio groups, several questions on one page, a confirmation step,
then the receipt. The owning room's view finds the poll and the seat and calls `ballot_page`."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import flash, render_template, request
from flask_babel import gettext as _

from salon.ballots import services
from salon.ballots.models import Poll, PollState
from salon.errors import DomainError, Forbidden, ValidationFailed
from salon.forms import EmptyForm
from salon.rules import ballots as rules


@dataclass
class BallotPage:
    poll: Poll
    heading: str
    back_url: str
    action_url: str
    seat_id: int | None
    intro: str = ""
    # Extra lines shown above a question, keyed by question id (e.g. a topic's resolutions in a review).
    notes: dict[int, list[str]] = field(default_factory=dict)
    # What a voter may read about an option before choosing it, keyed by option id (a nomination's text).
    details: dict[int, "OptionDetail"] = field(default_factory=dict)
    # Whether the seat has voted and may vote, when the room has just read them (else read here).
    voted: bool | None = None
    eligible: bool | None = None


@dataclass(frozen=True)
class OptionDetail:
    source: str  # who it comes from (the nominating community)
    text: str = ""
    hoped: str = ""
    units: str = ""


@dataclass
class ShownQuestion:
    id: int
    text: str
    kind: str
    max_choices: int
    options: list[tuple[int, str]]
    notes: list[str]


def _questions(page: BallotPage) -> list[ShownQuestion]:
    return [ShownQuestion(q.id, services.question_text(q), q.kind, q.max_choices,
                          [(o.id, services.option_label(o)) for o in q.options], page.notes.get(q.id, []))
            for q in page.poll.questions]


def submitted_choices(questions: list[ShownQuestion]) -> list[int]:
    """Checkboxes post `choices`; each single-choice question posts `q<id>` (empty: no answer)."""
    raw = request.form.getlist("choices") + [request.form.get(f"q{q.id}", "") for q in questions
                                             if q.kind == rules.SINGLE]
    try:
        return [int(value) for value in raw if value != ""]
    except ValueError:
        raise ValidationFailed(_("Not an option of this poll."), "choices")


def ballot_page(page: BallotPage, now: datetime | None = None):
    """GET: the ballot. POST: the confirmation, then (confirmed=1) the cast and the receipt."""
    poll = page.poll
    questions = _questions(page)
    voted = services.has_voted(poll.id, page.seat_id) if page.voted is None else page.voted
    eligible = services.is_eligible(poll.id, page.seat_id) if page.eligible is None else page.eligible
    context = {"page": page, "questions": questions, "voted": voted, "eligible": eligible,
               "form": EmptyForm(), "open": poll.state == PollState.OPEN}
    if request.method != "POST" or not context["open"]:
        return render_template("ballots/vote.html", **context)
    if page.seat_id is None:
        raise Forbidden(_("Only a community's secretary can vote."), "seat")
    if not context["form"].validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return render_template("ballots/vote.html", **context), 422
    try:
        chosen = submitted_choices(questions)
        services.check_choices(poll, chosen)
    except DomainError as exc:
        return render_template("ballots/vote.html", error=exc.message, chosen=[], **context), exc.status
    if request.form.get("confirmed") != "1":
        picked = [(q, [label for oid, label in q.options if oid in chosen]) for q in questions]
        return render_template("ballots/confirm.html", chosen=chosen, picked=picked, **context)
    try:
        receipt = services.cast(poll.id, page.seat_id, chosen, poll.programme_id, now)
    except DomainError as exc:
        flash(exc.message, "error")
        context["voted"] = services.has_voted(poll.id, page.seat_id)
        return render_template("ballots/vote.html", **context), exc.status
    return render_template("ballots/receipt.html", page=page, receipt=receipt)
