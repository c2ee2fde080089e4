"""Page: the bureau reads its programme's audit log, newest first, and sees whether the chain holds."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import select

from salon.accounts.auth import bureau_required
from salon.audit import labels, services
from salon.audit.models import AuditEvent
from salon.errors import int_argument
from salon.extensions import db

bp = Blueprint("audit", __name__)
PAGE = 50


@bp.route("/audit")
@bureau_required
def log():
    before = int_argument("before")
    query = select(AuditEvent).where(AuditEvent.programme_id == current_user.programme_id)
    if before:
        query = query.where(AuditEvent.seq < before)
    events = db.session.scalars(query.order_by(AuditEvent.seq.desc()).limit(PAGE)).all()
    checked, broken = services.verify(current_user.programme_id) if request.args.get("verify") else (None, None)
    return render_template("audit/log.html", events=events, checked=checked, broken=broken,
                           more=len(events) == PAGE, label=labels.label)
