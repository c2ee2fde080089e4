"""Benchmark: sealed ballots on PostgreSQL through the ballot engine (issue 17) — a script, not a test.

bench/sealed.py times the cryptography alone; this one times `salon.ballots.services` end to end on a scratch
PostgreSQL database (created, migrated and dropped here, as bench/ballots.py does):

(1) the server's CPU per sealed ballot, store included: `cast(poll, seat, None, programme, sealed=ballot)` and its
    commit, `time.process_time` of this (Python) process per ballot, for a topic poll of 30 nominations (K = 3,
    BALLOTS ballots) and a review of 10 single-choice topics + the overall question (REVIEW ballots); the ballots
    are sealed beforehand (sealing is the voter's cost). The database backends' CPU (from /proc, whole loop ÷
    ballots) is printed beside it. Target ≤ 15 ms per 30-option ballot (the Python process's share).
(2) the close of a sealed 30-nomination poll of BALLOTS real ballots: `close_poll` + flush, then the commit, wall
    and CPU (this process, and the database's backends), first with an empty history, then after filling the
    ballot tables with synthetic history of other programmes (bulk INSERT … SELECT generate_series: realistic
    row sizes, not valid crypto — a few real sealed ballots' JSON reused under distinct synthetic fingerprints
    and alphas), at two sizes. Target ≤ 1 s for the sealed close, whatever the history. (The plain close this
    replaced, with its after-commit VACUUM FULL of the ballot tables, took 5.0 s at the full size: bench/README.md.)

History shape: PROGRAMMES programmes × YEARS years × PER_YEAR closed sealed topic polls of 30 nominations, each
with its eligible seats and voter rows (VOTERS per poll), its 30 zero counters, its key row (record and tally
JSON copied from the bench's own poll) and SEALED ballots (each 30 alphas). The second size multiplies the polls
by --scale-polls.

    .venv/bin/python bench/sealed_close.py [--ballots 600] [--review 300] [--programmes 100] [--years 10]
        [--per-year 12] [--voters 200] [--sealed 10] [--small 0.1]
Environment: SALON_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres)."""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from datetime import timedelta

from sqlalchemy import bindparam, insert, select, text

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import backend_cpu, create_database, drop_database, load  # noqa: E402

TARGET_CAST_MS, TARGET_CLOSE_MS = 15, 1000
TABLES = ("ballot_polls", "ballot_questions", "ballot_options", "ballot_counters", "ballot_eligible_seats",
          "ballot_voters", "ballot_receipts", "ballot_poll_keys", "ballot_sealed", "ballot_sealed_alphas")


def summary(values: list[float], unit: str = "ms", digits: int = 1) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return (f"median {statistics.median(ordered):.{digits}f} {unit}, p95 {p95:.{digits}f}, "
            f"max {ordered[-1]:.{digits}f} (n = {len(ordered)})")


def db_cpu_ms(before: dict[int, float], after: dict[int, float]) -> float:
    return 1000 * sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


class Bench:
    def __init__(self, url: str, seats: int):
        from salon import create_app
        from salon.ballots import services as ballots
        from salon.sealed import board, threshold
        from salon.sealed.group import RandomNonces

        self.url = url
        self.app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                               "SALON_PASSWORD_METHOD": "pbkdf2:sha256:1000", "SALON_RATELIMIT_ENABLED": False})
        self.rng = RandomNonces()
        dealings = [threshold.deal("bench", i, 2, self.rng) for i in range(1, 4)]
        self.record = board.key_record("bench", 2, [d.public() for d in dealings])
        self.sealed_polls = True
        ballots.register_key_provider(self.app, self.provide)
        self.seats_wanted = seats

    def provide(self, programme_id, kind, now):
        from salon.ballots import services as ballots

        if not self.sealed_polls:
            return None
        return ballots.PollKey(f"p{programme_id}-k1", 2, self.record, ((1, self.bureau_id), (2, self.bureau_id),
                                                                      (3, self.bureau_id)))

    def setup(self) -> None:
        from flask_migrate import upgrade

        from salon.extensions import db
        from salon.programmes import services as programmes
        from salon.programmes.models import Community, Seat

        upgrade()
        programme, bureau = programmes.create_programme("压测沙龙", "压测民政局", "bench_bureau", "压测", "bench-pw")
        self.pid, self.bureau_id = programme.id, bureau.id
        db.session.execute(insert(Community), [{"programme_id": self.pid, "name": f"社区{i:05d}", "active": True,
                                                "rotation_position": i + 1} for i in range(self.seats_wanted)])
        community_ids = db.session.scalars(select(Community.id).where(Community.programme_id == self.pid)).all()
        db.session.execute(insert(Seat), [{"programme_id": self.pid, "community_id": c} for c in community_ids])
        self.seat_ids = sorted(db.session.scalars(select(Seat.id).where(Seat.programme_id == self.pid)).all())
        db.session.commit()

    def open(self, shape: str, sealed: bool):
        from salon import clock
        from salon.accounts.models import User
        from salon.ballots import services as ballots
        from salon.extensions import db
        from salon.rules import ballots as rules

        self.sealed_polls = sealed
        now = clock.utcnow()
        kind = "topic" if shape == "topic" else "review"
        poll = ballots.create_poll(self.pid, kind, f"bench {shape}", closes_at=now + timedelta(days=1), opens_at=now)
        if shape == "topic":
            question = ballots.add_question(poll, "Q", rules.APPROVAL, 3)
            for i in range(30):
                ballots.add_option(question, f"议题{i}", ref_id=i)
        else:
            for t in range(10):
                question = ballots.add_question(poll, f"topic {t}", rules.SINGLE, ref_id=t)
                for code in ("effective", "partly", "not_effective", "no_view"):
                    ballots.add_option(question, code=code)
            overall = ballots.add_question(poll, kind=rules.SINGLE, code="overall")
            for code in ("support", "oppose", "abstain"):
                ballots.add_option(overall, code=code)
        ballots.open_poll(poll, self.seat_ids, db.session.get(User, self.bureau_id))
        db.session.commit()
        assert poll.sealed == sealed
        return poll

    def seal_ballots(self, poll, count: int) -> list[dict]:
        from salon.ballots import services as ballots
        from salon.sealed import ballot as B
        from salon.sealed.group import Point

        spec = ballots.seal_spec(poll)
        questions = [B.Question.from_json(q) for q in spec["questions"]]
        key = Point.from_hex(spec["public_key"])
        protocol = 2 if spec.get("protocol") == "salon-sealed-2" else 1
        out = []
        for i in range(count):
            if len(questions) == 1:  # approval of 30, 0 … 3 approvals (protocol 2: then its blank position)
                row = [0] * 30
                for option in (i % 30, (i * 7 + 3) % 30, (i * 13 + 5) % 30)[: i % 4]:
                    row[option] = 1
                rows = [row + [0 if any(row) else 1]] if questions[0].blank else [row]
            else:  # one position per single-choice question (its last one the blank answer)
                rows = [[1 if o == (i + n) % q.options else 0 for o in range(q.options)]
                        for n, q in enumerate(questions)]
            out.append(B.seal(spec["poll"], key, questions, rows, self.rng, protocol))
        return out

    def cast_all(self, poll, ballots_or_choices, sealed: bool) -> tuple[list[float], list[float], float]:
        """Per ballot: this process's CPU (ms) and wall (ms) for cast + commit; the backends' CPU per ballot."""
        from salon.ballots import services as ballots
        from salon.extensions import db

        cpu, wall = [], []
        db.session.commit()
        poll_id = poll.id  # as a request has it (from the URL); poll.id after a commit would reload the row
        before = backend_cpu(self.url)
        for seat, item in zip(self.seat_ids, ballots_or_choices):
            c0, w0 = time.process_time(), time.perf_counter()
            if sealed:
                ballots.cast(poll_id, seat, None, self.pid, sealed=item)
            else:
                ballots.cast(poll_id, seat, item, self.pid)
            db.session.commit()
            cpu.append(1000 * (time.process_time() - c0))
            wall.append(1000 * (time.perf_counter() - w0))
        backend = db_cpu_ms(before, backend_cpu(self.url)) / len(cpu)
        return cpu, wall, backend

    def close(self, poll) -> dict:
        """close_poll + flush, then the commit."""
        from salon.accounts.models import User
        from salon.ballots import services as ballots
        from salon.extensions import db

        bureau = db.session.get(User, self.bureau_id)
        db.session.commit()
        before = backend_cpu(self.url)
        c0, w0 = time.process_time(), time.perf_counter()
        ballots.close_poll(poll, bureau)
        db.session.flush()
        c1, w1 = time.process_time(), time.perf_counter()
        db.session.commit()
        c2, w2 = time.process_time(), time.perf_counter()
        backend = db_cpu_ms(before, backend_cpu(self.url))
        return {"close_wall": 1000 * (w1 - w0), "close_cpu": 1000 * (c1 - c0), "commit_wall": 1000 * (w2 - w1),
                "commit_cpu": 1000 * (c2 - c1), "db_cpu": backend}


def fill_history(db, sample_ballots: list[str], key_row: dict, programmes: int, polls_per_programme: int,
                 voters: int, sealed: int, tag: str) -> float:
    """Closed sealed polls of other programmes (each its own seats), by INSERT … SELECT; returns seconds."""
    from salon.programmes import services as programme_services
    from salon.programmes.models import Community, Seat

    t0 = time.perf_counter()
    existing = db.session.execute(text("SELECT id FROM programmes WHERE name LIKE 'history %' ORDER BY id")).scalars().all()
    for i in range(len(existing), programmes):
        programme, _b = programme_services.create_programme(f"history {i}", f"局{i}", f"h_bureau_{i}", "h", "bench-pw")
        db.session.execute(insert(Community), [{"programme_id": programme.id, "name": f"h{i}社区{s}", "active": True,
                                                "rotation_position": s + 1} for s in range(voters)])
        ids = db.session.scalars(select(Community.id).where(Community.programme_id == programme.id)).all()
        db.session.execute(insert(Seat), [{"programme_id": programme.id, "community_id": c} for c in ids])
    db.session.commit()
    conn = db.session.connection()
    params = {"n": polls_per_programme, "tag": tag, "record": json.dumps(key_row["record"]),
              "trustees": json.dumps(key_row["trustees"]), "tally": json.dumps(key_row["tally"]),
              "ballots": sample_ballots, "voters": voters, "sealed": sealed}
    conn.execute(text(
        "INSERT INTO ballot_polls (programme_id, kind, title, state, opens_at, closes_at, opened_at, closed_at,"
        " min_published, eligible_count, sealed, seal, created_at)"
        " SELECT p.id, 'topic', :tag || ' ' || g, 'CLOSED', now(), now(), now(), now(), 3, :voters, true,"
        " md5(p.id || ':' || g), now()"
        " FROM programmes p, generate_series(1, :n) g WHERE p.name LIKE 'history %' ORDER BY p.id, g"), params)
    new = "SELECT id, programme_id FROM ballot_polls WHERE title LIKE :tag || ' %'"
    conn.execute(text(
        "INSERT INTO ballot_questions (programme_id, poll_id, position, text, kind, max_choices)"
        f" SELECT programme_id, id, 0, 'Q', 'approval', 3 FROM ({new}) p ORDER BY id"), params)
    conn.execute(text(
        "INSERT INTO ballot_options (programme_id, poll_id, question_id, position, label, is_blank)"
        " SELECT q.programme_id, q.poll_id, q.id, o, '提名议题 ' || o, false"
        f" FROM ballot_questions q JOIN ({new}) p ON p.id = q.poll_id, generate_series(0, 29) o ORDER BY q.id, o"),
        params)
    conn.execute(text(
        "INSERT INTO ballot_counters (option_id, shard, programme_id, poll_id, n)"
        f" SELECT o.id, 0, o.programme_id, o.poll_id, 0 FROM ballot_options o JOIN ({new}) p ON p.id = o.poll_id"
        " ORDER BY o.id"), params)
    conn.execute(text(
        "INSERT INTO ballot_poll_keys (poll_id, programme_id, term, threshold, record, trustees, tally, counted_at)"
        " SELECT id, programme_id, 'p' || programme_id || '-k1', 2, CAST(:record AS json), CAST(:trustees AS json),"
        f" CAST(:tally AS json), now() FROM ({new}) p ORDER BY id"), params)
    for table in ("ballot_eligible_seats", "ballot_voters"):
        conn.execute(text(
            f"INSERT INTO {table} (poll_id, seat_id, programme_id)"
            f" SELECT p.id, s.id, p.programme_id FROM ({new}) p JOIN seats s ON s.programme_id = p.programme_id"
            " ORDER BY p.id, s.id"), params)
    # Real ballots' JSON (valid for the bench's own poll only), under synthetic 64-hex fingerprints and alphas.
    conn.execute(text(
        "INSERT INTO ballot_sealed (poll_id, fingerprint, ballot, sealed_by)"
        " SELECT p.id, md5(p.id || ':' || b) || md5(b || ':' || p.id),"
        " (CAST(:ballots AS text[]))[1 + (p.id + b) % cardinality(CAST(:ballots AS text[]))], 'voter'"
        f" FROM ({new}) p, generate_series(1, :sealed) b ORDER BY 1, 2"), params)
    conn.execute(text(
        "INSERT INTO ballot_sealed_alphas (poll_id, alpha)"
        " SELECT p.id, '02' || md5(p.id || ':' || b || ':' || a) || md5(a || ':' || b || ':' || p.id)"
        f" FROM ({new}) p, generate_series(1, :sealed) b, generate_series(1, 30) a ORDER BY 1, 2"), params)
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM ANALYZE")
    return time.perf_counter() - t0


def sizes(db) -> str:
    rows = db.session.execute(text(
        "SELECT relname, pg_total_relation_size(oid) FROM pg_class"
        " WHERE relname IN :names AND relkind = 'r' ORDER BY pg_total_relation_size(oid) DESC")
        .bindparams(bindparam("names", expanding=True)), {"names": list(TABLES)}).all()
    counts = {t: db.session.scalar(text(f"SELECT count(*) FROM {t}")) for t in TABLES}
    total = sum(size for _n, size in rows)
    return (", ".join(f"{name} {counts[name]:,} rows {size / 2**20:,.0f} MB" for name, size in rows)
            + f"; total {total / 2**20:,.0f} MB (pg_total_relation_size)")


def describe_close(what: str, m: dict) -> str:
    return (f"    {what}: close_poll + flush {m['close_wall']:.0f} ms wall / {m['close_cpu']:.0f} ms CPU (Python); "
            f"commit {m['commit_wall']:.0f} ms wall / {m['commit_cpu']:.0f} ms CPU; the database's backends "
            f"{m['db_cpu']:.0f} ms CPU; total wall {m['close_wall'] + m['commit_wall']:.0f} ms [load {load()}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=600)
    parser.add_argument("--review", type=int, default=300)
    parser.add_argument("--programmes", type=int, default=100)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--per-year", type=int, default=12, help="sealed polls per programme per year")
    parser.add_argument("--voters", type=int, default=200, help="seats (eligible, voted) per history poll")
    parser.add_argument("--sealed", type=int, default=10, help="sealed ballots stored per history poll")
    parser.add_argument("--small", type=float, default=0.1, help="the first history size, as a share of the full")
    parser.add_argument("--cast-only", action="store_true", help="only (1), the CPU per cast ballot")
    args = parser.parse_args()
    from salon.extensions import db
    from salon.sealed.group import RandomNonces  # noqa: F401

    print(f"bench/sealed_close.py at {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {load()}, "
          f"{os.cpu_count()} CPUs")
    url = create_database()
    try:
        bench = Bench(url, max(args.ballots, args.review))
        with bench.app.app_context(), bench.app.test_request_context():
            bench.setup()
            # (1) CPU per sealed ballot, store included; the topic poll's ballots also make the close of (2)
            topic = bench.open("topic", sealed=True)
            t0 = time.process_time()
            topic_ballots = bench.seal_ballots(topic, args.ballots)
            seal_ms = 1000 * (time.process_time() - t0) / args.ballots
            review = bench.open("review", sealed=True)
            review_ballots = bench.seal_ballots(review, args.review)
            results = {}
            for name, poll, sealed in (("topic poll, 30 nominations (K = 3)", topic, topic_ballots),
                                       ("review, 10 single-choice topics + overall (54 positions)", review,
                                        review_ballots)):
                cpu, wall, backend = bench.cast_all(poll, sealed, True)
                results[name] = statistics.median(cpu)
                print(f"(1) {name}: cast(..., sealed=ballot) + commit per ballot, this process's CPU "
                      f"{summary(cpu)}; wall {summary(wall)}; the database's backends {backend:.2f} ms CPU per "
                      f"ballot [load {load()}]")
            print(f"    (sealing beforehand, not counted: {seal_ms:.0f} ms CPU per 30-option ballot in Python)")
            if args.cast_only:
                topic_cpu = results["topic poll, 30 nominations (K = 3)"]
                print(f"  server CPU per 30-option sealed ballot, store included ≤ {TARGET_CAST_MS} ms: "
                      f"{'met' if topic_cpu <= TARGET_CAST_MS else 'NOT met'} (median {topic_cpu:.2f} ms)")
                return
            sample = [json.dumps(b, separators=(",", ":")) for b in topic_ballots[:8]]
            from salon.ballots.models import SealedKey

            # (2) the close, empty history
            closes = []
            closes.append(("no history", bench.close(topic), sizes(db)))
            key = db.session.get(SealedKey, topic.id)
            key_row = {"record": key.record, "trustees": key.trustees, "tally": key.tally}
            total_polls = args.years * args.per_year
            for share in (args.small, 1.0):
                per_programme = max(1, round(total_polls * share))
                built = fill_history(db, sample, key_row, args.programmes,
                                     per_programme - (0 if share == args.small else round(total_polls * args.small)),
                                     args.voters, args.sealed, f"history{share}")
                label = (f"history {args.programmes} programmes × {per_programme} polls "
                         f"({per_programme / args.per_year:g} years × {args.per_year})")
                print(f"    built {label} in {built:.0f} s [load {load()}]")
                poll = bench.open("topic", sealed=True)
                bench.cast_all(poll, bench.seal_ballots(poll, args.ballots), True)
                closes.append((label, bench.close(poll), sizes(db)))
            print(f"(2) the close of a poll of {args.ballots} ballots (30 nominations), by history:")
            for label, sealed_close, table_sizes in closes:
                print(f"  {label}: {table_sizes}")
                print(describe_close("sealed", sealed_close))
            print("targets (issue 17):")
            topic_cpu = results["topic poll, 30 nominations (K = 3)"]
            print(f"  server CPU per 30-option sealed ballot, store included ≤ {TARGET_CAST_MS} ms: "
                  f"{'met' if topic_cpu <= TARGET_CAST_MS else 'NOT met'} (median {topic_cpu:.2f} ms)")
            worst = max(c[1]["close_wall"] + c[1]["commit_wall"] for c in closes)
            print(f"  the sealed close of {args.ballots} ballots ≤ {TARGET_CLOSE_MS} ms wall at every history size: "
                  f"{'met' if worst <= TARGET_CLOSE_MS else 'NOT met'} (worst {worst:.0f} ms)")
    finally:
        drop_database(url)


if __name__ == "__main__":
    main()
