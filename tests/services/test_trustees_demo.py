"""The demo's trustees (SPEC §10, §5.1): a drawn term and the seated committee's term are ready, from known demo
secrets whose backup files lie under the instance folder for demo users to restore; while the demo loads, a
sealed poll it closes is decrypted at once, and afterwards the demo's secrets are gone from memory."""
from __future__ import annotations

import json
from datetime import datetime

from salon import clock, demo
from salon.committee import services as committee
from salon.extensions import db
from salon.sealed import threshold
from salon.sealed.group import Point, base_mul
from salon.sealed.proofs import Branch
from salon.trustees import demo as trustees_demo
from salon.trustees import services
from salon.trustees.models import COMMITTEE, DRAWN, READY
from tests import sealed_doubles

TODAY = datetime(2026, 11, 14, 2)


def test_the_demo_has_ready_trustee_keys_and_backups_that_open_them(app, monkeypatch, tmp_path):
    monkeypatch.setattr(clock, "utcnow", lambda: TODAY)
    monkeypatch.setattr(trustees_demo, "backup_folder", lambda: tmp_path)  # not the repository's instance/
    with app.test_request_context():
        programme = demo.load()
        db.session.commit()
        terms = services.terms(programme.id)
        assert sorted(t.kind for t in terms) == [COMMITTEE, DRAWN] and all(t.state == READY for t in terms)
        drawn = next(t for t in terms if t.kind == DRAWN)
        sitting = committee.sitting_term(programme.id)
        assert next(t for t in terms if t.kind == COMMITTEE).committee_term_id == sitting.id
        assert [t.index for t in drawn.trustees] == [1, 2, 3, 4] and drawn.threshold == 3
        for term in terms:
            for dealt in term.key_record["trustees"]:  # every proof as the verifier checks it
                assert threshold.coefficients_are_proven(
                    term.key_term, dealt["index"], [Point.from_hex(c) for c in dealt["commitments"]],
                    [Branch.from_json(p) for p in dealt["proofs"]])
            for trustee in term.trustees:
                path = tmp_path / f"{trustee.user.username}-{term.key_term}.json"
                backup = json.loads(path.read_text(encoding="utf-8"))
                assert backup["public_key"] == term.key_record["public_key"] and backup["index"] == trustee.index
                assert base_mul(int(backup["secret"], 16)).hex() == backup["verification_key"]
        assert services.key_for(programme.id, "review", TODAY).term == drawn.key_term
        assert services.key_for(programme.id, "topic", TODAY).term != drawn.key_term  # the committee's
        assert trustees_demo.SECRETS not in app.extensions  # forgotten once loaded


def test_while_the_demo_loads_a_closed_sealed_poll_is_decrypted_at_once(app, world, monkeypatch, tmp_path):
    monkeypatch.setattr(trustees_demo, "backup_folder", lambda: tmp_path)
    sealed_doubles.use_fake_polls(monkeypatch)
    with app.test_request_context():
        term = services.draw(services.announce_draw(world.programme, world.bureau), world.bureau)
        secrets = trustees_demo.make_ready(term)
        assert set(secrets) == {1, 2, 3, 4}
        poll = sealed_doubles.closed_sealed_poll(app, world.programme.id, services.poll_key(term), [[1], [1, 2]])
        trustees_demo.decrypt_closed(poll)
        assert poll.counts == [[0, 2, 1]] and len(poll.decryptions) == 3
        trustees_demo.finish(None, None, None)
        other = sealed_doubles.closed_sealed_poll(app, world.programme.id, services.poll_key(term), [[0]],
                                                  poll_id=9002)
        trustees_demo.decrypt_closed(other)  # outside the demo's load: nothing happens
        assert other.counts is None and other.decryptions == {}
