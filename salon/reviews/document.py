"""The half-year review report as a PDF (SPEC §4), laid out with the shared renderer salon.pdf.

The same content as the printable report page: the rule's arithmetic in words, what happens next, turnout,
the per-topic effectiveness (counts only where SPEC §5 lets them be published) and each topic's resolutions and
how far its action items got."""
from __future__ import annotations

from flask import Response
from flask_babel import format_datetime
from flask_babel import gettext as _

from salon import pdf
from salon.pdf import WIDTH, mm
from salon.reviews import services
from salon.reviews.services import EFFECT_CODES, LABELS, ReviewView


def _day(moment) -> str:
    return format_datetime(moment, "yyyy-MM-dd") if moment else "—"


def _result(view: ReviewView) -> list:
    r = view.review
    out = [pdf.heading(_("Result")), pdf.para(view.arithmetic, "h2"), pdf.para(view.next_step)]
    rule = _("The rule: re-election when those opposing are more than %(t)d%% of those present. Present but silent, "
             "blank and abstaining count only among those present.", t=r.threshold_pct)
    if r.quorum_required:
        rule += " " + _("Quorum: more than half of the %(a)d active communities present.", a=r.active_communities)
    out.append(pdf.para(rule, "small"))
    turnout = _("Turnout: %(n)d of %(m)d present.", n=view.results.turnout, m=r.present or 0)
    if view.overall:
        turnout += " " + _("Support %(s)d · abstain %(a)d · oppose %(o)d.", s=view.overall.get("support", 0),
                           a=view.overall.get("abstain", 0), o=r.oppose)
    out.append(pdf.para(turnout))
    return out


def _effectiveness(view: ReviewView) -> list:
    out = [pdf.heading(_("Topics reviewed"))]
    if not view.topics:
        return out + [pdf.para(_("No topic chosen by the committee was held in the period."))]
    closed = view.review.present is not None
    if closed and any(t.counts for t in view.topics):
        rows = [[_("Session"), _("Topic")] + [str(LABELS[c]) for c in EFFECT_CODES]]
        for t in view.topics:
            counts = [str(t.counts.get(c, 0)) for c in EFFECT_CODES] if t.counts else [_("withheld")] * 4
            rows.append([str(t.number or ""), t.title] + counts)
        out.append(pdf.table(rows, [16 * mm, WIDTH - 16 * mm - 4 * 22 * mm] + [22 * mm] * 4))
    else:
        rows = [[_("Session"), _("Topic")]] + [[str(t.number or ""), t.title] for t in view.topics]
        out.append(pdf.table(rows, [16 * mm, WIDTH - 16 * mm]))
        if closed:
            out.append(pdf.para(_("Counts withheld (too few ballots)."), "small"))
    return out


def _outcomes(view: ReviewView) -> list:
    out = []
    if view.topics:
        out.append(pdf.heading(_("Resolutions and action items")))
    for t in view.topics:
        o = t.outcomes
        block = [pdf.para(_("Session %(n)d", n=t.number or 0) + " · " + t.title, "h2")]
        if o is not None and o.resolutions:
            block.append(pdf.table([[f"{res.number}.", res.text] for res in o.resolutions],
                                   [10 * mm, WIDTH - 10 * mm], header=False, grid=False))
        else:
            block.append(pdf.para(_("No resolutions."), "small"))
        block.append(pdf.para(services.progress_line(o), "small"))
        out.append(pdf.keep(*block))
        if o is not None and o.actions:
            rows = [[_("Action item"), _("Owner unit"), _("Due date"), _("Status")]]
            for a in o.actions:
                state = services.outcomes.status_label(a.status) + (" · " + _("overdue") if a.overdue else "")
                rows.append([a.what, a.owner_unit, a.due_on.isoformat() if a.due_on else "—", state])
            out.append(pdf.table(rows, [WIDTH - 105 * mm, 40 * mm, 25 * mm, 40 * mm]))
    return out


def review_pdf(view: ReviewView, programme) -> bytes:
    r = view.review
    story = [pdf.para(programme.name, "subtitle"), pdf.para(_("Half-year review report"), "title"),
             pdf.space(3 * mm),
             pdf.facts([(_("Period"), f"{_day(r.period_start)} – {_day(r.period_end)}"),
                        (_("Opened on"), _day(r.opened_at)), (_("Closed on"), _day(r.closed_at))]),
             pdf.space(2 * mm)]
    if r.present is not None:
        story += _result(view)
    else:
        story.append(pdf.para(_("The review is still open.")))
    story += _effectiveness(view) + _outcomes(view)
    story.append(pdf.space(4 * mm))
    story.append(pdf.para(_("Secret ballot: counts only; who voted how is not recorded anywhere."), "small"))
    title = f"{programme.name} · " + _("Half-year review report")
    return pdf.render(story, title=title, author=programme.name, subject=_("Half-year review report"), footer=title)


def pdf_response(view: ReviewView, programme) -> Response:
    response = Response(review_pdf(view, programme), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename=review-{view.review.id}.pdf"
    response.headers["Cache-Control"] = "private, no-store"
    return response
