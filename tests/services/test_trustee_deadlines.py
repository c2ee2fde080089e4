"""Deadlines of the trustees' key ceremony (SPEC §5.1; docs/sealed-ballots.md, "Deadlines"): each step (dealing,
sharing, checking) ends STEP_DAYS after it began; at that moment — not a second before — the trustees who have
not done it are dropped, as an upheld complaint drops a dealer, and the others restart with a fresh deadline; a
term left with fewer than three fails, and a new draw is due. Applied by the first request after the moment (a
step posted, a page read) and by `salon tick` (advance). The clock is fixed and moved by the test."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from salon import clock
from salon.audit.models import AuditEvent
from salon.errors import Conflict
from salon.extensions import db
from salon.rules import trustees as rules
from salon.sealed import threshold
from salon.sealed.group import SeededNonces, base_mul
from salon.trustees import services
from salon.trustees.models import CHECKING, DEALING, FAILED, READY, SHARING
from tests.services.test_trustee_complaints import confirm_all, deal, place, share
from tests.services.test_trustees import drawn_term

STEP = timedelta(days=rules.STEP_DAYS)
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


@pytest.fixture
def start(at):
    return at(clock.utcnow().replace(microsecond=0))


def deal_some(term, indexes, seed="late"):
    """Trustees `indexes` deal (the others do not)."""
    for t in list(term.active):
        if t.index in indexes:
            rng = SeededNonces(f"{seed}-{term.round}-{t.index}")
            secret = rng.scalar()
            public = threshold.deal(term.key_term, t.index, term.threshold, rng).public()
            services.post_dealing(term, t.user, base_mul(secret).hex(), public["commitments"], public["proofs"],
                                  term.round)


def dropped_events(world):
    return [e.details for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.programme_id == world.programme.id, AuditEvent.action == "trustees.dropped")
        .order_by(AuditEvent.id))]


def test_a_step_ends_step_days_after_it_began(world, start):
    term = drawn_term(world)
    assert term.state == DEALING and term.deadline == start + STEP
    assert rules.STEP_DAYS == 3  # the documented default (docs/sealed-ballots.md)


def test_one_second_before_the_deadline_nobody_is_dropped_at_it_the_late_are(world, start, at):
    term = drawn_term(world)
    deal_some(term, {1, 2, 3})
    at(start + STEP - SECOND)
    assert services.enforce_deadline(term) == [] and services.advance(world.programme) == []
    assert term.state == DEALING and len(term.active) == 4 and term.round == 1
    at(start + STEP)
    said = services.advance(world.programme)  # salon tick
    assert said and "1 trustees missed the deadline" in said[0]
    late = place(term, 4)
    assert (late.dropped_at, late.dropped_for, late.missed_step) == (start + STEP, "deadline", DEALING)
    # The others restart without them: a new round, k = n − 1 of those left, a fresh deadline, nothing dealt.
    assert (term.state, term.round, term.threshold) == (DEALING, 2, 2)
    assert [t.index for t in term.active] == [1, 2, 3]
    assert term.deadline == start + STEP + STEP
    assert all(t.dealt_at is None for t in term.active)
    assert dropped_events(world) == [{"trustee": 4, "state": DEALING, "reason": "deadline", "step": DEALING}]
    assert services.device_state(term, None)["dropped"] == [4]
    # The restarted round has its own deadline, and the three make the key within it.
    at(start + STEP + STEP - SECOND)
    devices = deal(term, "round2")
    share(term, devices)
    confirm_all(term, devices)
    assert term.state == READY and term.deadline is None


def test_a_trustee_who_acts_in_time_is_kept_and_each_step_has_its_own_deadline(world, start, at):
    term = drawn_term(world)
    at(start + timedelta(days=1))
    devices = deal(term)  # everyone dealt a day in: sharing begins, with its own deadline
    assert term.state == SHARING and term.deadline == start + timedelta(days=1) + STEP
    at(start + STEP)  # the dealing step's deadline would have been now: nothing happens
    assert services.enforce_deadline(term) == [] and term.state == SHARING
    at(start + timedelta(days=1) + STEP - SECOND)
    share(term, devices)  # in time, by the last second
    assert term.state == CHECKING and len(term.active) == 4
    checked = term.deadline
    assert checked == start + timedelta(days=1) + STEP - SECOND + STEP
    key = threshold.joint_key({i: d.commitments for i, (_s, d) in devices.items()}).hex()
    for index in (1, 2, 3):
        services.confirm(term, place(term, index).user, key, term.round)
    at(checked)  # trustee 4 never confirmed: dropped at the checking step's deadline
    services.enforce_deadlines(world.programme.id, checked)
    assert place(term, 4).missed_step == CHECKING and [t.index for t in term.active] == [1, 2, 3]
    assert term.state == DEALING and term.round == 2 and term.deadline == checked + STEP


def test_a_term_left_with_fewer_than_three_fails_and_a_new_draw_is_due(world, start, at):
    term = drawn_term(world)
    deal_some(term, {1, 3})
    assert not services.announce_due(world.programme.id, start)  # a draw is under way
    at(start + STEP)
    dropped = services.enforce_deadline(term)
    assert sorted(t.index for t in dropped) == [2, 4]
    assert term.state == FAILED and term.deadline is None and [t.index for t in term.active] == [1, 3]
    assert services.announce_due(world.programme.id, start + STEP)  # what follows a failed term: a new draw
    assert [e["trustee"] for e in dropped_events(world)] == [2, 4]
    at(start + STEP + STEP)
    assert services.enforce_deadline(term) == []  # a failed term has no deadline


def test_the_late_trustees_own_step_after_the_deadline_is_refused_and_says_why(world, start, at):
    term = drawn_term(world)
    deal_some(term, {1, 2, 3})
    late = place(term, 4)
    at(start + STEP)
    public = threshold.deal(term.key_term, 4, term.threshold, SeededNonces("too-late")).public()
    with force_locale("en"), pytest.raises(Conflict) as refused:
        services.post_dealing(term, late.user, public["commitments"][0], public["commitments"], public["proofs"], 1)
    assert "deadline" in refused.value.message and refused.value.field == "state"
    assert late.dropped_for == "deadline" and term.round == 2
    # A prompt trustee posting in the old round after the deadline is told the ceremony restarted.
    prompt = place(term, 2)
    public = threshold.deal(term.key_term, 2, term.threshold, SeededNonces("old-round")).public()
    with pytest.raises(Conflict) as restarted:
        services.post_dealing(term, prompt.user, public["commitments"][0], public["commitments"], public["proofs"],
                              1)
    assert restarted.value.field == "round"


def test_the_complaint_path_still_drops_for_a_complaint(world, start):
    term = drawn_term(world)
    devices = deal(term)
    share(term, devices, wrong={(2, 3)})
    from tests.services.test_trustee_complaints import evidence

    services.complain(term, place(term, 3).user, 2, evidence(term, devices, 3, 2), term.round)
    assert place(term, 2).dropped_for == "complaint" and place(term, 2).missed_step is None
    assert term.deadline == start + STEP  # the restart after a complaint has a fresh deadline too
    assert dropped_events(world)[-1]["reason"] == "complaint"
