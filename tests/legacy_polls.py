"""Polls opened on plain counters, as versions before migration 0013 opened them when no trustees' key was ready.

No poll opens that way any more (SPEC §5.1; docs/secrecy.md, "No plain polls"), but a database upgraded while such
a poll was open still holds it: the engine keeps taking its ballots (counter shards, receipt codes, the fast path)
and closes it with the scrub. The tests of that path open their polls with `legacy_opening`, which writes exactly
the rows the old `open_poll` wrote."""
from __future__ import annotations

import secrets
from contextlib import contextmanager

from sqlalchemy import insert, select

from salon import clock
from salon.audit import services as audit
from salon.ballots import services as ballots
from salon.ballots.models import Counter, EligibleSeat, Option, PollState
from salon.database import lock_poll, lock_programme
from salon.errors import Conflict
from salon.extensions import db

COUNTER_SHARDS = 16  # what the old versions gave every option while its poll was open


def open_as_before_0013(poll, seat_ids, actor=None, now=None, key=None):
    lock_programme(poll.programme_id)
    lock_poll(poll.id, shared=False)
    now = now or clock.utcnow()
    db.session.refresh(poll, with_for_update=True)
    if poll.state != PollState.DRAFT:
        raise Conflict("Only a poll that has not opened yet can open.", "state")
    option_ids = db.session.scalars(select(Option.id).where(Option.poll_id == poll.id)).all()
    seat_ids = sorted(set(seat_ids))
    db.session.execute(insert(Counter), [
        {"option_id": oid, "shard": shard, "programme_id": poll.programme_id, "poll_id": poll.id, "n": 0}
        for oid in sorted(option_ids) for shard in range(COUNTER_SHARDS)])
    if seat_ids:
        db.session.execute(insert(EligibleSeat), [
            {"poll_id": poll.id, "seat_id": sid, "programme_id": poll.programme_id} for sid in seat_ids])
    poll.state = PollState.OPEN
    poll.opened_at = now
    poll.seal = secrets.token_hex(16)
    poll.counter_shards = COUNTER_SHARDS
    if poll.opens_at is None or poll.opens_at > now:
        poll.opens_at = now
    poll.eligible_count = len(seat_ids)
    db.session.flush()
    audit.record(poll.programme_id, actor, "poll.open", poll, kind=poll.kind, eligible=len(seat_ids))
    return poll


@contextmanager
def legacy_opening(monkeypatch):
    """While the block runs, every room's `ballots.open_poll` opens on plain counters, as before 0013."""
    with monkeypatch.context() as patch:
        patch.setattr(ballots, "open_poll", open_as_before_0013)
        yield
