"""Benchmark: how long closing a poll takes on PostgreSQL when the ballot tables are large (a script, not a test).

Creates a database, migrates it, and seeds one programme with SEATS seats and HISTORY closed polls in which
every seat voted (SEATS × HISTORY voter rows and as many receipts, as a province after years), then a live
poll in which every seat votes (one transaction per ballot). Another programme keeps voting meanwhile: one
thread casts a ballot in its open poll over and over (rolled back, so the seat can vote again), noting each
ballot's latency. Then it closes the live poll and prints
  1. the closing transaction (rewrite of the poll's rows in key order, shard fold, audit) up to its commit;
  2. the after-commit step (wait for older snapshots, VACUUM FULL of the three ballot tables), and each
     table's VACUUM FULL alone, i.e. how long that table's ACCESS EXCLUSIVE lock is held;
  3. the other programme's ballot latency before and during the close (max, p99);
and drops the database.

    .venv/bin/python bench/scrub.py [--seats 200] [--history 1500] [--options 5]
Environment: SALON_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres)."""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import threading
import time
from datetime import timedelta

from sqlalchemy import insert, select, text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.ballots import create_database, drop_database  # noqa: E402
from bench.harness import open_as_before_0013  # noqa: E402 - the scrub is the plain path's


def sizes(db) -> str:
    rows = db.session.execute(text(
        "SELECT relname, reltuples::bigint, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
        "WHERE relname IN ('ballot_voters', 'ballot_receipts', 'ballot_counters') ORDER BY relname")).all()
    return ", ".join(f"{name} {n:,} rows ({size} with indexes)" for name, n, size in rows)


def seed_history(db, programme_id: int, seat_ids: list[int], history: int, options: int) -> None:
    """Closed polls as the close leaves them: every seat's voter row, a receipt each, one counter per option."""
    params = {"p": programme_id, "h": history}
    db.session.execute(text(
        "INSERT INTO ballot_polls (programme_id, kind, title, state, opens_at, closes_at, opened_at, closed_at,"
        " min_published, eligible_count, counter_shards, created_at)"
        " SELECT :p, 'topic', 'history ' || g, 'CLOSED', now(), now(), now(), now(), 3, :seats, 16, now()"
        " FROM generate_series(1, :h) g"), params | {"seats": len(seat_ids)})
    db.session.execute(text(
        "INSERT INTO ballot_questions (programme_id, poll_id, position, text, kind, max_choices)"
        " SELECT :p, id, 0, 'Q', 'approval', 3 FROM ballot_polls WHERE title LIKE 'history %'"), params)
    db.session.execute(text(
        "INSERT INTO ballot_options (programme_id, poll_id, question_id, position, label, is_blank)"
        " SELECT :p, q.poll_id, q.id, o, CASE WHEN o < 0 THEN '' ELSE 'option ' || o END, o < 0"
        " FROM ballot_questions q JOIN ballot_polls p ON p.id = q.poll_id AND p.title LIKE 'history %',"
        " generate_series(-1, :o - 1) o"), params | {"o": options})
    db.session.execute(text(
        "INSERT INTO ballot_counters (option_id, shard, programme_id, poll_id, n)"
        " SELECT o.id, 0, :p, o.poll_id, (random() * :seats)::int FROM ballot_options o"
        " JOIN ballot_polls p ON p.id = o.poll_id AND p.title LIKE 'history %' ORDER BY o.id"),
        params | {"seats": len(seat_ids)})
    for table in ("ballot_eligible_seats", "ballot_voters"):
        db.session.execute(text(
            f"INSERT INTO {table} (poll_id, seat_id, programme_id)"
            " SELECT p.id, s, :p FROM ballot_polls p, unnest(CAST(:seats AS integer[])) s"
            " WHERE p.title LIKE 'history %' ORDER BY p.id, s"), params | {"seats": seat_ids})
    db.session.execute(text(
        "INSERT INTO ballot_receipts (poll_id, code, programme_id)"
        " SELECT p.id, upper(substr(md5(random()::text), 1, 4) || '-' || substr(md5(random()::text), 1, 4)"
        " || '-' || substr(md5(random()::text), 1, 4)), :p"
        " FROM ballot_polls p, generate_series(1, :seats) s WHERE p.title LIKE 'history %' ORDER BY 1, 2"),
        params | {"seats": len(seat_ids)})
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", type=int, default=200)
    parser.add_argument("--history", type=int, default=1500)
    parser.add_argument("--options", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("salon.ballots.services").setLevel(logging.INFO)

    from flask_migrate import upgrade

    from salon import clock, create_app
    from salon.ballots import services as ballots
    from salon.extensions import db
    from salon.programmes import services as programmes
    from salon.programmes.models import Community, Seat
    from salon.rules import ballots as rules

    url = create_database()
    try:
        app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                          "SALON_PASSWORD_METHOD": "pbkdf2:sha256:1000"})
        with app.app_context(), app.test_request_context():
            upgrade()
            t0 = time.perf_counter()
            programme, bureau = programmes.create_programme("省级沙龙", "民政厅", "bench_bureau", "压测", "bench-pw")
            pid = programme.id
            db.session.execute(insert(Community), [{"programme_id": pid, "name": f"社区{i:05d}", "active": True,
                                                    "rotation_position": i + 1} for i in range(args.seats)])
            community_ids = db.session.scalars(select(Community.id).where(Community.programme_id == pid)).all()
            db.session.execute(insert(Seat), [{"programme_id": pid, "community_id": c} for c in community_ids])
            seat_ids = sorted(db.session.scalars(select(Seat.id).where(Seat.programme_id == pid)).all())
            db.session.commit()
            seed_history(db, pid, seat_ids, args.history, args.options)
            db.session.execute(text("COMMIT"))
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
            print(f"seeded in {time.perf_counter() - t0:.1f}s: {sizes(db)}")

            now = clock.utcnow()
            poll = ballots.create_poll(pid, "topic", "本次投票", closes_at=now + timedelta(days=1), opens_at=now)
            question = ballots.add_question(poll, "Q", rules.APPROVAL, 3)
            options = [ballots.add_option(question, f"议题{i}").id for i in range(args.options)]
            open_as_before_0013(poll, seat_ids, bureau)
            other, other_bureau = programmes.create_programme("另一县", "另一局", "other_bureau", "另", "bench-pw")
            community = programmes.add_community(other, other_bureau, "城东社区")
            other_seat = db.session.scalar(select(Seat.id).where(Seat.community_id == community.id))
            other_poll = ballots.create_poll(other.id, "topic", "另一投票", closes_at=now + timedelta(days=1),
                                             opens_at=now)
            other_question = ballots.add_question(other_poll, "Q", rules.APPROVAL, 1)
            other_option = ballots.add_option(other_question, "甲").id
            open_as_before_0013(other_poll, [other_seat], other_bureau)
            db.session.commit()
            for i, seat in enumerate(seat_ids):
                chosen = sorted({options[i % len(options)], options[(i * 3 + 1) % len(options)]})
                ballots.cast(poll.id, seat, chosen if i % 3 else chosen[:1], pid)
                db.session.commit()
            other_id, other_pid = other_poll.id, other.id
            poll_id, bureau_id = poll.id, bureau.id

        latencies: list[tuple[float, float]] = []
        stop = threading.Event()

        def other_programme_votes():
            with app.app_context(), app.test_request_context():
                while not stop.is_set():
                    start = time.perf_counter()
                    ballots.cast(other_id, other_seat, [other_option], other_pid)
                    db.session.rollback()  # the seat may vote again: a ballot's locks and writes each time
                    latencies.append((start, time.perf_counter() - start))
                    time.sleep(0.002)

        voter = threading.Thread(target=other_programme_votes)
        voter.start()
        time.sleep(2.0)
        with app.app_context(), app.test_request_context():
            from salon.accounts.models import User
            from salon.ballots.models import Poll

            closing = db.session.get(Poll, poll_id)
            bureau = db.session.get(User, bureau_id)
            t_close = time.perf_counter()
            ballots.close_poll(closing, bureau)
            db.session.flush()
            t_flushed = time.perf_counter()
            db.session.commit()  # the after-commit step (scrub_pending) runs inside this call
            t_done = time.perf_counter()
            pending = ballots.scrub_pending(db.engine, wait=0)
        time.sleep(1.0)
        stop.set()
        voter.join()

        print(f"close: closing transaction {1000 * (t_flushed - t_close):.0f} ms (rewrite of {args.seats} voter rows,"
              f" receipts and folded counters); commit + after-commit rewrite of the ballot tables"
              f" {1000 * (t_done - t_flushed):.0f} ms; nothing left pending: {pending}")
        before = [d for s, d in latencies if s < t_close]
        during = [d for s, d in latencies if t_close <= s <= t_done or s + d >= t_close and s <= t_done]
        for name, values in (("before the close", before), ("during the close", during)):
            if values:
                values = sorted(values)
                print(f"other programme's ballots {name}: {len(values)}, median {1000 * statistics.median(values):.1f} ms,"
                      f" p99 {1000 * values[int(0.99 * (len(values) - 1))]:.1f} ms, max {1000 * values[-1]:.1f} ms")

        with app.app_context():
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for table in ballots.SCRUBBED_TABLES:
                    runs = []
                    for _ in range(3):
                        start = time.perf_counter()
                        conn.exec_driver_sql(f"VACUUM (FULL) {table}")
                        runs.append(time.perf_counter() - start)
                    print(f"VACUUM FULL {table}: {', '.join(f'{1000 * r:.0f}' for r in runs)} ms (lock held that long)")
            print(sizes(db))
    finally:
        drop_database(url)


if __name__ == "__main__":
    main()
