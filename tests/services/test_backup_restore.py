"""`salon backup` then `salon restore` into a fresh, empty database (SPEC §8), on each database: the audit chain
verifies there and every page and API route answers as it did before the backup.

The database holds the demo programme (through `salon demo`) and the permission matrix's world with its
schedule, topics, outcomes and review (tests/web/test_permissions.py), so every route that takes an id has one
(the election's is the demo's: programme A's review has elected its committee, so A holds no election).
Python's clock stands still for the whole round trip: the answers before and after are built at the same
moment, and signed links carry the same timestamp. Only each browser session's form token may differ."""
from __future__ import annotations

import difflib
import re
import uuid
from datetime import datetime, timezone
from unittest import mock

import pytest
import time_machine
from flask_migrate import upgrade
from sqlalchemy import func, select

from salon import MIGRATIONS, create_app, demo, secrecy
from salon.accounts.models import User
from salon.audit.models import AuditEvent
from salon.committee.models import Election
from salon.errors import DomainError
from salon.extensions import db
from tests.conftest import (BACKENDS, PASSWORD, base_config, build_world, create_postgres_database,
                            drop_postgres_database, login, seal_every_poll, token_for)
from tests.web.test_permissions import CASES, build_schedule, outcomes, review, topics


def _cli(app, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, f"salon {' '.join(args)}: {result.output}{result.exception!r}"
    return result.output


def _routes(world) -> tuple[list[tuple[str, str, bool]], list[str]]:
    """(endpoint, address, is_api) of every GET route in the permission matrix with the world's ids, and the
    endpoints whose fixtures could not be built."""
    routes, unbuilt = [], []
    for endpoint, case in sorted(CASES.items()):
        if case.method != "GET":
            continue
        try:
            url = case.url(world) if callable(case.url) else case.url
        except DomainError:
            db.session.rollback()
            unbuilt.append(endpoint)
            continue
        routes.append((endpoint, url, case.api))
    return routes, unbuilt


# Each browser session gets its own random form token; the rest of a page must match byte for byte.
_CSRF = re.compile(rb'(?<=name="csrf_token" value=")[^"]*')


def _answers(app, visitors: dict) -> dict:
    """(visitor, address) -> (status, content type, body) for each visitor's routes."""
    answers = {}
    for name, (username, password, token, own_routes) in visitors.items():
        client = app.test_client()
        assert login(client, username, password).status_code == 302, name
        for _endpoint, url, is_api in own_routes:
            headers = {"Authorization": f"Bearer {token}"} if is_api else {}
            response = client.get(url, headers=headers)
            answers[(name, url)] = (response.status_code, response.content_type, _CSRF.sub(b"", response.get_data()))
    return answers


def _fresh_database(backend: str, tmp_path, name: str) -> str:
    if backend == "sqlite":
        return "sqlite:///" + str(tmp_path / f"{name}.sqlite")
    return create_postgres_database(f"salon_{name}")


@pytest.fixture(scope="module", params=BACKENDS)
def round_trip(request, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("backup")
    original = _fresh_database(request.param, tmp_path, "original")
    restored = _fresh_database(request.param, tmp_path, "restored")
    secret = "backup-" + uuid.uuid4().hex  # a restore keeps its installation's key
    backup = tmp_path / "salon.backup"
    apps = []
    # What the database server's settings keep (salon.secrecy: the bureau's warning) is the cluster's, not the
    # data's, and other tests on this shared server change it for a moment (a temporary replication slot): the
    # pages are compared with it held fixed.
    server_settings = mock.patch.object(secrecy, "check", lambda: [])
    server_settings.start()
    try:
        with time_machine.travel(datetime.now(timezone.utc), tick=False):
            source = create_app(base_config(original, str(tmp_path)) | {"SECRET_KEY": secret})
            seal_every_poll(source)
            apps.append(source)
            with source.app_context():
                upgrade(directory=MIGRATIONS)
            _cli(source, "demo")
            with source.app_context():
                world = build_world()
                build_schedule(world)
                topics(world)
                outcomes(world)
                review(world)  # elects programme A's committee, so A can hold no election now: the demo's is used
                world.extra["election"] = db.session.scalar(select(func.max(Election.id)))
                routes, unbuilt = _routes(world)
                users = {u.username: u for u in db.session.scalars(
                    select(User).where(User.username.in_([demo.BUREAU_LOGIN[0], "sec01"])))}
                visitors = {
                    "demo bureau": (demo.BUREAU_LOGIN[0], demo.BUREAU_LOGIN[1], token_for(users["bureau"])),
                    "demo secretary": ("sec01", demo.SECRETARY_PASSWORD, token_for(users["sec01"])),
                    "bureau": (world.bureau.username, PASSWORD, token_for(world.bureau)),
                    "secretary": (world.secretaries[0].username, PASSWORD, token_for(world.secretaries[0]))}
                events = db.session.scalar(select(func.count(AuditEvent.id)))
                db.session.remove()
            # The demo's people see the routes without ids (their programme's lists and pages); the world's, all.
            visitors = {name: (*v, routes if name in ("bureau", "secretary") else _plain(routes))
                        for name, v in visitors.items()}
            _cli(source, "backup", str(backup))
            before = _answers(source, visitors)

            target = create_app(base_config(restored, str(tmp_path)) | {"SECRET_KEY": secret})
            seal_every_poll(target)
            apps.append(target)
            _cli(target, "restore", str(backup))
            verified = _cli(target, "audit", "verify")
            after = _answers(target, visitors)
        yield {"before": before, "after": after, "verified": verified, "events": events, "unbuilt": unbuilt}
    finally:
        server_settings.stop()
        for app in apps:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        if request.param == "postgresql":
            drop_postgres_database(original)
            drop_postgres_database(restored)


def _plain(routes: list) -> list:
    """The routes whose address holds no id."""
    plain = []
    for endpoint, url, is_api in routes:
        case = CASES[endpoint]
        try:
            case.url(None) if callable(case.url) else None
        except (AttributeError, TypeError, KeyError):
            continue
        plain.append((endpoint, url, is_api))
    return plain


def test_the_restored_audit_chain_verifies(round_trip):
    assert f"audit log intact: {round_trip['events']} events verified" in round_trip["verified"]
    assert round_trip["events"] > 100


def test_every_page_and_api_route_answers_as_before(round_trip):
    before, after = round_trip["before"], round_trip["after"]
    assert not round_trip["unbuilt"], f"routes left out: {round_trip['unbuilt']}"
    assert before.keys() == after.keys()
    differ = []
    for key, (status, kind, body) in before.items():
        if after[key] != (status, kind, body):
            new_status, new_kind, new_body = after[key]
            diff = "(binary)\n" if not (kind or "").startswith(("text/", "application/json")) else "".join(
                list(difflib.unified_diff(body.decode("utf-8", "replace").splitlines(True),
                                          new_body.decode("utf-8", "replace").splitlines(True), n=0))[:8])
            differ.append(f"{key}: {status} {kind} -> {new_status} {new_kind}\n{diff}")
    assert not differ, "\n".join(differ[:10])
    statuses = [status for status, _kind, _body in before.values()]
    assert statuses.count(200) > 150  # the routes really answered, not just agreed on an error
