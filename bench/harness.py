"""What the benchmarks share (bench/ballots.py, cluster.py, rush.py, pages_wrk.py): a scratch PostgreSQL
database, a seeded programme with an open sealed poll (a drawn term of trustees whose secrets the script holds), free ports, servers' and the database's CPU from /proc, the load
average. Its own module so that the scripts import it, not each other."""
from __future__ import annotations

import hashlib
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
ADMIN_URL = os.environ.get("SALON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_database() -> str:
    name = f"salon_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def seed_sealed(url: str, seats: int, options: int) -> "Seeded":
    """Bulk-insert communities, seats, secretaries and tokens; open a poll sealed (as every poll opens, SPEC §5.1)
    with a drawn term of trustees made ready on the server from known nonces, as the demo does
    (salon.trustees.demo.make_ready): the bureau is trustee 1, three secretaries drawn by lot are trustees 2–4, k = 3. Their secrets and the drawn
    secretaries' tokens come back, so that they can decrypt through the API (bench/sealed_voting.py)."""
    return _seed(url, seats, options)


@dataclass
class Seeded:
    poll_id: int
    option_ids: list[int]
    tokens: list[str]  # one per seat, in seat order
    term_id: int | None = None  # the trustees' term
    trustees: list = field(default_factory=list)  # (index, bearer token or None, secret)


def _seed(url: str, seats: int, options: int) -> Seeded:
    from salon import create_app
    from salon.accounts.models import ApiToken, Role, User
    from salon.ballots import services as ballots
    from salon.extensions import db
    from salon.programmes import services as programmes
    from salon.programmes.models import Community, Seat, SeatHolding
    from salon.rules import ballots as rules

    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "SALON_PASSWORD_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context(), app.test_request_context():
        programme, bureau = programmes.create_programme("压测沙龙", "压测民政局", "bench_bureau", "压测", "bench-password")
        pid = programme.id
        db.session.execute(insert(Community), [{"programme_id": pid, "name": f"社区{i:05d}", "active": True,
                                                "rotation_position": i + 1} for i in range(seats)])
        community_ids = db.session.scalars(select(Community.id).where(Community.programme_id == pid)
                                           .order_by(Community.id)).all()
        db.session.execute(insert(Seat), [{"programme_id": pid, "community_id": c} for c in community_ids])
        db.session.execute(insert(User), [{"programme_id": pid, "username": f"bench{i:05d}", "display_name": f"书记{i}",
                                           "role": Role.SECRETARY, "active": True, "session_version": 1}
                                          for i in range(seats)])
        seat_ids = db.session.scalars(select(Seat.id).where(Seat.programme_id == pid).order_by(Seat.id)).all()
        user_ids = db.session.scalars(select(User.id).where(User.programme_id == pid, User.role == Role.SECRETARY)
                                      .order_by(User.id)).all()
        db.session.execute(insert(SeatHolding), [{"programme_id": pid, "seat_id": s, "user_id": u}
                                                 for s, u in zip(seat_ids, user_ids)])
        tokens = ["sln_" + secrets.token_urlsafe(32) for _ in user_ids]
        db.session.execute(insert(ApiToken), [
            {"programme_id": pid, "user_id": u, "name": "bench", "prefix": t[:10],
             "token_hash": hashlib.sha256(t.encode()).hexdigest()} for u, t in zip(user_ids, tokens)])
        from datetime import timedelta

        from salon import clock

        seeded = Seeded(0, [], tokens)
        seeded.term_id, by_user = ready_drawn_term(programme, bureau)
        token_of = dict(zip(user_ids, tokens))
        seeded.trustees = [(index, token_of.get(user_id), secret)
                           for index, (user_id, secret) in sorted(by_user.items())]
        poll = ballots.create_poll(pid, "topic", "压测投票", closes_at=clock.utcnow() + timedelta(days=1),
                                   opens_at=clock.utcnow(), min_published=3)
        question = ballots.add_question(poll, "Q", rules.APPROVAL, 3)
        seeded.option_ids = [ballots.add_option(question, f"议题{i}", ref_id=i).id for i in range(options)]
        ballots.open_poll(poll, list(seat_ids), bureau)  # takes the drawn term's key (trustees.services.key_for)
        assert poll.sealed, "the poll did not open sealed"
        db.session.commit()
        seeded.poll_id = poll.id
        return seeded


def ready_drawn_term(programme, bureau) -> tuple[int, dict[int, tuple[int, int]]]:
    """A drawn term of trustees for the programme, announced (a fixed seed), drawn and made ready on the server as
    the demo's are (salon.trustees.demo.make_ready: known nonces, never for a real programme). Answers the term's
    id and, per trustee index, (user id, secret). Call it in an app and request context; commit after."""
    import tempfile

    from flask import current_app

    from salon import clock
    from salon.trustees import demo as trustees_demo
    from salon.trustees import services as trustees

    now = clock.utcnow()
    term = trustees.announce_draw(programme, bureau, now, seed=hashlib.sha256(b"salon-bench-trustees").hexdigest())
    trustees.draw(term, bureau, now)
    saved = current_app.config.get("SALON_DEMO_TRUSTEE_BACKUPS")
    with tempfile.TemporaryDirectory(prefix="salon-bench-trustees-") as backups:
        current_app.config["SALON_DEMO_TRUSTEE_BACKUPS"] = backups  # the demo's backup files: thrown away
        try:
            held = trustees_demo.make_ready(term)
        finally:
            current_app.config["SALON_DEMO_TRUSTEE_BACKUPS"] = saved
            # Held by this script alone: the app must not decrypt at a close by itself (trustees.demo.decrypt_closed).
            current_app.extensions.pop(trustees_demo.SECRETS, None)
    users = {t.index: t.user_id for t in term.active}
    return term.id, {index: (users[index], secret) for index, secret in held.items()}


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> float:
    """User + system CPU seconds used so far by these processes (Linux /proc)."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
        except (OSError, IndexError, ValueError):
            pass
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, over all cores (Linux /proc/stat)."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK, sum(values) / TICK


def server_pids(server) -> list[int]:
    pids = [server.pid]
    try:
        with open(f"/proc/{server.pid}/task/{server.pid}/children") as fh:
            pids += [int(p) for p in fh.read().split()]
    except OSError:
        pass
    return pids


def backend_pids(url: str) -> list[int]:
    """The PostgreSQL server processes serving the benchmark's database."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        pids = list(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                                 {"d": make_url(url).database}).scalars())
    admin.dispose()
    return pids


def load() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def wait_for_port(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answers on port {port}")


def stop(server) -> None:
    if server is not None and server.poll() is None:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def backend_cpu(url: str) -> dict[int, float]:
    return {pid: cpu_seconds([pid]) for pid in backend_pids(url)}
