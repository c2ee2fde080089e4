"""Measure what a PostgreSQL server's statement log keeps of a ballot (docs/secrecy-leaks.md); a script, not a test.

Point it at a PostgreSQL server of your own whose log you can read and whose logging you set (never the shared
one): e.g. a throw-away cluster started with `-c log_statement=all -c log_min_duration_statement=0`. It creates
a database, migrates it, opens a sealed approval poll for three seats (a throw-away trustees' key), casts two ballots
through the API — the first as plain choices, which the server seals, the second sealed by the client
(salon.sealed.client) — then searches the log written meanwhile for each ballot's receipt (its fingerprint), its
seat's token hash and the chosen option ids as a plain cast sends them, and prints what it found, as the app's role (superuser: the app sets
log_parameter_max_length = 0 on its connections) and, with --role, as a role that is not a superuser.
It also prints `salon check-secrecy`'s findings for that server.

    .venv/bin/python bench/secrecy_log.py --url postgresql+psycopg://postgres@127.0.0.1:PORT/postgres \
        --log /path/to/server.log [--role salon_app]"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import uuid
from datetime import timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(admin_url: str, log_path: str, role: str | None) -> None:
    from salon import clock, create_app
    from salon.accounts import services as accounts
    from salon import secrecy
    from salon.ballots import services as ballots
    from salon.extensions import db
    from salon.programmes import services as programmes
    from salon.rules import ballots as rules
    from salon.sealed import board, client as sealing_client, threshold
    from salon.sealed.group import RandomNonces

    name = f"salon_secrecy_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        if role:
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
            connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
            connection.execute(text(f'ALTER DATABASE "{name}" OWNER TO "{role}"'))
    url = make_url(admin_url).set(database=name)
    if role:
        url = url.set(username=role)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
                          "SECRET_KEY": "x" * 32, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
        rng = RandomNonces()
        record = board.key_record("log", 2, [threshold.deal("log", i, 2, rng).public() for i in range(1, 4)])
        ballots.register_key_provider(app, lambda programme_id, kind, now: ballots.PollKey(
            f"p{programme_id}-log", 2, record, ((1, 1), (2, 1), (3, 1))))
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
        start = os.path.getsize(log_path)
        with app.test_request_context():
            programme, bureau = programmes.create_programme("测县", "", "bureau", "局", "correct horse 1")
            users = []
            for i in range(3):
                community = programmes.add_community(programme, bureau, f"社区{i}")
                users.append(programmes.hand_over_seat(community, bureau, f"sec{i}", f"书记{i}", "correct horse 1")[0])
            now = clock.utcnow()
            poll = ballots.create_poll(programme.id, "test", "日志", closes_at=now + timedelta(days=1), opens_at=now)
            question = ballots.add_question(poll, "Q", rules.APPROVAL, 2)
            options = [ballots.add_option(question, f"选项{i}").id for i in range(4)]
            ballots.open_poll(poll, [programmes.seat_of(u).id for u in users], bureau)
            tokens = [accounts.create_token(u, "bench")[1] for u in users[1:]]
            spec = sealing_client.spec_from_json(ballots.seal_spec(poll))
            db.session.commit()
            poll_id, found = poll.id, secrecy.said(secrecy.check())
        client = app.test_client()
        chosen = [[options[0], options[3]], [options[1], options[2]], [options[2], options[3]]]
        receipts = []
        for i, (raw, choice) in enumerate(zip(tokens, chosen[1:])):
            body = ({"choices": choice} if i == 0 else
                    sealing_client.request_body(sealing_client.seal_ballot(spec, spec.answers_for_options(choice))))
            answer = client.post(f"/api/v1/polls/{poll_id}/ballot", json=body,
                                 headers={"Authorization": f"Bearer {raw}"})
            assert answer.status_code == 201, answer.get_data(as_text=True)
            receipts.append(answer.get_json()["receipt"])
        with open(log_path, encoding="utf-8", errors="replace") as log:
            log.seek(start)
            written = log.read()
        print(f"role: {role or make_url(admin_url).username}; log lines written: {written.count(chr(10))}")
        for i, (raw, receipt, choice) in enumerate(zip(tokens, receipts, chosen[1:]), start=1):
            token_hash = hashlib.sha256(raw.encode()).hexdigest()
            arrays = ["{%d,%d}" % (choice[0], choice[1]), "{%d,%d}" % (choice[1], choice[0])]
            array = arrays[0]
            print(f"ballot {i} ({'plain, sealed by the server' if i == 1 else 'sealed by the client'}): "
                  f"receipt (fingerprint) in log: {receipt in written}; "
                  f"token hash in log: {token_hash in written}; choices {array} in log: {any(a in written for a in arrays)}")
        print("check-secrecy:", [(s.finding.code, s.finding.severity) for s in found])
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if role:
                connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--role", default=None, help="run the app as this new role (not a superuser)")
    args = parser.parse_args()
    os.environ.setdefault("SALON_INSTANCE_PATH", tempfile.mkdtemp(prefix="salon-secrecy-"))
    run(args.url, args.log, args.role)


if __name__ == "__main__":
    main()
