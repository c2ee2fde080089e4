"""A sealed ballot's transaction (services/casting.py): on PostgreSQL the poll's lock and then ONE statement that
reads the poll and makes every write (CAST_SQL); on SQLite the same steps through SQLAlchemy. Each refusal that
reads the poll's row is given exactly as before (message, field, status, in the same order) and leaves nothing
written; a copied ballot, refused after its seat was recorded, leaves nothing once its transaction is rolled back
(its caller's, as a request's error path does)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from salon import clock
from salon.ballots import services as ballots
from salon.ballots.models import Poll, PollState, SealedBallot, SealedCiphertext, VoterRecord
from salon.ballots.services import casting, sealing
from salon.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from salon.extensions import db
from salon.rules import ballots as rules
from tests.sealed_keys import key_provider, make_key, seal_choices

pytestmark = pytest.mark.rolled_back

NOW = datetime(2026, 3, 1, 8, 0)
KEY = make_key("p1-k1")


@pytest.fixture(autouse=True)
def fixed_now(app, monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    with key_provider(app, KEY):
        yield


def open_poll(world, eligible):
    poll = ballots.create_poll(world.programme.id, "test", "", closes_at=NOW + timedelta(days=1), opens_at=NOW,
                               min_published=1)
    question = ballots.add_question(poll, "Q", rules.APPROVAL, 2)
    for i in range(3):
        ballots.add_option(question, f"o{i}", ref_id=100 + i)
    ballots.open_poll(poll, eligible, None, NOW)
    return poll


# Ciphertexts per ballot: the three options and, since protocol salon-sealed-2, the approval question's blank
# position (docs/sealed-ballots.md, "Versions").
PER_BALLOT = 4


def written(poll_id: int) -> tuple[int, int, int]:
    """The seats recorded, the ciphertexts and the sealed ballots of the poll, in the current transaction."""
    return tuple(db.session.scalar(select(func.count()).select_from(model).where(model.poll_id == poll_id))
                 for model in (VoterRecord, SealedCiphertext, SealedBallot))


def prepared(poll, rows, seed: str) -> sealing.Prepared:
    return sealing.prepare(sealing.sealed_shape(poll.id, poll.seal), None, seal_choices(poll, rows, seed))


def refused(error_type, message: str, field: str, status: int, call) -> None:
    with pytest.raises(DomainError) as error:
        call()
    assert isinstance(error.value, error_type)
    assert (error.value.message, error.value.field, error.value.status) == (message, field, status)


def test_each_refusal_read_from_the_poll_is_given_as_before_and_writes_nothing(world):
    seats = [c.seat.id for c in world.communities]
    poll = open_poll(world, seats[:2])
    programme = world.programme.id
    ballot = prepared(poll, [[1, 0, 1]], "one")
    seal, closes_at = poll.seal, poll.closes_at

    def cast(poll_id=poll.id, seat_id=seats[0], programme_id=programme, now=None, ballot=ballot):
        return lambda: casting._cast_sealed(poll_id, seat_id, programme_id, now, ballot)

    def set_poll(**values):
        db.session.execute(update(Poll).where(Poll.id == poll.id).values(**values))

    not_found = (NotFound, _("Not found."), "poll_id", 404)
    closed = (Conflict, _("Voting has closed; the ballot was not counted."), "poll", 409)
    changed = (Conflict, _("The poll changed; please reload and vote again."), "poll", 409)
    refused(*not_found, cast(poll_id=poll.id + 1000))
    refused(*not_found, cast(programme_id=world.other_programme.id))
    refused(*closed, cast(now=closes_at))  # the closing time itself is too late
    refused(Forbidden, _("Only a community's secretary can vote."), "seat", 403, cast(seat_id=None))
    refused(Forbidden, _("Your community's seat is not eligible in this poll."), "seat", 403, cast(seat_id=seats[2]))
    set_poll(seal="0" * 32)  # opened again since the ballot was checked
    refused(*changed, cast())
    set_poll(seal=seal, sealed=False)
    refused(*changed, cast())
    set_poll(sealed=True, state=PollState.DRAFT.name)
    refused(Conflict, _("Voting has not opened yet."), "poll", 409, cast())
    set_poll(state=PollState.CLOSED.name)
    refused(*closed, cast(now=NOW))
    assert written(poll.id) == (0, 0, 0)  # in this very transaction: none of them wrote

    set_poll(state=PollState.OPEN.name)
    just_in_time = closes_at - timedelta(microseconds=1)
    assert casting._cast_sealed(poll.id, seats[0], programme, just_in_time, ballot) == ballot.fingerprint
    assert written(poll.id) == (1, PER_BALLOT, 1)
    refused(Conflict, _("Your community has already voted in this poll; a ballot is final."), "seat", 409,
            cast(ballot=prepared(poll, [[0, 1, 0]], "two")))
    assert written(poll.id) == (1, PER_BALLOT, 1)


@pytest.mark.parametrize("copied", ["the whole ballot", "one answer"])
def test_a_copied_ballot_is_refused_and_its_rollback_leaves_nothing(world, copied):
    seats = [c.seat.id for c in world.communities]
    poll = open_poll(world, seats)
    programme = world.programme.id
    first = prepared(poll, [[1, 0, 0]], "first")
    assert len(first.alphas) == PER_BALLOT
    casting._cast_sealed(poll.id, seats[0], programme, None, first)
    copy = first if copied == "the whole ballot" else prepared(poll, [[0, 1, 0]], "second")
    if copied == "one answer":  # the first ciphertext of the first ballot, the others new
        copy = sealing.Prepared(copy.seal, copy.fingerprint, copy.ballot_json, copy.sealed_by,
                                (first.alphas[0],) + copy.alphas[1:])
    before = written(poll.id)
    # As a caller outside a request does: the service raises before the caller would commit, and the caller's
    # rollback (here of a savepoint, the test's transaction being rolled back at its end) takes away what the
    # refused ballot had written (its seat's record, the ciphertexts that were new).
    savepoint = db.session.begin_nested()
    refused(ValidationFailed, _("This sealed ballot repeats a ballot already cast."), "sealed", 422,
            lambda: casting._cast_sealed(poll.id, seats[1], programme, None, copy))
    savepoint.rollback()
    assert written(poll.id) == before == (1, PER_BALLOT, 1)
    # the seat was not used up: its own ballot is counted
    own = prepared(poll, [[0, 0, 1]], "own")
    assert ballots.cast(poll.id, seats[1], None, programme, sealed=seal_choices(poll, [[0, 0, 1]], "own")) \
        == own.fingerprint
    assert written(poll.id) == (2, 2 * PER_BALLOT, 2)


def test_the_public_cast_gives_the_same_answers_through_the_statement(world):
    """services.cast with a remembered shape goes straight to the statement; without one it reads the poll
    first: either way the same refusals."""
    seats = [c.seat.id for c in world.communities]
    poll = open_poll(world, seats[:2])
    programme = world.programme.id
    body = seal_choices(poll, [[1, 1, 0]], "public")
    for remembered in (True, False):
        if not remembered:
            sealing.forget_shape(poll.id)
        refused(Forbidden, _("Your community's seat is not eligible in this poll."), "seat", 403,
                lambda: ballots.cast(poll.id, seats[2], None, programme, sealed=body))
        refused(Forbidden, _("Only a community's secretary can vote."), "seat", 403,
                lambda: ballots.cast(poll.id, None, None, programme, sealed=body))
        assert written(poll.id) == (0, 0, 0)
    assert ballots.cast(poll.id, seats[0], None, programme, sealed=body) == sealing.prepare(
        sealing.sealed_shape(poll.id, poll.seal), None, body).fingerprint
    refused(Conflict, _("Your community has already voted in this poll; a ballot is final."), "seat", 409,
            lambda: ballots.cast(poll.id, seats[0], [], programme))
    assert written(poll.id) == (1, PER_BALLOT, 1)
