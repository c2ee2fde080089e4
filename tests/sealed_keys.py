"""Sealed ballots in tests (SPEC §5.1): a ready trustee key made server-side with salon.sealed.threshold.deal and
seeded nonces (so the trustees' secrets are known to the test), a key provider registered on the test app for the
test's duration, and a closed poll decrypted by computing each trustee's factors server-side."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select

from salon.ballots import services as ballots
from salon.sealed import ballot as sealed_ballot
from salon.sealed import board as sealed_board
from salon.sealed import client
from salon.sealed import threshold
from salon.sealed.group import Point, SeededNonces


@dataclass(frozen=True)
class TestKey:
    term: str
    threshold: int
    secrets: dict  # trustee index → xₗ (what each trustee's device would hold)
    record: dict  # salon.sealed.board.key_record(...)
    trustees: tuple  # (index, user id) pairs

    def poll_key(self) -> ballots.PollKey:
        return ballots.PollKey(self.term, self.threshold, self.record, self.trustees)


def make_key(term: str = "p1-k1", n: int = 3, k: int | None = None, user_ids=None, seed: str = "tests") -> TestKey:
    """n trustees, k = n − 1 by default (SPEC §5.1: one may be missing)."""
    k = n - 1 if k is None else k
    rng = SeededNonces(f"{seed}/{term}")
    dealings = [threshold.deal(term, i, k, rng) for i in range(1, n + 1)]
    secrets = {l: threshold.trustee_secret({d.index: d.share_for(l) for d in dealings}) for l in range(1, n + 1)}
    record = sealed_board.key_record(term, k, [d.public() for d in dealings])
    users = list(user_ids) if user_ids is not None else list(range(1, n + 1))
    return TestKey(term, k, secrets, record, tuple((i, users[i - 1]) for i in range(1, n + 1)))


@contextmanager
def key_provider(app, key: TestKey | None, kinds=None):
    """While the block runs, polls (of `kinds`, or all) open sealed with `key`."""
    saved = app.extensions.get("salon_ballot_key_provider")

    def provide(programme_id, kind, now):
        return key.poll_key() if key is not None and (kinds is None or kind in kinds) else None

    ballots.register_key_provider(app, provide)
    try:
        yield key
    finally:
        if saved is None:
            app.extensions.pop("salon_ballot_key_provider", None)
        else:
            app.extensions["salon_ballot_key_provider"] = saved


def factors_of(poll, key: TestKey, trustee: int, seed: str = "factors") -> dict:
    """What trustee `trustee`'s device sends for a closed poll (salon.sealed.board.trustee_factors)."""
    return sealed_board.request_factors(ballots.decryption_request(poll), trustee, key.secrets[trustee],
                                        SeededNonces(f"{seed}/{trustee}"))


def decrypt(poll, key: TestKey, trustees=None) -> bool:
    """The trustees (by default the first k: the last one missing) decrypt; answers whether the poll is counted."""
    counted = False
    for trustee in trustees or range(1, key.threshold + 1):
        counted = ballots.record_decryption(poll, trustee, factors_of(poll, key, trustee))
    return counted


def seal_choices(poll, rows, seed: str = "voter") -> dict:
    """A ballot sealed on the voter's side from its seal spec (salon.sealed.client, in the poll's protocol version);
    `rows[q][o]` is 0 or 1 per ballot position (an approval question's blank position may be left out: it is then
    set from the approvals)."""
    spec = client.spec_from_json(ballots.seal_spec(poll))
    return client.seal_ballot(spec, rows, SeededNonces(seed))



def demo_trustee_secrets() -> dict:
    """The demo's trustees' secrets read back from the backup files the demo wrote, in the shape the demo keeps
    them while it loads (salon.trustees.demo.SECRETS). Put into app.extensions under that name (monkeypatch.setitem),
    the demo's trustees decrypt each sealed poll at its close (salon.trustees.demo.decrypt_closed): for tests that
    walk the demo's programme on through later months, whose polls open sealed with the demo's keys."""
    import json

    from salon.extensions import db
    from salon.trustees import demo as trustees_demo
    from salon.trustees.models import TrusteeTerm

    # The folder is the test app's, shared by every demo a worker loads: take only the files of this database's
    # ready terms whose public key is theirs.
    terms = {t.key_term: t for t in db.session.scalars(select(TrusteeTerm)) if t.key_record}
    held: dict = {}
    for path in sorted(trustees_demo.backup_folder().glob("*.json")):
        backup = json.loads(path.read_text(encoding="utf-8"))
        term = terms.get(backup["term"])
        if term is None or backup["public_key"] != term.key_record["public_key"]:
            continue
        entry = held.setdefault(backup["term"], {"programme_id": term.programme_id, "threshold": term.threshold,
                                                 "secrets": {}})
        entry["secrets"][backup["index"]] = int(backup["secret"], 16)
    assert held, "the demo wrote no trustee backups"
    return held
