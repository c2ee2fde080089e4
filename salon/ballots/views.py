"""Pages of the ballot engine itself: a sealed poll's bulletin board (SPEC §5.1) — every sealed ballot by its
fingerprint, who sealed it, the trustees who decrypted, the result — with its JSON download (the export), a
voter's fingerprint lookup and how to check it all with tools/verify_board.py or `salon verify`."""
from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from salon.accounts.auth import login_required
from salon.ballots import services

bp = Blueprint("ballots", __name__, url_prefix="/polls")

FINGERPRINT_TYPED_MAX = 80  # a fingerprint as pasted (64 hex characters, maybe with spaces around)


def _board_poll(poll_id):
    return services.get_sealed_poll(poll_id, current_user.programme_id)


@bp.route("/<int:poll_id>/board")
@login_required
def board(poll_id):
    poll = _board_poll(poll_id)
    wanted = (request.args.get("receipt") or "")[:FINGERPRINT_TYPED_MAX].strip().lower()
    found = services.board(poll)
    decrypted, threshold, trustees = services.decryption_status(poll)
    receipts = services.receipts(poll)
    withheld = sum(row.count(True) for row in found["withheld"]) if found else 0
    sums = sum(len(row) for row in found["withheld"]) if found else 0
    return render_template("ballots/board.html", poll=poll, board=found, title=services.poll_title(poll),
                           receipts=receipts, sealed_by=services.board_sealed_by(poll), decrypted=decrypted,
                           threshold=threshold, trustees=trustees, wanted=wanted, withheld=withheld, sums=sums,
                           result=services.results(poll),
                           found=(wanted in receipts) if wanted else None)


@bp.route("/<int:poll_id>/board.json")
@login_required
def board_json(poll_id):
    poll = _board_poll(poll_id)
    data = services.published_board(poll)
    return Response(json.dumps(data, sort_keys=True, indent=1, ensure_ascii=True), mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename=board-{poll.id}.json"})
