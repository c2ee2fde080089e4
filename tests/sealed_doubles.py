"""Test doubles of the ballot engine's sealed-ballot interfaces that the trustees room uses (the names
/work/wt/SEALED-PLAN.md fixes: PollKey, register_key_provider, polls_to_decrypt, decryption_request,
record_decryption, decryption_status), for a branch where the engine's sealed path has not landed yet.

`install()` adds a double only where salon.ballots.services lacks the name, so with the real engine merged it
changes nothing. The doubles keep "closed sealed polls" in memory per app (`closed_sealed_poll` makes one from
real ciphertexts), and `record_decryption` checks every factor's proof with salon.sealed, as the engine will."""
from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app

from salon import clock
from salon.ballots import services as ballots
from salon.errors import ValidationFailed
from salon.sealed import ballot as sealed_ballot
from salon.sealed import board, threshold
from salon.sealed.elgamal import SmallLogs, encrypt
from salon.sealed.group import Point, SeededNonces
from salon.sealed.proofs import Branch

KEY = "salon_test_sealed"
# Where an app keeps the fake polls: a new place for each test that uses them (use_fake_polls), so that a poll a
# test left undecrypted is not awaited by the next test run on the same app whose term has the same key string.
POLLS_KEY = "salon_test_sealed_polls"
_TESTS = itertools.count(1)


@dataclass(frozen=True)
class PollKey:
    term: str
    threshold: int
    record: dict
    trustees: tuple


@dataclass
class FakePoll:
    id: int
    programme_id: int
    key: PollKey
    questions: list
    sums: list
    ballots_cast: int
    decryptions: dict = field(default_factory=dict)
    counts: list | None = None
    kind: str = "sealed-test"  # no room names it: the engine shows its title as stored
    title: str = "Sealed test poll"
    closed_at: datetime = field(default_factory=lambda: clock.utcnow())  # its close: the decryption deadline runs from it

    @property
    def context(self) -> str:
        return f"{self.id}:fake"


def _state(app=None) -> dict:
    app = app or current_app
    return app.extensions.setdefault(KEY, {"provider": None})


def _polls(app=None) -> list:
    app = app or current_app
    return app.extensions.setdefault(POLLS_KEY, [])


def register_key_provider(app, provider) -> None:
    _state(app)["provider"] = provider


def key_provider(app=None):
    return _state(app)["provider"]


def polls_to_decrypt(programme_id: int, term: str, index: int) -> list:
    return [p for p in _polls() if p.programme_id == programme_id and p.key.term == term
            and p.counts is None and index not in p.decryptions]


def decryption_request(poll) -> dict:
    return {"poll": poll.context, "public_key": poll.key.record["public_key"],
            "questions": [q.to_json() for q in poll.questions], "tally": board.tally_json(poll.sums)}


def decryption_status(poll):
    return sorted(poll.decryptions), poll.key.threshold, poll.key.trustees


def record_decryption(poll, index: int, decryption: dict, now=None) -> bool:
    commitments = {t["index"]: [Point.from_hex(c) for c in t["commitments"]] for t in poll.key.record["trustees"]}
    public_key = Point.from_hex(poll.key.record["public_key"])
    mine = threshold.verification_key(commitments, index)
    for q, question in enumerate(poll.questions):
        for o in range(question.options):
            item = decryption["factors"][q][o]
            factor = threshold.Factor(index, Point.from_hex(item["factor"], allow_identity=True),
                                      Branch.from_json(item["proof"]))
            if not threshold.factor_is_valid(poll.context, public_key, question.id, o, mine, poll.sums[q][o],
                                             factor):
                raise ValidationFailed("decryption: a factor's proof does not verify", "decryption")
    poll.decryptions[index] = decryption
    if len(poll.decryptions) >= poll.key.threshold:
        logs = SmallLogs(poll.ballots_cast)
        poll.counts = [[logs.log(poll.sums[q][o].beta, threshold.combine(
            {t: Point.from_hex(d["factors"][q][o]["factor"], allow_identity=True)
             for t, d in poll.decryptions.items()}, poll.key.threshold)) for o in range(question.options)]
            for q, question in enumerate(poll.questions)]
        return True
    return False


def closed_sealed_poll(app, programme_id: int, key: PollKey, choices: list[list[int]], poll_id: int = 9001,
                       options: int = 3) -> FakePoll:
    """A closed poll of one approval question sealed to `key`, each ballot's choices encrypted for real."""
    rng = SeededNonces(f"fake-poll-{poll_id}")
    public_key = Point.from_hex(key.record["public_key"])
    question = sealed_ballot.Question("q1", options, 0, options)
    rows = [[[encrypt(public_key, 1 if o in chosen else 0, rng.scalar()) for o in range(options)]]
            for chosen in choices]
    sums = board.tally_of_ciphertexts([question], rows)
    poll = FakePoll(poll_id, programme_id, key, [question], sums, len(choices))
    _polls(app).append(poll)
    return poll


DOUBLES = (("PollKey", PollKey), ("register_key_provider", register_key_provider),
           ("polls_to_decrypt", polls_to_decrypt), ("decryption_request", decryption_request),
           ("record_decryption", record_decryption), ("decryption_status", decryption_status))
DECRYPTION = ("polls_to_decrypt", "decryption_request", "record_decryption", "decryption_status")


def install() -> None:
    for name, double in DOUBLES:
        if not hasattr(ballots, name):
            setattr(ballots, name, double)


def use_fake_polls(monkeypatch) -> None:
    """For a test of the trustees room against the engine's decryption interface alone: the engine's
    decryption functions answer about the fake polls of closed_sealed_poll (whether or not the engine has
    them), and only about those made in this test."""
    monkeypatch.setattr(sys.modules[__name__], "POLLS_KEY", f"salon_test_sealed_polls_{next(_TESTS)}")
    for name, double in DOUBLES:
        if name in DECRYPTION:
            monkeypatch.setattr(ballots, name, double)


__all__ = ["install", "use_fake_polls", "closed_sealed_poll", "key_provider", "PollKey", "FakePoll"]
