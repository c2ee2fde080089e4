"""Appending to and verifying the hash chain. Each programme has its own chain."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select

from salon.audit.models import AuditEvent
from salon.clock import utcnow
from salon.database import check_lock_order, keep_if_refused, lock_programme
from salon.extensions import db

GENESIS = "0" * 64


def _digest(event: AuditEvent) -> str:
    payload = {
        "programme_id": event.programme_id,
        "seq": event.seq,
        "created_at": event.created_at.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(programme_id: int, actor, action: str, obj=None, **details) -> AuditEvent:
    """Append one event. `actor` is a User or None (the command line). Never pass ballot contents."""
    return _append(programme_id, getattr(actor, "id", None), getattr(actor, "username", None) or "cli", action,
                   type(obj).__name__.lower() if obj is not None else "",
                   str(getattr(obj, "id", "") or "") if obj is not None else "",
                   {k: v for k, v in details.items() if v is not None})


def record_refused(programme_id: int, actor, action: str, obj=None, **details) -> AuditEvent:
    """Append the event of an attempt the service is about to refuse, and keep it although the refusal rolls the
    request back: if the request ends in an error answer, the same event is appended again, in a transaction of
    its own, after the rollback (salon.database.keep_if_refused). A page that shows the refusal as a message and
    commits keeps the first one. Call it just before raising; never pass ballot contents."""
    event = record(programme_id, actor, action, obj, **details)
    values = (event.actor_id, event.actor_name, action, event.object_type, event.object_id, dict(event.details))

    def again() -> None:
        _append(programme_id, *values)

    keep_if_refused(again)
    return event


def _append(programme_id: int, actor_id, actor_name: str, action: str, object_type: str, object_id: str,
            details: dict) -> AuditEvent:
    # The programme lock (step 1 of the lock order in salon/database.py) also keeps two writers from
    # chaining onto the same last link.
    check_lock_order(programme_id)
    lock_programme(programme_id)
    last = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.programme_id == programme_id)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    event = AuditEvent(
        programme_id=programme_id,
        seq=(last.seq + 1) if last else 1,
        created_at=utcnow(),
        actor_id=actor_id,
        actor_name=actor_name,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details,
        prev_hash=last.hash if last else GENESIS,
    )
    event.hash = _digest(event)
    db.session.add(event)
    db.session.flush()
    return event


@dataclass
class Break:
    programme_id: int
    seq: int
    reason: str


def verify(programme_id: int | None = None) -> tuple[int, Break | None]:
    """Walk every chain; return (events checked, first broken link or None)."""
    query = select(AuditEvent).order_by(AuditEvent.programme_id, AuditEvent.seq)
    if programme_id is not None:
        query = query.where(AuditEvent.programme_id == programme_id)
    checked = 0
    current, prev_hash, expected_seq = None, GENESIS, 1
    for event in db.session.execute(query.execution_options(yield_per=500)).scalars():
        if event.programme_id != current:
            current, prev_hash, expected_seq = event.programme_id, GENESIS, 1
        if event.seq != expected_seq:
            return checked, Break(event.programme_id, event.seq, f"expected link {expected_seq}, found {event.seq}")
        if event.prev_hash != prev_hash:
            return checked, Break(event.programme_id, event.seq, "does not point at the link before it")
        if _digest(event) != event.hash:
            return checked, Break(event.programme_id, event.seq, "contents do not match its hash")
        checked += 1
        prev_hash, expected_seq = event.hash, expected_seq + 1
    return checked, None
