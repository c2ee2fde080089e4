"""Pages: a session's packet (printable page and PDF), its guest links, and what a guest's link opens."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user

from salon import clock
from salon.accounts.auth import login_required
from salon.errors import DomainError
from salon.extensions import limiter
from salon.forms import EmptyForm, show_error
from salon.packets import services
from salon.packets.document import packet_pdf
from salon.packets.forms import GuestLinkForm
from salon.schedule import services as schedule

bp = Blueprint("packets", __name__)



def _pdf_response(content, filename: str, private: bool = True) -> Response:
    response = Response(packet_pdf(content), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename={filename}"
    response.headers["Cache-Control"] = "private, no-store" if private else "no-store"
    return response


def _guest_headers(response):
    # The token is in the URL: keep it out of caches, referrers and search engines.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.route("/packets/sessions/<int:session_id>")
@login_required
def page(session_id):
    session = schedule.session_for(current_user, session_id)
    content = services.packet(session, current_user.programme)
    return render_template("packets/packet.html", p=content, guest=False,
                           pdf_url=url_for("packets.pdf", session_id=session.id),
                           share=services.can_share(current_user, session))


@bp.route("/packets/sessions/<int:session_id>/packet.pdf")
@login_required
def pdf(session_id):
    session = schedule.session_for(current_user, session_id)
    content = services.packet(session, current_user.programme)
    return _pdf_response(content, f"packet-{content.number}.pdf")


@bp.route("/packets/sessions/<int:session_id>/links", methods=["GET", "POST"])
@login_required
def links(session_id):
    session = schedule.session_for(current_user, session_id)
    services.check_share(current_user, session)
    content = services.packet(session, current_user.programme)
    form = GuestLinkForm()
    created = None
    if form.validate_on_submit():
        try:
            created = services.create_link(session, current_user, form.label.data or "")
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Guest link created. Send it to the guest; it works until %(date)s.",
                    date=format_datetime(created.expires_at, "yyyy-MM-dd HH:mm")), "success")
            form = GuestLinkForm(formdata=None)
    now = clock.utcnow()
    rows = [(link, services.link_state(link, now),
             url_for("packets.guest", token=services.link_token(link), _external=True))
            for link in services.links(session.id)]
    return render_template("packets/links.html", p=content, session=session, form=form, rows=rows,
                           created=created, button_form=EmptyForm()), 422 if form.errors else 200


@bp.route("/packets/links/<int:link_id>/revoke", methods=["POST"])
@login_required
def revoke(link_id):
    link = services.get_link(link_id, current_user.programme_id)
    if EmptyForm().validate_on_submit():
        services.revoke_link(link, current_user)
        flash(_("The guest link was revoked."), "success")
    return redirect(url_for("packets.links", session_id=link.session_id))


@bp.route("/packet/<token>")
@limiter.limit("60 per minute")
def guest(token):
    link, session = services.open_link(token)
    content = services.packet(session, services.programme_of(session))
    response = Response(render_template("packets/packet.html", p=content, guest=True,
                                        pdf_url=url_for("packets.guest_pdf", token=token), share=False))
    return _guest_headers(response)


@bp.route("/packet/<token>/packet.pdf")
@limiter.limit("30 per minute")
def guest_pdf(token):
    link, session = services.open_link(token)
    content = services.packet(session, services.programme_of(session))
    return _guest_headers(_pdf_response(content, f"packet-{content.number}.pdf", private=False))
