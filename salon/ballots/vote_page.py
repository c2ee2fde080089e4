"""The one vote page every kind of poll uses (topic votes, elections, reviews): approval questions as
checkboxes, single-choice questions as radio groups, several questions on one page, a confirmation step,
then the receipt. The owning room's view finds the poll and the seat and calls `ballot_page`."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from flask import flash, get_template_attribute, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup, escape

from salon.ballots import services
from salon.ballots.models import Poll, PollState
from salon.errors import DomainError, Forbidden, ValidationFailed
from salon.forms import EmptyForm
from salon.rules import ballots as rules
from salon.sealed import ballot as sealed_ballot
from salon.security import IMPORT_MAP, SEALING_POLICY


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
    # What a seat that may not vote is told, when the room knows why (a review: not checked in).
    not_eligible: str = ""


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


@dataclass(frozen=True)
class Confirmation:
    """The choice-dependent parts of the confirmation page, and the padding that makes the page, and the cast
    request its form sends, the same size in bytes whatever was chosen (docs/secrecy-leaks.md): an access log
    or an observer of the encrypted connection sees sizes, and without padding the size names the choices."""
    listings: list[Markup]
    fields: Markup
    request_pad: str  # the value of a hidden `pad` field the cast ignores
    page_pad: str  # spaces inside an HTML comment at the end of the page


def _size(text: str) -> int:
    return len(str(text).encode("utf-8"))


def _confirmation(questions: list[ShownQuestion], chosen: list[int]) -> Confirmation:
    """Each question's part padded to its longest possible rendering: the `max_choices` options whose label
    and id take the most bytes, or the blank answer if that is longer. The bound depends on the poll only."""
    listing = get_template_attribute("ballots/_picked.html", "listing")
    fields = get_template_attribute("ballots/_picked.html", "fields")

    def posted(options) -> int:  # the cast request's bytes for these options: `&choices=<id>` each
        return sum(len("&choices=") + len(str(oid)) for oid, _label in options)

    listings, shown_fields, page_pad, request_pad = [], [], 0, 0
    for q in questions:
        k = min(1 if q.kind == rules.SINGLE else q.max_choices, len(q.options))
        picked = [(oid, label) for oid, label in q.options if oid in chosen]
        shown = listing(q, [label for _oid, label in picked])
        hidden = fields([oid for oid, _label in picked])
        # The request: padded to the k options with the longest ids, with a hidden `pad` field of letters.
        most_posted = sum(sorted((posted([o]) for o in q.options), reverse=True)[:k])
        letters = most_posted - posted(picked)
        # The page holds the listing, the hidden fields and those letters: an option adds its listed label and
        # a hidden field but takes as many letters away as its id posts, so the largest page lists the k longest
        # labels (or the blank answer, if that is longer).
        widest = sorted(q.options, key=lambda o: _size(escape(o[1])), reverse=True)[:k]
        largest = max(_size(listing(q, [])) + most_posted,
                      _size(listing(q, [label for _oid, label in widest])) + _size(fields([oid for oid, _ in widest]))
                      + most_posted - posted(widest))
        page_pad += largest - _size(shown) - _size(hidden) - letters
        request_pad += letters
        listings.append(shown)
        shown_fields.append(hidden)
    return Confirmation(listings, Markup("").join(shown_fields), "x" * request_pad, " " * page_pad)


def ballot_page(page: BallotPage, now: datetime | None = None):
    """GET: the ballot. POST: the confirmation, then (confirmed=1) the cast and the receipt."""
    poll = page.poll
    questions = _questions(page)
    voted = services.has_voted(poll.id, page.seat_id) if page.voted is None else page.voted
    eligible = services.is_eligible(poll.id, page.seat_id) if page.eligible is None else page.eligible
    spec = services.seal_spec(poll) if poll.sealed and poll.state == PollState.OPEN else None
    context = {"page": page, "questions": questions, "voted": voted, "eligible": eligible,
               "form": EmptyForm(), "open": poll.state == PollState.OPEN, "seal_spec": spec,
               "import_map": IMPORT_MAP}
    if request.method != "POST" or not context["open"]:
        return _sealing(render_template("ballots/vote.html", **context), spec)
    if page.seat_id is None:
        raise Forbidden(_("Only a community's secretary can vote."), "seat")
    if not context["form"].validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return _sealing(render_template("ballots/vote.html", **context), spec, 422)
    if spec is not None and "sealed" in request.form:
        return _cast_sealed(page, context, now)
    try:
        chosen = submitted_choices(questions)
        services.check_choices(poll, chosen)
    except DomainError as exc:
        return render_template("ballots/vote.html", error=exc.message, chosen=[], **context), exc.status
    if request.form.get("confirmed") != "1":
        return _private(render_template("ballots/confirm.html", confirmation=_confirmation(questions, chosen),
                                        **context))  # no script: a sealed poll's ballot is sealed by the server
    try:
        receipt = services.cast(poll.id, page.seat_id, chosen, poll.programme_id, now)
    except DomainError as exc:
        flash(exc.message, "error")
        context["voted"] = _voted_after_refusal(exc, poll.id, page.seat_id)
        return _sealing(render_template("ballots/vote.html", **context), spec, exc.status)
    return _private(render_template("ballots/receipt.html", page=page, receipt=receipt,
                                    sealed_by="server"))


def _voted_after_refusal(exc: DomainError, poll_id: int, seat_id: int | None) -> bool:
    """Whether the seat has voted, for the page that answers a refused ballot. A ballot refused as invalid (a
    copied ciphertext among them) was refused after its seat's record was written in this transaction, which the
    error's rollback removes: read now, that record would say "voted" although nothing stays. Such a refusal means
    the seat had not voted (a seat that had is refused first, as already voted)."""
    if isinstance(exc, ValidationFailed):
        return False
    return services.has_voted(poll_id, seat_id)


# The largest sealed ballot a vote page posts: MAX_OPTIONS positions of about 450 bytes each, and some room.
MAX_SEALED_FORM = 500 * sealed_ballot.MAX_OPTIONS


def _cast_sealed(page: BallotPage, context: dict, now: datetime | None):
    """The ballot the page's script sealed in the browser (SPEC §5.1): only the ciphertexts and proofs arrive."""
    poll = page.poll
    raw = request.form.get("sealed", "")
    try:
        if len(raw) > MAX_SEALED_FORM:
            raise ValueError("too long")
        ballot = json.loads(raw)
    except ValueError:
        ballot = None
    try:
        if not isinstance(ballot, dict):
            raise ValidationFailed(_("The sealed ballot could not be read; please vote again."), "sealed")
        receipt = services.cast(poll.id, page.seat_id, None, poll.programme_id, now, sealed=ballot)
    except DomainError as exc:
        flash(exc.message, "error")
        context["voted"] = _voted_after_refusal(exc, poll.id, page.seat_id)
        return _sealing(render_template("ballots/vote.html", **context), context["seal_spec"], exc.status)
    return _private(render_template("ballots/receipt.html", page=page, receipt=receipt, sealed_by="voter"))


def _sealing(body: str, spec: dict | None, status: int = 200):
    """A vote page that seals in the browser carries the import map, which its policy allows by hash."""
    if spec is None:
        return body if status == 200 else (body, status)  # as the page answered before sealed polls
    return body, status, {"Content-Security-Policy": SEALING_POLICY}


def _private(body: str):
    """Pages that name the choices or the receipt: kept out of every cache (the voter's browser included),
    and no proxy may compress them (compression would make their size depend on the choices again)."""
    return body, 200, {"Cache-Control": "private, no-store, no-transform"}
