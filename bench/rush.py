"""Benchmark: a province's deadline rush on one machine (issue 18; a script, not a test).

PROGRAMMES programmes × SECRETARIES secretaries and their bureaus, on two waitress servers (`--threads=8`, as
`make run` serves) behind haproxy, on a fresh PostgreSQL database this script creates and drops. Each programme
has a drawn term of trustees, made ready on the server from known nonces as the demo's are (bench/harness.py
`ready_drawn_term`), and an open topic vote (three nominations), which therefore opens sealed, as every poll does
(SPEC §5.1). Within DURATION seconds every secretary logs in, opens the home page and the vote page, picks, casts
and checks the receipt on the results page; meanwhile each bureau keeps refreshing its home page and the session
page. Three secretaries in four vote as the page's script does: the ballot is sealed from the seal spec the vote
page carries (with salon/sealed/client.py, in the load process) and only the sealed ballot is posted; the fourth
votes as without JavaScript: the confirmation page, then the plain choices, which the server seals. The load is
made by locust, used as a library and headless, in a child process of this script (locust patches the standard
library for gevent on import; the seeding and the checks here use psycopg without it).

Prints, per page and for the ballot (the POST that casts it, sealed by the client or plain): requests, errors,
p50 and p99; the errors; the CPU milliseconds per request of the two server processes and of PostgreSQL's
backends (from /proc, divided by every request served); and, after closing every poll and having three of its
four trustees decrypt it (through the trustees room's services, as their devices' requests would), that in every
poll the bulletin board verifies, turnout = voter records = ballots on the board, every receipt (fingerprint) a
secretary was shown is on it, and the turnout and each option's decrypted count lie between what was answered
with a receipt and what was sent.

    .venv/bin/python bench/rush.py [--programmes 100] [--secretaries 20] [--duration 300]
    .venv/bin/python bench/rush.py --quick       10 programmes × 20 secretaries in 60 s

Needs haproxy (Debian's package) and locust (`pip install -e '.[bench]'`). Logins use a cheap password hash
(pbkdf2, 1,000 rounds) so that the rush measures the pages, not scrypt. Environment: SALON_TEST_POSTGRES_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/postgres)."""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "rush-password-1"
# Two servers behind haproxy. Unlike bench/cluster.py's (which must notice a killed server at once), a busy
# server is never marked down: under a rush that turned every slow answer into a 503 for everyone.
HAPROXY = """
global
    maxconn 4096
defaults
    mode http
    option http-keep-alive
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout queue 120s
frontend salon
    bind 127.0.0.1:{port}
    default_backend app
backend app
    balance leastconn
    server a 127.0.0.1:{a} maxconn 64
    server b 127.0.0.1:{b} maxconn 64
"""
TARGET_PAGE_P99_MS, TARGET_BALLOT_P99_MS = 300, 200


# --- the load: a child process running locust ----------------------------------------------------------------

def run_load(plan_file: str, out_file: str, host: str, duration: float) -> None:
    """In the child process: every secretary's journey once, the bureaus refreshing until the end."""
    import re

    import gevent
    from locust import HttpUser, between, task
    from locust.env import Environment
    from locust.exception import StopUser

    with open(plan_file) as fh:
        plan = json.load(fh)
    secretaries = list(plan["secretaries"])  # [username, session id]
    bureaus = list(plan["bureaus"])
    cast: list[dict] = []  # what the secretaries were shown: session, receipt, choices
    csrf = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
    option = re.compile(r'name="choices" value="(\d+)"')
    seal_spec = re.compile(r"data-seal-spec='([^']*)'")
    # salon/sealed/client.py without the rest of Salon (no Flask, no database in the load process), loaded as
    # tools/seal_ballot.py loads it: what the page's script does, in Python.
    sys.path.insert(0, os.path.join(os.path.dirname(BENCH), "tools"))
    from verify_board import load_sealed

    sealing = load_sealed("client")

    def token_of(page) -> str:
        """The form's CSRF token; a page without one (an error answered) ends the secretary's journey."""
        found = csrf.search(page.text or "") if page.status_code == 200 else None
        if not found:
            raise StopUser()
        return found.group(1) or found.group(2)

    def log_in(client, username: str) -> bool:
        page = client.get("/login", name="log-in page")
        with client.post("/login", data={"username": username, "password": PASSWORD,
                                         "csrf_token": token_of(page)},
                         allow_redirects=False, name="log in", catch_response=True) as answer:
            if answer.status_code != 302:
                answer.failure(f"log-in answered {answer.status_code}")
                return False
            answer.success()
        return True

    class Secretary(HttpUser):
        wait_time = between(0.5, 2)  # reading a page before the next click

        @task
        def vote(self):
            if not secretaries:
                raise StopUser()
            username, session_id = secretaries.pop()
            if not log_in(self.client, username):
                raise StopUser()
            self.client.get("/", name="home (secretary)")
            self.wait()
            page = self.client.get(f"/topics/sessions/{session_id}/vote", name="vote page")
            options = option.findall(page.text or "")
            choices = sorted(self.rng.sample(options, self.rng.randint(0, min(3, len(options)))))
            spec = seal_spec.search(page.text or "")
            if spec is None:
                raise StopUser()  # not a sealed poll's open vote page: an error page, counted as such
            self.wait()
            # Recorded before it is sent: a ballot in flight when the run ends may have been counted.
            sent = {"session": session_id, "receipt": None, "choices": [int(c) for c in choices],
                    "fingerprint": None}
            if self.rng.random() < 0.75:  # the page's script: sealed in the browser, confirmed in the page
                spec = sealing.spec_from_json(json.loads(spec.group(1)))
                sealed = sealing.seal_ballot(spec, spec.answers_for_options(sent["choices"]))
                sent["fingerprint"] = sealing.fingerprint(sealed)
                name = "ballot (sealed by the client)"
                form = {"csrf_token": token_of(page), "confirmed": "1",
                        "sealed": json.dumps(sealed, sort_keys=True, separators=(",", ":"))}
            else:  # no script: the confirmation page, then the choices, sealed by the server
                confirm = self.client.post(f"/topics/sessions/{session_id}/vote", name="confirm page",
                                           data={"csrf_token": token_of(page), "choices": choices})
                self.wait()
                name = "ballot (plain, sealed by the server)"
                form = {"csrf_token": token_of(confirm), "choices": choices, "confirmed": "1"}
            cast.append(sent)
            with self.client.post(f"/topics/sessions/{session_id}/vote", name=name, catch_response=True,
                                  data=form) as answer:
                found = re.search(r'<code id="receipt">([^<]+)</code>', answer.text or "")
                if answer.status_code != 200 or not found:
                    answer.failure(f"no receipt ({answer.status_code})")
                    # Refused by the application: not counted. Otherwise (no answer, or the balancer's 502–504)
                    # it may have been counted and its answer lost.
                    if answer.status_code not in (0, 502, 503, 504):
                        cast.remove(sent)
                    raise StopUser()
                answer.success()
            receipt = found.group(1).strip()
            sent["receipt"] = receipt
            self.wait()
            self.client.get(f"/topics/sessions/{session_id}/results?receipt={receipt}", name="receipt check")
            raise StopUser()

        def on_start(self):
            import random

            self.rng = random.Random(len(secretaries))

    class Bureau(HttpUser):
        fixed_count = len(bureaus)
        wait_time = between(5, 15)  # a bureau refreshes now and then to watch the turnout

        def on_start(self):
            username, self.session_id = bureaus.pop()
            if not log_in(self.client, username):
                raise StopUser()

        @task
        def refresh(self):
            self.client.get("/", name="home (bureau)")
            self.client.get(f"/sessions/{self.session_id}", name="session page (bureau)")

    env = Environment(user_classes=[Bureau, Secretary], host=host)
    runner = env.create_local_runner()
    users = len(bureaus) + len(secretaries)
    # Arrivals spread over the first 80% of the window, so that the last journeys end within it.
    runner.start(users, spawn_rate=max(1.0, users / (duration * 0.8)))
    started = time.monotonic()
    while time.monotonic() - started < duration:
        gevent.sleep(1)
        if not secretaries and runner.user_count <= len(plan["bureaus"]) and time.monotonic() - started > 10:
            break  # every secretary has voted: the rush is over
    elapsed = time.monotonic() - started
    runner.quit()
    stats = {}
    for entry in env.stats.entries.values():
        stats[entry.name] = {"n": entry.num_requests, "errors": entry.num_failures,
                             "p50": entry.get_response_time_percentile(0.5),
                             "p99": entry.get_response_time_percentile(0.99), "max": entry.max_response_time}
    errors = [f"{e.method} {e.name}: {e.error} ×{e.occurrences}" for e in env.stats.errors.values()]
    with open(out_file, "w") as fh:
        json.dump({"stats": stats, "errors": errors, "cast": cast, "elapsed": elapsed,
                   "left": len(secretaries)}, fh)


# --- the province: seeding, servers, checks --------------------------------------------------------------------

def seed(url: str, programmes_n: int, secretaries_n: int) -> tuple[dict, dict]:
    """Programmes with their communities, secretaries, sessions, a ready drawn term of trustees and an open (sealed)
    topic vote each. Answers the plan (for the load) and, per poll id, the trustees' term id and (index, user id,
    secret) for each trustee (kept by this script, for the checks)."""
    from datetime import timedelta

    from sqlalchemy import select

    import harness  # bench/harness.py
    from salon import clock, create_app
    from salon.extensions import db
    from salon.programmes import services as programmes
    from salon.schedule import services as schedule
    from salon.schedule.models import Session, SessionStatus
    from salon.topics import services as topics
    from salon.topics.models import Nomination

    app = create_app({"SECRET_KEY": "rush", "SQLALCHEMY_DATABASE_URI": url,
                      "SALON_PASSWORD_METHOD": "pbkdf2:sha256:1000"})
    plan = {"secretaries": [], "bureaus": [], "polls": {}}
    keys = {}
    now = clock.utcnow()
    with app.app_context(), app.test_request_context():
        for p in range(programmes_n):
            programme, bureau = programmes.create_programme(f"压测县{p:03d}沙龙", f"压测县{p:03d}民政局",
                                                            f"rush{p:03d}_bureau", "局", PASSWORD)
            communities = []
            for i in range(secretaries_n):
                community = programmes.add_community(programme, bureau, f"第{i + 1:02d}社区")
                programmes.hand_over_seat(community, bureau, f"rush{p:03d}_sec{i:02d}", f"书记{i + 1}", PASSWORD)
                communities.append(community)
            schedule.generate(programme, bureau, 3, now=now)
            term_id, trustees = harness.ready_drawn_term(programme, bureau)  # the key the vote opens with
            # The first session whose vote is still open an hour from now.
            planned = db.session.scalars(select(Session).where(
                Session.programme_id == programme.id, Session.status == SessionStatus.PLANNED,
                Session.number.is_not(None), Session.starts_at > now).order_by(Session.starts_at)).all()
            session = next(s for s in planned
                           if topics.windows(s, programme, None).vote_closes > now + timedelta(hours=1))
            for k in range(3):
                db.session.add(Nomination(programme_id=programme.id, session_id=session.id,
                                          community_id=communities[k].id, title=f"议题{k + 1}",
                                          problem="问题与案例", hoped_result="希望的结果", outside_units="县医保局",
                                          created_at=now, updated_at=now))
            db.session.flush()
            poll = topics.open_voting(session, programme, bureau, now)
            assert poll.sealed, "the vote did not open sealed"
            db.session.commit()
            keys[poll.id] = (term_id, [(index, user, secret) for index, (user, secret) in sorted(trustees.items())])
            plan["bureaus"].append([bureau.username, session.id])
            plan["secretaries"] += [[f"rush{p:03d}_sec{i:02d}", session.id] for i in range(secretaries_n)]
            plan["polls"][str(session.id)] = poll.id
    return plan, keys


def _tally(ballots: list[dict]) -> dict[int, int]:
    sent: dict[int, int] = {}
    for ballot in ballots:
        for choice in ballot["choices"]:
            sent[choice] = sent.get(choice, 0) + 1
    return sent


def check(url: str, plan: dict, keys: dict, cast: list[dict]) -> list[str]:
    """Close every poll; three of its four trustees decrypt it through the trustees room's services (what their
    devices' requests call: the decryption request, their factors computed with their secret, the factors
    posted); then the bulletin board, the turnout and the voter records against what the secretaries were shown
    and sent. A ballot whose answer was lost (the balancer gave up, 502–504, or the run ended while it was in
    flight) may or may not have been counted: the turnout and each decrypted count must lie between what was
    answered and what was sent. Returns the mismatches."""
    from sqlalchemy import func, select

    from salon import create_app
    from salon.accounts.models import User
    from salon.ballots import services as ballots
    from salon.ballots.models import Poll, VoterRecord
    from salon.extensions import db
    from salon.sealed import board as sealed_board
    from salon.sealed import client as sealing
    from salon.sealed.group import SeededNonces
    from salon.trustees import services as trustees
    from salon.trustees.models import TrusteeTerm

    by_session: dict[str, list[dict]] = {}
    for ballot in cast:
        by_session.setdefault(str(ballot["session"]), []).append(ballot)
    problems = []
    app = create_app({"SECRET_KEY": "rush", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context(), app.test_request_context():
        for session_id, poll_id in plan["polls"].items():
            mine = by_session.get(session_id, [])
            poll = db.session.get(Poll, poll_id)
            spec = sealing.spec_from_json(ballots.seal_spec(poll))
            ballots.close_poll(poll, None)
            db.session.commit()
            term_id, held = keys[poll_id]
            term = db.session.get(TrusteeTerm, term_id)
            counted = False
            for index, user_id, secret in held[:term.threshold]:
                user = db.session.get(User, user_id)
                asked = trustees.decryption_request_for(term, user, poll_id)
                factors = sealed_board.request_factors(asked["request"], index, secret,
                                                       SeededNonces(f"rush/{poll_id}/{index}"))
                counted = trustees.decrypt(term, user, poll_id, factors)
                db.session.commit()
            poll = db.session.get(Poll, poll_id)
            board = ballots.board(poll)
            voters = db.session.scalar(select(func.count()).select_from(VoterRecord)
                                       .where(VoterRecord.poll_id == poll_id))
            turnout = ballots.turnout(poll_id)
            answered = [b for b in mine if b["receipt"] is not None]
            lost = [b for b in mine if b["receipt"] is None]  # sent; the answer never came back
            wrong = [b for b in answered if b["fingerprint"] not in (None, b["receipt"])]
            least, most = _tally(answered), _tally(answered + lost)
            shown = {b["receipt"] for b in answered}
            if board is None:
                problems.append(f"poll {poll_id}: not counted after its trustees decrypted ({counted})")
                continue
            on_board = {entry["fingerprint"] for entry in board["ballots"]}
            counts = {oid: n for q, ids in enumerate(spec.option_ids) for oid, n in zip(ids, board["result"][q])
                      if oid is not None}
            invalid = sealed_board.verify_board(board)
            counted_right = all(least.get(o, 0) <= n <= most.get(o, 0) for o, n in counts.items())
            if invalid or wrong or not (turnout == voters == len(on_board)) or not shown <= on_board \
                    or not len(answered) <= turnout <= len(answered) + len(lost) or not counted_right:
                problems.append(f"poll {poll_id}: turnout {turnout}, voter records {voters}, on the board "
                                f"{len(on_board)}, answered with a receipt {len(answered)}, answer lost {len(lost)}, "
                                f"shown ⊆ board {shown <= on_board}, receipts that are not the fingerprint sent "
                                f"{len(wrong)}, decrypted {counts} against sent {least} (+ lost {most}), the board's "
                                f"problems {invalid[:3]}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programmes", type=int, default=100)
    parser.add_argument("--secretaries", type=int, default=20, help="secretaries per programme")
    parser.add_argument("--duration", type=float, default=300, help="seconds within which every secretary votes")
    parser.add_argument("--quick", action="store_true", help="10 programmes in 60 s")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads per server")
    parser.add_argument("--load", nargs=3, metavar=("PLAN", "OUT", "HOST"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        run_load(*args.load, args.duration)
        return 0
    if args.quick:
        args.programmes, args.duration = 10, 60
    sys.path.insert(0, BENCH)
    sys.path.insert(0, os.path.dirname(BENCH))
    import harness as bench  # bench/harness.py: database, seeding, ports, CPU from /proc, load average

    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not os.path.exists(haproxy):
        print("haproxy is not installed (Debian: apt-get install haproxy)")
        return 2
    try:
        import locust  # noqa: F401  (only checked here: it patches the standard library when imported)
    except ImportError:
        print("locust is not installed: .venv/bin/pip install -e '.[bench]'")
        return 2

    tmp = tempfile.mkdtemp(prefix="salon-rush-")
    url = bench.create_database()
    servers: list[subprocess.Popen] = []
    balancer = None
    try:
        env = dict(os.environ, SALON_DATABASE_URL=url, SALON_SECRET_KEY="rush-" + secrets.token_hex(16),
                   SALON_RATELIMIT_ENABLED="0", SALON_INSTANCE_PATH=tmp, PYTHONPATH=bench.ROOT)
        subprocess.run([os.path.join(bench.ROOT, ".venv/bin/salon"), "migrate"], env=env, check=True,
                       capture_output=True)
        started = time.perf_counter()
        plan, keys = seed(url, args.programmes, args.secretaries)
        print(f"seeded {args.programmes} programmes × {args.secretaries} secretaries, an open topic vote each, in "
              f"{time.perf_counter() - started:.0f} s")
        ports = [bench.free_port(), bench.free_port()]
        for port in ports:
            servers.append(subprocess.Popen(
                [os.path.join(bench.ROOT, ".venv/bin/waitress-serve"), f"--listen=127.0.0.1:{port}",
                 f"--threads={args.threads}", "--connection-limit=1000", "--call", "salon:create_app"],
                env=env, cwd=bench.ROOT, stdout=subprocess.DEVNULL))
        port = bench.free_port()
        config = os.path.join(tmp, "haproxy.cfg")
        with open(config, "w") as fh:
            fh.write(HAPROXY.format(port=port, a=ports[0], b=ports[1]))
        balancer = subprocess.Popen([haproxy, "-db", "-f", config], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        for p in (*ports, port):
            bench.wait_for_port(p, 90)  # starting a server takes long on a busy machine
        plan_file, out_file = os.path.join(tmp, "plan.json"), os.path.join(tmp, "out.json")
        with open(plan_file, "w") as fh:
            json.dump(plan, fh)
        pids = [pid for server in servers for pid in bench.server_pids(server)]
        load_before, web, db_before = bench.load(), bench.cpu_seconds(pids), bench.backend_cpu(url)
        busy_before = bench.machine_busy()
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}: the rush begins: "
              f"{len(plan['secretaries'])} secretaries within {args.duration:.0f} s, {len(plan['bureaus'])} bureaus "
              f"refreshing; two waitress servers × {args.threads} threads behind haproxy; load {load_before} on "
              f"{os.cpu_count()} cores", flush=True)
        subprocess.run([sys.executable, os.path.abspath(__file__), "--duration", str(args.duration),
                        "--load", plan_file, out_file, f"http://127.0.0.1:{port}"], check=True, cwd=bench.ROOT)
        web = bench.cpu_seconds(pids) - web
        db_after = bench.backend_cpu(url)
        database = sum(cpu - db_before.get(pid, 0.0) for pid, cpu in db_after.items())
        busy_after = bench.machine_busy()
        with open(out_file) as fh:
            out = json.load(fh)
        requests = sum(s["n"] for s in out["stats"].values())
        errors = sum(s["errors"] for s in out["stats"].values())
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}: over in {out['elapsed']:.0f} s; "
              f"load {bench.load()}; {sum(1 for b in out['cast'] if b['receipt'])} ballots answered with a receipt, "
              f"{sum(1 for b in out['cast'] if not b['receipt'])} sent with the answer lost, "
              f"{out['left']} secretaries never started; "
              f"machine busy {100 * (busy_after[0] - busy_before[0]) / max(busy_after[1] - busy_before[1], 1e-9):.0f}%")
        print(f"{'what':36} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}  target")
        worst_page = worst_ballot = 0.0
        for name in sorted(out["stats"]):
            s = out["stats"][name]
            ballot = name.startswith("ballot (")
            target = TARGET_BALLOT_P99_MS if ballot else TARGET_PAGE_P99_MS
            if ballot:
                worst_ballot = max(worst_ballot, s["p99"])
            elif name not in ("log in",):
                worst_page = max(worst_page, s["p99"])
            print(f"{name:36} {s['n']:8d} {s['errors']:6d} {s['p50']:7.0f} {s['p99']:7.0f} {s['max']:7.0f}  "
                  f"p99 < {target} ms: {'met' if s['p99'] < target else 'NOT met'}")
        for line in out["errors"][:10]:
            print("  error:", line)
        print(f"CPU per request: servers {web / max(requests, 1) * 1000:.1f} ms + PostgreSQL "
              f"{database / max(requests, 1) * 1000:.1f} ms over {requests} requests "
              f"({web:.0f} s + {database:.0f} s of CPU)")
        for server in servers:  # the checks close the polls: nothing may be serving
            bench.stop(server)
        problems = check(url, plan, keys, out["cast"])
        print(f"check: {len(plan['polls'])} polls closed and decrypted by 3 of their 4 trustees; every board verifies, "
              f"turnout = voter records = ballots on the board, every receipt shown on the board (a client-sealed "
              f"ballot's: its fingerprint), turnout and decrypted counts between what was answered and what was "
              f"sent: "
              f"{'OK in every poll' if not problems else f'MISMATCH in {len(problems)}'}")
        for line in problems[:10]:
            print("  ", line)
        met = errors == 0 and worst_page < TARGET_PAGE_P99_MS and worst_ballot < TARGET_BALLOT_P99_MS
        print(f"targets: 0 errors ({errors}), pages p99 < {TARGET_PAGE_P99_MS} ms (worst {worst_page:.0f}), ballot "
              f"p99 < {TARGET_BALLOT_P99_MS} ms ({worst_ballot:.0f}): {'met' if met else 'NOT met'}")
        return 0 if not problems and out["left"] == 0 else 1
    finally:
        for server in servers:
            bench.stop(server)
        if balancer is not None:
            bench.stop(balancer)
        bench.drop_database(url)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
