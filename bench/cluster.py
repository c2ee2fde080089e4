"""Two Salon servers behind haproxy on one PostgreSQL and one Redis, and one of them dying mid-vote.

Used by `bench/ballots.py --cluster` (bigger, prints figures) and by tests/web/test_cluster.py (small,
bounded). What it shows (issue 10):
  * web processes keep no state: a secretary logs in through server A and, with that session, creates an API
    token on server B; the token votes through B;
  * the log-in rate limit is one limit across both servers (counters in Redis, a database number of its own
    that is flushed before and after, nothing else);
  * server B is killed with SIGKILL (its whole process group) in the middle of a burst of sealed ballots
    through haproxy (the poll opens sealed, as every poll does, SPEC §5.1; most ballots sealed by the client
    with salon/sealed/client.py before the burst, the others sent plain and sealed by the server:
    bench/sealed_voting.py); every ballot then either has its receipt (201: its fingerprint) or got an error;
    a ballot that got an error is sent again once (the same body) and is then either counted (201) or answered
    "already voted" (409: it had been committed just before the kill, and its receipt was lost with the
    answer); nothing is half-counted: after the close and the trustees' decryption through the API, ballots on
    the bulletin board = turnout = ballots counted as the clients saw it, every receipt handed out is on the
    board, each option's decrypted count is the number of counted ballots that chose it, and the board
    verifies;
  * the surviving server goes on serving through haproxy.

Needs haproxy (Debian's package) and a Redis server on 127.0.0.1:6379."""
from __future__ import annotations

import http.client
import json
import os
import queue
import random
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import harness as bench  # bench/harness.py: database, seeding, ports, CPU from /proc, load average
import sealed_voting  # bench/sealed_voting.py: sealing ahead, the trustees, the board's checks

REDIS_URL = os.environ.get("SALON_CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/9")
PASSWORD = "cluster-password-1"

HAPROXY = """
global
    maxconn 512
defaults
    mode http
    option http-keep-alive
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 5s
    # A request whose connection to a server could not even be opened goes to the other server; a request
    # already sent is never sent again by the balancer (a ballot must not be cast twice behind the voter's back).
    retries 3
    option redispatch 1
frontend salon
    bind 127.0.0.1:{port}
    default_backend app
backend app
    balance roundrobin
    # A dead server refuses connections at once: those requests are redispatched and the server is marked down
    # (observe layer4); the periodic check is lenient, so that a merely busy server is not taken out.
    option httpchk GET /static/favicon.svg
    default-server inter 1s fall 3 rise 2 observe layer4 error-limit 1 on-error mark-down
    server a 127.0.0.1:{a} check
    server b 127.0.0.1:{b} check
"""


def missing_tools() -> str | None:
    """Why the cluster cannot run here, or None."""
    if shutil.which("haproxy") is None and not os.path.exists("/usr/sbin/haproxy"):
        return "haproxy is not installed (Debian: apt-get install haproxy)"
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001
        return f"no Redis at {REDIS_URL} ({exc.__class__.__name__})"
    return None


def _flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # this database number only


class Browser:
    """A client with a cookie jar, on one port (enough for Salon's session cookie)."""

    def __init__(self, port: int, cookies: dict | None = None):
        self.port = port
        self.cookies = dict(cookies or {})

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None,
                body: str | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read().decode("utf-8", "replace")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        conn.close()
        return response.status, payload

    def csrf(self, path: str) -> str:
        status, page = self.request("GET", path)
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or \
            re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
        if status != 200 or not found:
            raise AssertionError(f"no form on {path}: {status}")
        return found.group(1)

    def log_in(self, username: str, password: str) -> int:
        token = self.csrf("/login")
        return self.request("POST", "/login", form={"username": username, "password": password,
                                                    "csrf_token": token})[0]


@dataclass
class Outcome:
    sent: int = 0
    receipts: dict = field(default_factory=dict)  # token → receipt (201)
    errors: dict = field(default_factory=dict)  # token → first error (status or exception), before any resend
    already: set = field(default_factory=set)  # tokens answered 409 on the resend: counted before the kill
    wrong_receipts: list = field(default_factory=list)  # a 201 whose receipt is not the sealed ballot's fingerprint
    refused_on_resend: dict = field(default_factory=dict)  # token → status: neither counted nor 409
    statuses: dict = field(default_factory=dict)


def _cast(port: int, path: str, token: str, body: str, conn=None) -> tuple:
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=body,
                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = conn.getresponse()
        payload = response.read()
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = None
        return response.status, payload, conn
    except (http.client.HTTPException, OSError) as exc:
        conn.close()
        return exc.__class__.__name__, b"", None


class Cluster:
    def __init__(self, seats: int, threads: int = 4, options: int = 4,
                 account_limit: str = "3 per 5 minutes"):
        self.seats, self.threads, self.options = seats, threads, options
        self.account_limit = account_limit
        self.servers: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}
        self.haproxy = None
        self.tmp = tempfile.mkdtemp(prefix="salon-cluster-")
        self.url = None

    # --- set-up and tear-down ------------------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self) -> None:
        _flush_redis()
        self.url = bench.create_database()
        self.env = dict(os.environ, SALON_DATABASE_URL=self.url, SALON_SECRET_KEY="cluster-" + secrets.token_hex(16),
                        SALON_RATELIMIT_STORAGE_URI=REDIS_URL, SALON_RATELIMIT_ENABLED="1",
                        SALON_LOGIN_LIMIT_ACCOUNT=self.account_limit, SALON_INSTANCE_PATH=self.tmp,
                        PYTHONPATH=bench.ROOT)
        subprocess.run([os.path.join(bench.ROOT, ".venv/bin/salon"), "migrate"], env=self.env, check=True,
                       capture_output=True)
        self.seeded = bench.seed_sealed(self.url, self.seats, self.options)
        self.poll_id, self.option_ids, self.tokens = self.seeded.poll_id, self.seeded.option_ids, self.seeded.tokens
        self.secretary = self._give_a_password()
        for name in ("a", "b"):
            self.ports[name] = bench.free_port()
            # waitress, as production serves (one process, threads); its own process group, so that SIGKILL
            # takes down all it started.
            self.servers[name] = subprocess.Popen(
                [os.path.join(bench.ROOT, ".venv/bin/waitress-serve"), f"--listen=127.0.0.1:{self.ports[name]}",
                 f"--threads={self.threads}", "--channel-timeout=60", "--call", "salon:create_app"],
                stdout=subprocess.DEVNULL, env=self.env, cwd=bench.ROOT, start_new_session=True)
        self.port = bench.free_port()
        config = os.path.join(self.tmp, "haproxy.cfg")
        with open(config, "w") as fh:
            fh.write(HAPROXY.format(port=self.port, a=self.ports["a"], b=self.ports["b"]))
        self.haproxy = subprocess.Popen([shutil.which("haproxy") or "/usr/sbin/haproxy", "-db", "-f", config],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for port in (*self.ports.values(), self.port):
            bench.wait_for_port(port)
        deadline = time.monotonic() + 20
        while Browser(self.port).request("GET", "/static/favicon.svg")[0] != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("haproxy does not reach the servers")
            time.sleep(0.2)

    def _give_a_password(self) -> str:
        """The first seeded secretary gets a password, to log in through the pages."""
        from sqlalchemy import create_engine, text
        from werkzeug.security import generate_password_hash

        engine = create_engine(self.url)
        with engine.begin() as conn:
            username = conn.execute(text("SELECT username FROM users WHERE role = 'SECRETARY' ORDER BY id LIMIT 1")
                                    ).scalar_one()
            conn.execute(text("UPDATE users SET password_hash = :h WHERE username = :u"),
                         {"h": generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"), "u": username})
        engine.dispose()
        return username

    def kill(self, name: str) -> None:
        os.killpg(self.servers[name].pid, signal.SIGKILL)
        self.servers[name].wait(10)

    def stop(self) -> None:
        for server in self.servers.values():
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                try:
                    server.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait()
        if self.haproxy is not None and self.haproxy.poll() is None:
            self.haproxy.terminate()
            self.haproxy.wait(10)
        if self.url:
            bench.drop_database(self.url)
            self.url = None
        try:
            _flush_redis()
        except Exception:  # noqa: BLE001
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- what is shown -------------------------------------------------------------------------

    def session_crosses_servers(self) -> str:
        """Log in through A; with A's session cookie, create an API token on B's page; return the token."""
        a = Browser(self.ports["a"])
        status = a.log_in(self.secretary, PASSWORD)
        assert status == 302, f"log-in through server A answered {status}"
        b = Browser(self.ports["b"], a.cookies)
        status, page = b.request("POST", "/account/tokens", form={"name": "cluster", "csrf_token":
                                                                   b.csrf("/account/tokens")})
        found = re.search(r"sln_[A-Za-z0-9_-]{40,}", page)
        assert status == 200 and found, f"creating a token on server B with A's session answered {status}"
        return found.group(0)

    def login_limit_is_shared(self) -> list:
        """Wrong passwords alternately through A and B; answers the statuses. With an account limit of 3,
        the fourth attempt is refused (429) whichever server gets it."""
        statuses = []
        for name in ("a", "b", "a", "b", "a"):
            statuses.append(Browser(self.ports[name]).log_in(self.secretary, "wrong password"))
        return statuses

    def ballots(self) -> list[tuple[str, list[int]]]:
        """One ballot per seeded seat but the logged-in secretary's (seat 0), each with its choices. The ballots
        are sealed here, once, before any burst (bench/sealed_voting.py): about a quarter go plain."""
        if not hasattr(self, "plan"):
            rng = random.Random(7)
            self.spec = sealed_voting.seal_spec(self.port, self.poll_id, self.tokens[0])
            choices = {t: rng.sample(self.option_ids, rng.randint(0, min(3, len(self.option_ids))))
                       for t in self.tokens[1:]}
            self.plan = sealed_voting.seal_ahead(self.spec, choices)
        return [(t, self.plan[t].choices) for t in self.tokens[1:]]

    def _answered(self, outcome: "Outcome", token: str, status, payload: bytes) -> None:
        outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        if status == 201:
            outcome.receipts[token] = receipt = json.loads(payload)["receipt"]
            problem = sealed_voting.receipt_problem(self.plan[token], receipt)
            if problem:
                outcome.wrong_receipts.append(problem)
        else:
            outcome.errors[token] = status

    def cast(self, outcome: "Outcome", token: str, choice: list[int], port: int | None = None) -> object:
        """One ballot, as a voter would send it (sealed by this client, unless planned plain); the answer goes
        into outcome."""
        planned = self.plan.get(token)
        if planned is None or planned.choices != choice:
            self.plan[token] = sealed_voting.ballot(self.spec, choice)
        status, payload, _conn = _cast(port or self.port, f"/api/v1/polls/{self.poll_id}/ballot", token,
                                       self.plan[token].body)
        outcome.sent += 1
        self._answered(outcome, token, status, payload)
        return status

    def burst_with_a_kill(self, outcome: "Outcome", ballots, clients: int, kill_after: int,
                          victim: str = "b") -> None:
        """CLIENTS keep-alive clients through haproxy cast BALLOTS (sealed before: only the sending is timed);
        after KILL_AFTER answers, the victim is killed with SIGKILL. Ballots that got an error are then sent once
        more, the same body (the voter tries again)."""
        path = f"/api/v1/polls/{self.poll_id}/ballot"
        work = queue.SimpleQueue()
        for token, _choice in ballots:
            work.put(token)
        outcome.sent += len(ballots)
        lock = threading.Lock()
        answered = [0]
        killed = threading.Event()

        def client():
            conn = None
            while True:
                try:
                    token = work.get_nowait()
                except queue.Empty:
                    break
                status, payload, conn = _cast(self.port, path, token, self.plan[token].body, conn)
                with lock:
                    self._answered(outcome, token, status, payload)
                    answered[0] += 1
                    if answered[0] == kill_after and not killed.is_set():
                        killed.set()
                        self.kill(victim)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for token, _status in list(outcome.errors.items()):
            status, payload, _conn = _cast(self.port, path, token, self.plan[token].body)
            if status == 201:
                self._answered(outcome, token, status, payload)
            elif status == 409:
                outcome.already.add(token)
            else:
                outcome.refused_on_resend[token] = status

    def tally(self) -> dict:
        """Close the poll (the ballot service, as the close's timer would), read the turnout and voter records,
        have the trustees decrypt through the API (through haproxy: the survivor), and fetch the bulletin board
        as any secretary can."""
        from sqlalchemy import create_engine, text

        from salon import create_app
        from salon.ballots import services as ballots
        from salon.ballots.models import Poll
        from salon.extensions import db

        app = create_app({"SECRET_KEY": "cluster", "SQLALCHEMY_DATABASE_URI": self.url})
        with app.app_context(), app.test_request_context():
            poll = db.session.get(Poll, self.poll_id)
            ballots.close_poll(poll, None)
            db.session.commit()
            turnout = ballots.turnout(self.poll_id)
            db.session.remove()
            db.engine.dispose()
        engine = create_engine(self.url)
        with engine.connect() as conn:
            voters = conn.execute(text("SELECT count(*) FROM ballot_voters WHERE poll_id = :p"),
                                  {"p": self.poll_id}).scalar()
            stored = conn.execute(text("SELECT count(*) FROM ballot_sealed WHERE poll_id = :p"),
                                  {"p": self.poll_id}).scalar()
        engine.dispose()
        counted = sealed_voting.trustees_decrypt(self.port, self.seeded.term_id, self.poll_id, self.seeded.trustees)
        status, board = sealed_voting.api(self.port, "GET", f"/polls/{self.poll_id}/board", self.tokens[0])
        if status != 200:
            raise RuntimeError(f"the board answered {status}: {board}")
        return {"voters": voters, "turnout": turnout, "stored": stored, "counted": counted, "board": board}

    def verify(self, outcome: Outcome, tally: dict) -> list[str]:
        """Everything that must hold after the kill; answers what does not (empty: all good)."""
        problems = list(outcome.wrong_receipts[:5])
        counted = set(outcome.receipts) | outcome.already
        if outcome.refused_on_resend:
            problems.append(f"{len(outcome.refused_on_resend)} ballots neither counted nor refused clearly: "
                            f"{sorted(set(outcome.refused_on_resend.values()), key=str)}")
        if not tally["voters"] == tally["turnout"] == tally["stored"]:
            problems.append(f"voter records {tally['voters']}, turnout {tally['turnout']}, sealed ballots stored "
                            f"{tally['stored']}")
        if not tally["counted"] or not tally["counted"][-1]:
            problems.append(f"the trustees' decryption did not count the poll: {tally['counted']}")
        problems += sealed_voting.board_problems(tally["board"], self.spec, self.option_ids,
                                                 {t: self.plan[t] for t in counted}, outcome.receipts,
                                                 tally["turnout"])
        return problems


def main(args) -> int:
    """`bench/ballots.py --cluster`: the cluster at benchmark size, with figures."""
    why = missing_tools()
    if why:
        print(f"cluster: cannot run: {why}")
        return 2
    with Cluster(seats=args.seats, threads=args.threads,
                 options=args.options) as cluster:
        print(f"cluster: 2 servers (waitress, 1 process × {cluster.threads} threads each) "
              f"behind haproxy, one PostgreSQL, Redis {REDIS_URL}; {args.seats} seats; machine load {bench.load()}")
        token = cluster.session_crosses_servers()
        print(f"  logged in through A, created an API token on B with that session: {token[:8]}…")
        print(f"  wrong passwords through A, B, A, B, A with an account limit of 3: {cluster.login_limit_is_shared()}")
        outcome = Outcome()
        ballots = cluster.ballots()
        status = cluster.cast(outcome, token, [cluster.option_ids[0]], port=cluster.ports["b"])
        print(f"  that token votes through B: {status}")
        reserve, ballots = ballots[-20:], ballots[:-20]
        started = time.perf_counter()
        cluster.burst_with_a_kill(outcome, ballots, args.clients, kill_after=len(ballots) // 3)
        elapsed = time.perf_counter() - started
        print(f"  burst of {len(ballots)} ballots through haproxy, {args.clients} clients, server B SIGKILLed after "
              f"{len(ballots) // 3} answers: {elapsed:.1f}s; first answers {outcome.statuses}")
        print(f"  sent again after an error: {len(outcome.errors)}; then counted "
              f"{len(outcome.errors) - len(outcome.already) - len(outcome.refused_on_resend)}, already voted "
              f"(committed before the kill, receipt lost with the answer) {len(outcome.already)}, refused otherwise "
              f"{len(outcome.refused_on_resend)}")
        survivor = [cluster.cast(outcome, t, c) for t, c in reserve]
        print(f"  the survivor goes on serving through haproxy: {len(reserve)} more ballots answered {set(survivor)}")
        tally = cluster.tally()
        problems = cluster.verify(outcome, tally)
        by = {b["sealed_by"] for b in tally["board"]["ballots"]}
        print(f"  check after the close and the trustees' decryption through the API: turnout {tally['turnout']}, "
              f"voter records {tally['voters']}, sealed ballots {tally['stored']}, on the board "
              f"{len(tally['board']['ballots'])} (sealed by {', '.join(sorted(by))}) -> "
              f"{'OK' if not problems else 'PROBLEMS: ' + '; '.join(problems)}")
        return 1 if problems else 0
