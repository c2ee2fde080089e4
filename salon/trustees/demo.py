"""The demo's trustees (SPEC §10, §5.1), so that `make run` shows sealed ballots and their results.

The demo cannot wait for four people's browsers: its keys are made here, on the server, from known demo secrets
(seeded nonces), which is exactly what a real programme must never do. Each demo trustee's part is written as the
backup file their browser would have offered, under the instance folder (`demo-trustees/`), so a demo user can
restore it on the term's page and decrypt by one click. While the demo loads, every sealed poll it closes is
decrypted at once with those secrets (`decrypt_closed`, a receiver of the ballot engine's poll_closed that does
nothing outside the demo's load), so the demo's later steps and pages see results."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import current_app

from salon import clock, demo
from salon.ballots import services as ballots
from salon.committee import services as committee
from salon.extensions import db
from salon.sealed import board, threshold
from salon.sealed.group import Point, SeededNonces
from salon.trustees import services
from salon.trustees.models import DEALING, READY, TrusteeTerm

SECRETS = "salon_demo_trustee_secrets"  # app.extensions: key term -> {index: secret}, during the load only
FOLDER = "demo-trustees"
BACKUP_FORMAT = "salon-trustee-backup-1"  # as salon/static/trustees.js writes it


def init_app(app) -> None:
    demo.step(app, 15, load_drawn)  # before the topics' polls open (order 20)
    demo.step(app, 31, load_committee)  # right after the committee is seated (order 30)
    demo.step(app, 99, finish)


def make_ready(term: TrusteeTerm) -> dict[int, int]:
    """The ceremony done on the server with demo nonces: every trustee's dealing posted (proofs checked as any),
    the key ready and its record published. Answers each trustee's secret. Demo only. At the moment the ceremony
    started (a committee's, at its seating in the demo's past): within its steps' deadlines."""
    now = term.started_at or clock.utcnow()
    dealt = {}
    for trustee in term.trustees:
        dealing = threshold.deal(term.key_term, trustee.index, term.threshold,
                                 SeededNonces(f"salon-demo/{term.key_term}/{trustee.index}"))
        public = dealing.public()
        services.post_dealing(term, trustee.user, public["commitments"][0], public["commitments"], public["proofs"],
                              term.round, now)
        dealt[trustee.index] = dealing
    key = services.joint_key(term)
    for trustee in term.trustees:  # the shares never travel: the server dealt them all
        trustee.shared_at = trustee.confirmed_at = now
    term.state = READY
    term.ready_at = now
    term.key_record = board.key_record(term.key_term, term.threshold, services.dealings(term))
    assert term.key_record["public_key"] == key
    db.session.flush()
    secrets = {i: threshold.trustee_secret({d: dealt[d].share_for(i) for d in dealt}) for i in dealt}
    current_app.extensions.setdefault(SECRETS, {})[term.key_term] = {
        "programme_id": term.programme_id, "threshold": term.threshold, "secrets": secrets}
    _write_backups(term, secrets)
    return secrets


def backup_folder() -> Path:
    """instance/demo-trustees/, unless SALON_DEMO_TRUSTEE_BACKUPS names another folder (the tests' temporary one)."""
    return Path(current_app.config.get("SALON_DEMO_TRUSTEE_BACKUPS") or Path(current_app.instance_path) / FOLDER)


def _write_backups(term: TrusteeTerm, secrets: dict[int, int]) -> None:
    folder = backup_folder()
    folder.mkdir(parents=True, exist_ok=True)
    commitments = {t.index: [Point.from_hex(c) for c in t.commitments] for t in term.trustees}
    for trustee in term.trustees:
        secret = secrets[trustee.index]
        backup = {"format": BACKUP_FORMAT, "term": term.key_term, "index": trustee.index,
                  "secret": f"{secret:064x}", "public_key": term.key_record["public_key"],
                  "verification_key": threshold.verification_key(commitments, trustee.index).hex()}
        path = folder / f"{trustee.user.username}-{term.key_term}.json"
        path.write_text(json.dumps(backup, indent=2), encoding="utf-8")


def load_drawn(programme, bureau, secretaries) -> None:
    """A drawn term, from a seed fixed for the demo (published before the draw like any), made ready."""
    now = clock.utcnow()
    term = services.announce_draw(programme, bureau, now,
                                  seed=hashlib.sha256(b"salon-demo-trustees").hexdigest())
    services.draw(term, bureau, now)
    make_ready(term)


def load_committee(programme, bureau, secretaries) -> None:
    """The seated demo committee's trustees (started by the committee's seating), made ready."""
    sitting = committee.sitting_term(programme.id)
    term = services.committee_term_for(sitting.id) if sitting is not None else None
    if term is not None and term.state == DEALING:
        make_ready(term)


def decrypt_closed(poll, actor=None, now=None) -> None:
    """Receiver of ballots.signals.poll_closed: during the demo's load only, the demo trustees decrypt the sealed
    poll just closed (k of them, with their proofs, through the engine like any trustee's device)."""
    held = current_app.extensions.get(SECRETS)
    if not held:
        return
    for term, key in held.items():
        for index, secret in sorted(key["secrets"].items())[:key["threshold"]]:
            if not any(p.id == poll.id for p in ballots.polls_to_decrypt(key["programme_id"], term, index)):
                continue
            request = ballots.decryption_request(poll)
            if all(all(row) for row in request.get("undecrypted") or [[False]]):
                return  # below the minimum with nothing to decrypt: the close counts it right after this signal
            factors = board.request_factors(request, index, secret,
                                            SeededNonces(f"salon-demo/{request['poll']}/{index}"))
            # At the close's moment: the demo lays out its past, and what counting starts (an election seating its
            # committee) happens then, not on the day the demo is loaded.
            if ballots.record_decryption(poll, index, factors, now=now):
                return


def finish(programme, bureau, secretaries) -> None:
    """The demo's load is over: its secrets are forgotten (what remains is in the backup files)."""
    current_app.extensions.pop(SECRETS, None)
