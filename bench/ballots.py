"""Benchmark: concurrent ballots through the JSON API on PostgreSQL behind gunicorn (a script, not a test).

Creates a database, migrates it, seeds one programme with SEATS seats (each with a bearer token) and an
open approval poll, starts gunicorn with WORKERS processes on a free port, then in the same run measures
  1. requests/s of a trivial page (GET /static/favicon.svg, and the log-in page) with CLIENTS threads;
  2. ballots/s, p50 and p99 latency with CLIENTS threads casting through POST /api/v1/polls/<id>/ballot.
Afterwards it checks turnout == voter records == receipts, that the counters sum to what was sent, closes
the poll and checks the published receipt list, and drops the database.

It also reports where the CPU went during the ballots (gunicorn, the benchmark's PostgreSQL backends, this
load generator, everything else on the machine), since the server, the database and the load generator
share the machine's cores.

Server settings (printed with the result): gunicorn, 4 gthread workers × 8 threads, keep-alive (on 2 cores,
shared with other work, this did best among 2×16, 2×32, 3×11, 4×8, 4×32, 8×4 gthread and 6 or 8 sync workers,
within much noise). gunicorn hands the
keep-alive connections to whichever worker accepts first, so the 32 clients spread unevenly over the workers
(seen: 21/7/2/2), and requests beyond a worker's 8 threads wait: one cause of the long p99 tail.

    .venv/bin/python bench/ballots.py [--seats 6000] [--clients 32] [--workers 4] [--threads 8]
                                      [--worker-class gthread|sync]
Environment: SALON_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres)."""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import queue
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid

from sqlalchemy import create_engine, func, insert, select, text
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


def seed(url: str, seats: int, options: int) -> tuple[int, list[int], list[str]]:
    """Bulk-insert communities, seats, secretaries and tokens; open a poll. Returns (poll, options, tokens)."""
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

        poll = ballots.create_poll(pid, "topic", "压测投票", closes_at=clock.utcnow() + timedelta(days=1),
                                   opens_at=clock.utcnow(), min_published=3)
        question = ballots.add_question(poll, "Q", rules.APPROVAL, 3)
        option_ids = [ballots.add_option(question, f"议题{i}", ref_id=i).id for i in range(options)]
        ballots.open_poll(poll, list(seat_ids), bureau)
        db.session.commit()
        return poll.id, option_ids, tokens


def run_clients(port: int, clients: int, make_request, stop) -> list[float]:
    """CLIENTS threads, each with its own keep-alive connection; returns every request's latency (s)."""
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while not stop():
            request = make_request()
            if request is None:
                break
            method, path, body, headers, expected = request
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - started)
            if response.status != expected:
                errors.append(f"{response.status} {payload[:200]!r}")
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print(f"  {len(errors)} unexpected answers, e.g. {errors[0]}")
    return latencies


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


def server_settings(args) -> str:
    if args.worker_class == "gthread":
        return f"{args.workers} gthread workers × {args.threads} threads, keep-alive"
    return f"{args.workers} sync workers, one request per connection"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


def trivial(port: int, clients: int, path: str, seconds: float) -> float:
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    got = run_clients(port, clients, lambda: ("GET", path, None, {}, 200), lambda: time.perf_counter() > deadline)
    return len(got) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", type=int, default=6000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--options", type=int, default=8)
    parser.add_argument("--worker-class", default="gthread", choices=("gthread", "sync"),
                        help="gthread keeps connections alive; sync answers one request per connection")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker (gthread)")
    args = parser.parse_args()

    url = create_database()
    server = None
    try:
        env = dict(os.environ, SALON_DATABASE_URL=url, SALON_SECRET_KEY="bench-" + secrets.token_hex(8),
                   SALON_RATELIMIT_ENABLED="0", SALON_INSTANCE_PATH="/tmp/salon-bench-instance")
        subprocess.run([os.path.join(ROOT, ".venv/bin/salon"), "migrate"], env=env, check=True, capture_output=True)
        t0 = time.perf_counter()
        poll_id, option_ids, tokens = seed(url, args.seats, args.options)
        print(f"seeded {args.seats} seats and an open poll in {time.perf_counter() - t0:.1f}s")
        port = free_port()
        server = subprocess.Popen(
            [os.path.join(ROOT, ".venv/bin/gunicorn"), "--workers", str(args.workers), "--worker-class", args.worker_class,
             *(["--threads", str(args.threads)] if args.worker_class == "gthread" else []),
             "--bind", f"127.0.0.1:{port}", "--keep-alive", "30", "--log-level", "warning",
             "salon:create_app()"], env=env, cwd=ROOT)
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        trivial(port, 4, "/static/favicon.svg", 1.0)  # warm every worker up
        static_rps = trivial(port, args.clients, "/static/favicon.svg", 5.0)
        page_rps = trivial(port, args.clients, "/login", 5.0)

        rng = random.Random(1)
        ballots = queue.SimpleQueue()
        sent = {oid: 0 for oid in option_ids}
        for token in tokens:
            choice = rng.sample(option_ids, rng.randint(0, 3))
            for oid in choice:
                sent[oid] += 1
            ballots.put((token, choice))

        def next_ballot():
            try:
                token, choice = ballots.get_nowait()
            except queue.Empty:
                return None
            return ("POST", f"/api/v1/polls/{poll_id}/ballot", json.dumps({"choices": choice}),
                    {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}, 201)

        pids = server_pids(server)
        server_cpu, own_cpu, (busy, whole) = cpu_seconds(pids), time.process_time(), machine_busy()
        started = time.perf_counter()
        latencies = run_clients(port, args.clients, next_ballot, lambda: False)
        elapsed = time.perf_counter() - started
        server_cpu, own_cpu = cpu_seconds(pids) - server_cpu, time.process_time() - own_cpu
        busy, whole = machine_busy()[0] - busy, machine_busy()[1] - whole
        database_cpu = cpu_seconds(backend_pids(url))  # its backends start with the first ballot
        rate = len(latencies) / elapsed
        print(f"trivial page (GET /static/favicon.svg): {static_rps:,.0f} requests/s")
        print(f"log-in page (GET /login, rendered):     {page_rps:,.0f} requests/s")
        print(f"ballots: {len(latencies)} in {elapsed:.2f}s = {rate:,.0f} ballots/s, "
              f"p50 {pct(latencies, 0.5):.1f} ms, p99 {pct(latencies, 0.99):.1f} ms "
              f"({args.clients} clients; gunicorn {server_settings(args)})")
        cores = whole / elapsed
        print(f"CPU during the ballots, in cores of {cores:.0f}: machine {busy / elapsed:.2f} busy = gunicorn "
              f"{server_cpu / elapsed:.2f} + PostgreSQL backends {database_cpu / elapsed:.2f} + this load generator "
              f"{own_cpu / elapsed:.2f} + everything else {(busy - server_cpu - database_cpu - own_cpu) / elapsed:.2f}")
        print(f"ballots/s ÷ trivial page requests/s = {rate / static_rps:.2f}; "
              f"÷ log-in page requests/s = {rate / page_rps:.2f}")
        server.terminate()
        server.wait(10)
        server = None
        check(url, poll_id, sent, len(tokens))
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        drop_database(url)


def check(url: str, poll_id: int, sent: dict[int, int], expected: int) -> None:
    from salon import create_app
    from salon.ballots import services as ballots
    from salon.ballots.models import Counter, Option, Poll, Receipt, VoterRecord
    from salon.extensions import db

    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context(), app.test_request_context():
        voters = db.session.scalar(select(func.count()).select_from(VoterRecord).where(VoterRecord.poll_id == poll_id))
        receipts = db.session.scalar(select(func.count()).select_from(Receipt).where(Receipt.poll_id == poll_id))
        # Each option's count is the sum of its counter shards (see salon.ballots.models.Counter).
        counters = dict(db.session.execute(select(Counter.option_id, func.sum(Counter.n))
                                           .join(Option, Option.id == Counter.option_id)
                                           .where(Counter.poll_id == poll_id, Option.is_blank.is_(False))
                                           .group_by(Counter.option_id)).all())
        blank = db.session.scalar(select(func.sum(Counter.n)).join(Option, Option.id == Counter.option_id)
                                  .where(Counter.poll_id == poll_id, Option.is_blank.is_(True)))
        poll = db.session.get(Poll, poll_id)
        ballots.close_poll(poll, None)
        db.session.commit()
        published = ballots.receipts(poll)
    ok = voters == receipts == expected == len(published) and counters == sent
    print(f"check: turnout {voters}, voter records {voters}, receipts {receipts}, published {len(published)}, "
          f"counters match what was sent: {counters == sent}, blank ballots {blank} -> {'OK' if ok else 'MISMATCH'}")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
