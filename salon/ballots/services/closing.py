"""The close (open → closed, by hand or when the window ends; draft → closed for a poll that could never open).

Every poll is sealed (SPEC §5.1): the close adds the ciphertexts into the encrypted sums and rewrites nothing.
No plain choice was ever written, so there is nothing to erase from the database files: the close's cost is
the poll's own ballots, whatever the history of other programmes (bench/sealed_close.py)."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import insert, select

from salon import clock
from salon.audit import services as audit
from salon.ballots import signals
from salon.ballots.models import Counter, Option, Poll, PollState
from salon.database import lock_poll, lock_programme
from salon.errors import Conflict
from salon.extensions import db

from . import sealing
from .reading import turnout


def close_poll(poll: Poll, actor=None, now: datetime | None = None) -> Poll:
    """open → closed. The poll's lock, exclusive, waits for every ballot in flight (they hold it shared) to
    commit; the statements after it see them all."""
    lock_programme(poll.programme_id)  # lock order: salon/database.py
    lock_poll(poll.id, shared=False)
    now = now or clock.utcnow()
    db.session.refresh(poll, with_for_update=True)
    if poll.state != PollState.OPEN:
        raise Conflict(_("Only an open poll can close."), "state")
    poll.state = PollState.CLOSED
    poll.closed_at = now
    if poll.closes_at > now:
        poll.closes_at = now
    # SPEC §5.1: the encrypted sums. The counts come when k trustees have decrypted the sums
    # (sealing.record_decryption sends poll_counted), or at once below the minimum when no sum is to be decrypted
    # (sealing.count_at_close, below).
    sealing.tally_at_close(poll)
    db.session.flush()
    audit.record(poll.programme_id, actor, "poll.close", poll, kind=poll.kind, turnout=turnout(poll.id))
    signals.poll_closed.send(poll, actor=actor, now=now)
    sealing.count_at_close(poll, now)  # no sum to decrypt below the minimum (SPEC §5): counted now, no trustee
    return poll


def close_unopened(poll: Poll, now: datetime) -> Poll:
    """draft → closed without ever opening: a poll whose window passed before it could open (no trustees' key was
    ready, SPEC §5.1). No seat was eligible and no ballot exists, so its counts (zeros) are known at once:
    poll_closed and poll_counted are sent as for any close."""
    lock_programme(poll.programme_id)  # lock order: salon/database.py
    lock_poll(poll.id, shared=False)
    db.session.refresh(poll, with_for_update=True)
    if poll.state != PollState.DRAFT:
        raise Conflict(_("Only a poll that has not opened yet can close unopened."), "state")
    option_ids = db.session.scalars(select(Option.id).where(Option.poll_id == poll.id)).all()
    if option_ids:
        db.session.execute(insert(Counter), [
            {"option_id": oid, "shard": 0, "programme_id": poll.programme_id, "poll_id": poll.id, "n": 0}
            for oid in sorted(option_ids)])
    poll.state = PollState.CLOSED
    poll.opened_at = poll.closed_at = now
    poll.opens_at = min(poll.opens_at or now, now)
    poll.closes_at = min(poll.closes_at, now)
    poll.seal = secrets.token_hex(16)
    poll.eligible_count = 0
    db.session.flush()
    audit.record(poll.programme_id, None, "poll.close", poll, kind=poll.kind, turnout=0, unopened=True)
    signals.poll_closed.send(poll, actor=None, now=now)
    signals.poll_counted.send(poll, actor=None, now=now)
    return poll


def close_due(now: datetime, programme_id: int | None = None) -> list[Poll]:
    """Close every open poll whose window has ended (lazily on a request, and by `salon tick`)."""
    query = select(Poll).where(Poll.state == PollState.OPEN, Poll.closes_at <= now)
    if programme_id is not None:
        query = query.where(Poll.programme_id == programme_id)
    closed = []
    for poll in db.session.scalars(query).all():
        lock_programme(poll.programme_id)
        lock_poll(poll.id, shared=False)
        db.session.refresh(poll, with_for_update=True)
        if poll.state == PollState.OPEN:
            close_poll(poll, None, now)
            closed.append(poll)
    return closed
