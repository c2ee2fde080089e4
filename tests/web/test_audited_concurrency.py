"""Every write that records an audit event, sent twice at once and raced by two other audited writes, answers
without a 5xx and leaves an unbroken audit chain (the lock order of salon/database.py; issue 11 §2)."""
from __future__ import annotations

import threading
import uuid

import pytest

from salon.audit import services as audit
from salon.extensions import db
from tests.conftest import token_for
from tests.web.test_permissions import build_schedule, topics


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def _prepare(world) -> dict:
    """Ids of programme A's rows, and a few spare rows the DELETE and decision cases can use up."""
    from salon.accounts import services as accounts
    from salon.schedule import services as schedule

    build_schedule(world)
    ids = dict(topics(world))
    sessions = schedule.sessions(world.programme.id)
    future = [s for s in sessions if s.number is not None and s.number < 100 and s.status.value == "planned"]
    # Picked by chair, not by position: six months hold five sessions once this month's has passed, and then
    # the third-last is not the secretary's community's (a request to swap it was a 403 after the last Thursday).
    a = [s for s in future if s.chair_community_id == world.communities[0].id][-1]  # the secretary's to swap
    b = [s for s in future if s.chair_community_id != a.chair_community_id][-1]
    c = [s for s in future if s.id not in (a.id, b.id)][-1]
    ids.update(c1=world.communities[0].id, c2=world.communities[1].id, c3=world.communities[2].id,
               sec2=world.secretaries[1].id, a=a.id, b=b.id, c=c.id,
               request=world.extra["request"].id, feed=world.extra["feed"].id,
               token=accounts.create_token(world.bureau, "spare")[0].id,
               order=[c.id for c in schedule.rotation_order(world.programme.id)])
    db.session.commit()
    return ids


# (name, role, method, path, body): {key} in the path and the body's strings is filled from _prepare's ids;
# "@" in a body string becomes a fresh unique suffix per request.
WRITES = [
    ("invite colleague", "bureau", "post", "/people", {"username": "@u", "display_name": "同事"}),
    ("reset account", "bureau", "post", "/people/{sec2}/reset", None),
    ("create token", "bureau", "post", "/tokens", {"name": "@t"}),
    ("revoke token", "bureau", "delete", "/tokens/{token}", None),
    ("programme settings", "bureau", "patch", "/programme", {"invitation_days": 5}),
    ("add community", "bureau", "post", "/communities", {"name": "@社区"}),
    ("rename community", "bureau", "patch", "/communities/{c2}", {"name": "@改名"}),
    ("deactivate community", "bureau", "patch", "/communities/{c3}", {"active": False}),
    ("hand over seat", "bureau", "post", "/communities/{c2}/handover", {"username": "@h", "display_name": "新书记"}),
    ("generate", "bureau", "post", "/sessions/generate", {"months": 8}),
    ("reorder", "bureau", "put", "/rotation", {"order": "{order}"}),
    ("draw lots", "bureau", "post", "/rotation/draw", None),
    ("blackouts", "bureau", "put", "/blackouts", {"blackout_months": ["2031-02"]}),
    ("edit session", "bureau", "patch", "/sessions/{a}", {"venue": "@会议室"}),
    ("lock session", "bureau", "patch", "/sessions/{b}", {"locked": True}),
    ("cancel session", "bureau", "post", "/sessions/{c}/cancel", None),
    ("bureau swap", "bureau", "post", "/sessions/swap", {"session_id": "{a}", "other_session_id": "{b}"}),
    ("request swap", "secretary", "post", "/swaps", {"session_id": "{a}", "other_session_id": "{b}"}),
    ("accept swap", "bureau", "post", "/swaps/{request}/accept", None),
    ("decline swap", "bureau", "post", "/swaps/{request}/decline", None),
    ("create feed", "secretary", "post", "/feeds", {}),
    ("revoke feed", "bureau", "delete", "/feeds/{feed}", None),
    ("open voting", "bureau", "post", "/sessions/{s2}/voting/open", None),
    ("close voting", "bureau", "post", "/sessions/{s3}/voting/close", None),
    ("replace agenda", "bureau", "put", "/sessions/{s1}/agenda", {"items": [{"title": "@开场", "minutes": 10}]}),
    ("add guest", "bureau", "post", "/sessions/{s1}/guests", {"name": "@王", "unit": "县医保局"}),
    ("remove guest", "bureau", "delete", "/sessions/{s1}/guests/{guest}", None),
]
# Raced against each write: one that inserts rows referring to the programme (the deadlock of issue 11 was
# two of these) and one that updates an existing row.
RIVALS = [("bureau", "post", "/tokens", {"name": "@rival"}),
          ("bureau", "patch", "/communities/{c1}", {"name": "@对手"})]


def _fill(value, ids):
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, str) and value.startswith("@"):
        return _unique(value[1:])[:20]
    return value


def _race(app, requests: list[tuple[str, str, str, dict | None]], tokens: dict, ids: dict) -> list:
    barrier = threading.Barrier(len(requests))
    answers: list = [None] * len(requests)

    def send(i):
        role, method, path, body = requests[i]
        kwargs = {"headers": {"Authorization": f"Bearer {tokens[role]}"}}
        if body is not None:
            kwargs["json"] = _fill(body, ids)
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            response = getattr(client, method)("/api/v1" + path.format(**ids), **kwargs)
            answers[i] = (response.status_code, response.get_json(silent=True))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


@pytest.mark.parametrize("name, role, method, path, body", WRITES, ids=[w[0] for w in WRITES])
def test_an_audited_write_twice_at_once_is_never_a_server_error(app, world, name, role, method, path, body):
    ids = _prepare(world)
    tokens = {"bureau": token_for(world.bureau), "secretary": token_for(world.secretaries[0])}
    before, broken = audit.verify(world.programme.id)
    assert broken is None
    db.session.rollback()  # the test holds no transaction (SQLite: no write lock) while the requests run

    answers = _race(app, [(role, method, path, body)] * 2 + RIVALS, tokens, ids)

    assert all(a is not None for a in answers), f"{name}: a request did not finish: {answers}"
    assert all(status < 500 for status, _body in answers), f"{name}: {answers}"
    assert all(status < 300 for status, _body in answers[2:]), f"{name}: a rival failed: {answers}"
    assert any(status < 300 for status, _body in answers[:2]), f"{name}: neither write succeeded: {answers}"
    db.session.expire_all()
    checked, broken = audit.verify(world.programme.id)
    assert broken is None and checked >= before + 3, (name, checked, before, broken)
