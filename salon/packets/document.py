"""The session packet as a PDF (SPEC §7), laid out with salon.pdf.

Page 1: the cover (programme, 第N期, date, time, venue, chair) and the agenda. Then the topic brief, the guests
and the previous session's resolutions and action items; ruled lines for notes fill the rest of that page (or a
page of their own); last, the sign-in sheet on pages of its own, to pass round (rows never break across pages;
the header repeats)."""
from __future__ import annotations

from flask_babel import gettext as _

from salon import pdf
from salon.pdf import WIDTH, mm
from salon.packets.services import Packet


def _cover(p: Packet) -> list:
    return [
        pdf.para(p.programme, "subtitle"),
        pdf.para(_("Session %(n)d", n=p.number) + " · " + _("Session packet"), "title"),
        pdf.para(p.title, "subtitle"),
        pdf.space(4 * mm),
        pdf.facts([(_("Date"), p.date), (_("Time"), p.time), (_("Venue"), p.venue or "—"),
                   (_("Chair"), f"{p.chair}  {p.chair_secretary}".strip() or "—"),
                   (_("Organiser"), p.bureau or "—")]),
        pdf.space(3 * mm),
    ]


def _agenda(p: Packet) -> list:
    rows = [[_("Time"), _("Item"), _("Led by")]]
    for line in p.agenda:
        item = line.title + (f"\n{line.note}" if line.note else "")
        rows.append([f"{line.starts}–{line.ends}", item, line.lead])
    if len(rows) == 1:
        rows.append(["", _("The agenda is created when the topic is decided."), ""])
    return [pdf.heading(_("Agenda")), pdf.table(rows, [26 * mm, WIDTH - 76 * mm, 50 * mm])]


def _brief(p: Packet) -> list:
    out = [pdf.heading(_("Topic brief")), pdf.para(p.title, "h2"),
           pdf.para(_("Nominated by %(community)s", community=p.nominating_community), "small"),
           pdf.para(_("The problem and real cases behind it"), "h2"), pdf.para(p.problem)]
    if p.hoped_result:
        out += [pdf.para(_("The result hoped for"), "h2"), pdf.para(p.hoped_result)]
    if p.outside_units:
        out += [pdf.para(_("Outside units that should attend"), "h2"), pdf.para(p.outside_units)]
    out.append(pdf.para(_("The vote"), "h2"))
    out.append(pdf.para(_("Turnout: %(n)d of %(m)d seats.", n=p.turnout, m=p.eligible)))
    if p.counts_published:
        rows = [[_("Nomination"), _("Community"), _("Approvals")]]
        chosen = []
        for index, line in enumerate(p.tally, start=1):
            rows.append([line.title + ((" · " + _("decided")) if line.chosen else ""), line.community, str(line.approvals)])
            if line.chosen:
                chosen.append(index)
        out.append(pdf.table(rows, [WIDTH - 70 * mm, 45 * mm, 25 * mm], shade_rows=chosen))
    else:
        out.append(pdf.para(_("Counts withheld: fewer ballots than the minimum for publishing them."), "small"))
        out.append(pdf.table([[_("Nomination"), _("Community")]] +
                             [[line.title + ((" · " + _("decided")) if line.chosen else ""), line.community] for line in p.tally],
                             [WIDTH - 45 * mm, 45 * mm]))
    if p.decider == "committee":
        decided = [pdf.para(p.decided_by)] + [
            pdf.para(f"{m.community} · {m.member}：{m.title}" + (f" — {m.rationale}" if m.rationale else ""))
            for m in p.member_picks]
    else:
        decided = [pdf.para(_("Decided by %(who)s", who=p.decided_by))]
        if p.decided_why:
            decided.append(pdf.para(p.decided_why, "small"))
        decided.append(pdf.para(p.rationale or "—"))
    out.append(pdf.keep(pdf.para(_("The decision"), "h2"), *decided))
    if p.tally_note == "not_most_approved":
        out.append(pdf.para(_("The pick is not the most approved nomination; the rationale says why."), "small"))
    elif p.tally_note == "no_tally":
        out.append(pdf.para(_("No tally was published for this vote; the rationale explains the pick."), "small"))
    return out


def _guests(p: Packet) -> list:
    rows = [[_("Guest"), _("Unit")]] + [[name, unit] for name, unit in p.guests]
    if not p.guests:
        return [pdf.keep(pdf.heading(_("Guests")), pdf.para(_("No guests yet.")))]
    return [pdf.keep(pdf.heading(_("Guests")), pdf.table(rows, [60 * mm, WIDTH - 60 * mm]))]


def _previous(p: Packet) -> list:
    if p.previous_number is None:
        return []
    title = _("Session %(n)d", n=p.previous_number) + (f" · {p.previous_title}" if p.previous_title else "")
    out = [pdf.cond_page_break(40 * mm), pdf.heading(_("Since the previous session")), pdf.para(title, "small"),
           pdf.para(_("Resolutions"), "h2")]
    if p.previous_resolutions:
        out.append(pdf.table([[f"{r.number}.", r.text] for r in p.previous_resolutions], [10 * mm, WIDTH - 10 * mm],
                             header=False, grid=False))
    else:
        out.append(pdf.para(_("No resolutions yet."), "small"))
    out.append(pdf.para(_("Action items"), "h2"))
    if p.previous_actions:
        rows = [[_("Action item"), _("Owner unit"), _("Due date"), _("Status")]]
        for a in p.previous_actions:
            state = p.status_label(a.status) + (" · " + _("overdue") if a.overdue else "")
            rows.append([a.what, a.owner_unit, a.due_on.isoformat() if a.due_on else "—", state])
        out.append(pdf.table(rows, [WIDTH - 105 * mm, 40 * mm, 25 * mm, 40 * mm]))
    else:
        out.append(pdf.para(_("No action items yet."), "small"))
    return out


def _signin(p: Packet) -> list:
    rows = [["", _("Community or unit"), _("Secretary or guest"), _("Signature")]]
    shade = []
    for index, line in enumerate(p.signin, start=1):
        if line.kind == "guest":
            rows.append([str(index), line.person, line.name, ""])
        elif line.kind == "blank":
            rows.append(["", "", "", ""])
        else:
            rows.append([str(index), line.name, line.person, ""])
        if line.kind == "guest":
            shade.append(index)
    # Rows of fixed height: 19 communities, 10 guests and the blank rows fit one page.
    return [pdf.page_break(), pdf.heading(_("Sign-in sheet")),
            pdf.para(_("Session %(n)d", n=p.number) + f" · {p.date} {p.time} · {p.venue}", "small"),
            pdf.table(rows, [10 * mm, 52 * mm, 52 * mm, WIDTH - 114 * mm], row_height=7 * mm)]


def _notes(p: Packet) -> list:
    """Ruled lines filling the rest of the page the brief ends on, or a page of their own when under 90 mm
    are left: no page of the packet stays mostly empty."""
    return [pdf.cond_page_break(90 * mm), pdf.heading(_("Notes")),
            pdf.para(_("Session %(n)d", n=p.number) + f" · {p.title}", "small"), pdf.ruled_lines(250 * mm)]


def packet_pdf(p: Packet) -> bytes:
    story = _cover(p) + _agenda(p) + _brief(p) + _guests(p) + _previous(p) + _notes(p) + _signin(p)
    footer = f"{p.programme} · " + _("Session %(n)d", n=p.number) + " · " + _("Session packet")
    return pdf.render(story, title=_("Session %(n)d", n=p.number) + " · " + p.title, author=p.bureau,
                      subject=_("Session packet"), footer=footer)
