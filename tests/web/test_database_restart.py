"""PostgreSQL restarted in the middle of a ballot burst (issue 18, docs/faults.md).

The test starts a PostgreSQL cluster of its own (initdb and pg_ctl in a temporary folder, on a free port; never
the shared server), migrates it, seeds a programme with a bearer token per seat and a poll opened sealed, as every
poll opens (SPEC §5.1), with a drawn term of trustees made ready on the server from known nonces
(bench/harness.py `seed_sealed`), and serves Salon as production does: `waitress-serve --threads=8 --call
salon:create_app` in a subprocess, configured through SALON_* variables. The ballots are sealed before the burst
(bench/sealed_voting.py): about three in four by the client with salon/sealed/client.py from the poll's seal spec
(read through the API), the others sent plain, for the server to seal. Clients cast them concurrently; part-way
through, PostgreSQL is stopped (`pg_ctl stop -m fast`, which ends every backend in the middle of whatever it was
doing) and started again. Then:

* every first answer was 201 (with a receipt: for a ballot the client sealed, its fingerprint) or 503 with
  `Retry-After` and the API's JSON error; never a 500;
* waitress was not restarted, and a ballot sent repeatedly from the moment PostgreSQL accepts connections again
  is counted within RECOVERY_LIMIT seconds (the figure is printed);
* every ballot that was not answered 201 is sent again (the same body) and is counted (201: it had not been
  counted before);
* after the close, the drawn trustees decrypt through the API, and the bulletin board agrees with what the
  clients were told: every receipt handed out is on it, ballots on it = turnout = ballots answered 201, every
  option's decrypted count is the number of 201-answered ballots that chose it, the blank count (protocol
  salon-sealed-2) the number that chose none, and it verifies (salon.sealed.board.verify_board).

Runs where PostgreSQL's server binaries are installed (Debian's postgresql package: /usr/lib/postgresql/*/bin,
or SALON_PG_BIN); skipped, saying so, elsewhere, unless SALON_REQUIRE_CLUSTER=1 (CI), when it fails instead.
About 30 s on an idle 2-core machine."""
from __future__ import annotations

import glob
import http.client
import json
import os
import pwd
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEATS = 400
OPTIONS = 4
CLIENTS = 12
RESTART_AFTER = 40  # first answers before PostgreSQL is stopped
PACE = 0.05  # seconds each client waits between ballots, so that the burst outlasts the restart
RECOVERY_LIMIT = 10.0  # seconds from PostgreSQL accepting connections to a ballot counted
RETRY_AFTER_CAP = 1.0  # the burst's clients honour Retry-After, shortened to keep the test short


def _pg_bin() -> str | None:
    chosen = os.environ.get("SALON_PG_BIN")
    if chosen:
        return chosen if os.path.exists(os.path.join(chosen, "initdb")) else None
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[-3]))
    return os.path.dirname(found[-1]) if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateCluster:
    """A throw-away PostgreSQL cluster: trust authentication on 127.0.0.1:<port>, its socket in its own folder.
    initdb refuses to run as root, so as root the cluster belongs to the `postgres` user and runs as it."""

    def __init__(self, bindir: str):
        self.bindir = bindir
        self.dir = tempfile.mkdtemp(prefix="salon-pg-restart-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgres.log")
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self.as_user = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", "postgres", "--"]
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/salon"
        # Its own port and socket folder, on every start. fsync off: the cluster is thrown away, and a fast stop
        # writes its checkpoint all the same.
        self.options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
                        " -c max_connections=60 -c shared_buffers=32MB")

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        subprocess.run([*self.as_user, os.path.join(self.bindir, tool), *args], check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.dir)

    def create(self) -> None:
        self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", self.options, "-w", "-t", "60", "start")
        self.execute("postgres", "CREATE DATABASE salon")

    def execute(self, database: str, sql: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database,
                             autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)

    def accepts_connections(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="salon",
                                 connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def stop(self) -> None:
        """Fast shutdown: every session is ended at once, its open transaction rolled back."""
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")

    def start(self) -> None:
        """Start without waiting (pg_ctl -W): the caller watches for the first connection itself."""
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", self.options, "-W", "start")

    def destroy(self) -> None:
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            try:
                self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "-t", "30", "stop")
            except subprocess.SubprocessError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Answer:
    status: object  # an HTTP status, or the name of the exception a client got
    body: bytes
    retry_after: str | None
    content_type: str | None


def _post_ballot(port: int, poll_id: int, token: str, body: str, conn=None):
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", f"/api/v1/polls/{poll_id}/ballot", body=body,
                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = conn.getresponse()
        answer = Answer(response.status, response.read(), response.getheader("Retry-After"),
                        response.getheader("Content-Type"))
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = None
        return answer, conn
    except (http.client.HTTPException, OSError) as exc:
        conn.close()
        return Answer(exc.__class__.__name__, b"", None, None), None


@dataclass
class Ledger:
    """What the clients were told."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    plan: dict = field(default_factory=dict)  # token -> the Ballot sent (bench/sealed_voting.py)
    receipts: dict = field(default_factory=dict)  # token -> receipt, the ballot's fingerprint (201)
    failed: dict = field(default_factory=dict)  # token -> first answer that was not 201
    statuses: dict = field(default_factory=dict)
    bad: list = field(default_factory=list)  # answers that break the contract: 500, no Retry-After, not JSON
    answered: int = 0

    def note(self, token: str, answer: Answer) -> None:
        with self.lock:
            self.answered += 1
            self.statuses[answer.status] = self.statuses.get(answer.status, 0) + 1
            if answer.status == 201:
                self.receipts[token] = receipt = json.loads(answer.body)["receipt"]
                self.failed.pop(token, None)
                problem = sealed_voting.receipt_problem(self.plan[token], receipt) if token in self.plan else None
                if problem:
                    self.bad.append(problem)
                return
            self.failed.setdefault(token, answer)
            problem = _contract_problem(answer)
            if problem:
                self.bad.append(problem)


def _contract_problem(answer: Answer) -> str | None:
    """None when a failed ballot was answered as promised: 503, Retry-After in whole seconds, the JSON error."""
    if answer.status != 503:
        return f"answered {answer.status}: {answer.body[:200]!r}"
    if not (answer.retry_after or "").isdigit():
        return f"503 without a Retry-After in seconds ({answer.retry_after!r})"
    try:
        error = json.loads(answer.body)["error"]
    except (ValueError, KeyError, TypeError):
        return f"503 whose body is not the API's JSON error: {answer.body[:200]!r}"
    if error.get("status") != 503 or not error.get("message") or "json" not in (answer.content_type or ""):
        return f"503 with an unexpected error body: {answer.body[:200]!r}"
    return None


def _bench_modules():
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    try:
        import harness
        import sealed_voting
    finally:
        sys.path.remove(os.path.join(ROOT, "bench"))
    return harness, sealed_voting


harness, sealed_voting = _bench_modules()


def _serve(url: str, instance: str, log) -> tuple[subprocess.Popen, int]:
    """waitress as production runs it. It reaches the database only when a request comes, so it may start
    while the database is still being migrated; wait with _wait_for until it listens."""
    port = _free_port()
    env = dict(os.environ, SALON_DATABASE_URL=url, SALON_INSTANCE_PATH=instance,
               SALON_SECRET_KEY="restart-" + os.urandom(8).hex(), SALON_RATELIMIT_ENABLED="0")
    waitress = os.path.join(os.path.dirname(sys.executable), "waitress-serve")
    server = subprocess.Popen([waitress, f"--listen=127.0.0.1:{port}", "--threads=8", "--call", "salon:create_app"],
                              env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return server, port


def _wait_for(server: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("waitress did not start")
            time.sleep(0.1)


def _close(url: str, poll_id: int) -> int:
    """Close the poll through the ballot service (as the close's timer does); answers the turnout."""
    from salon import create_app
    from salon.ballots import services as ballots
    from salon.ballots.models import Poll
    from salon.extensions import db

    app = create_app({"SECRET_KEY": "restart", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context(), app.test_request_context():
        poll = db.session.get(Poll, poll_id)
        ballots.close_poll(poll, None)
        db.session.commit()
        turnout = ballots.turnout(poll_id)
        db.session.remove()
        db.engine.dispose()
    return turnout


def _restart_and_probe(cluster: PrivateCluster, port: int, poll_id: int, token: str, ledger: Ledger) -> tuple[float, float, list[Answer]]:
    """Stop PostgreSQL (fast), start it, and from the moment it accepts connections send one voter's ballot
    every 50 ms until it is counted. Answers how long PostgreSQL was down, the recovery time (from accepting
    connections to the ballot counted), and the probe's answers."""
    cluster.stop()
    down_at = time.monotonic()
    cluster.start()
    while not cluster.accepts_connections():
        assert time.monotonic() - down_at < 60, "PostgreSQL did not come back"
        time.sleep(0.02)
    up_at = time.monotonic()
    probes = []
    while True:
        answer, _conn = _post_ballot(port, poll_id, token, ledger.plan[token].body)
        probes.append(answer)
        ledger.note(token, answer)
        if answer.status == 201:
            return up_at - down_at, max(0.0, time.monotonic() - up_at), probes
        assert time.monotonic() - up_at < RECOVERY_LIMIT, f"not recovered: {[a.status for a in probes]}"
        time.sleep(0.05)


def test_postgresql_restarted_in_the_middle_of_a_ballot_burst(tmp_path):
    bindir = _pg_bin()
    if bindir is None:
        if os.environ.get("SALON_REQUIRE_CLUSTER") == "1":
            pytest.fail("PostgreSQL's server binaries are required (SALON_REQUIRE_CLUSTER=1) but not installed")
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    started = time.monotonic()
    cluster = PrivateCluster(bindir)
    server = None
    log = open(tmp_path / "waitress.log", "w")
    try:
        cluster.create()
        phases = {"initdb and start": time.monotonic() - started}
        server, port = _serve(cluster.url, str(tmp_path), log)
        env = dict(os.environ, SALON_DATABASE_URL=cluster.url, SALON_INSTANCE_PATH=str(tmp_path),
                   SALON_SECRET_KEY="migrate")
        subprocess.run([sys.executable, "-m", "salon", "migrate"], env=env, cwd=ROOT, check=True,
                       capture_output=True, timeout=120)
        phases["migrate"] = time.monotonic() - started - sum(phases.values())
        seeded = harness.seed_sealed(cluster.url, SEATS, OPTIONS)
        poll_id, option_ids, tokens = seeded.poll_id, seeded.option_ids, seeded.tokens
        phases["seed"] = time.monotonic() - started - sum(phases.values())
        _wait_for(server, port)
        phases["waitress"] = time.monotonic() - started - sum(phases.values())
        # Every ballot sealed (or, for about one in four, left plain for the server to seal) before the burst.
        rng = random.Random(18)
        spec = sealed_voting.seal_spec(port, poll_id, tokens[0])
        ledger = Ledger(plan=sealed_voting.seal_ahead(spec, {t: rng.sample(option_ids, rng.randint(0, 3))
                                                             for t in tokens}))
        phases["sealing"] = time.monotonic() - started - sum(phases.values())
        set_up = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items())
        burst_probe, quiet_probe, tokens = tokens[0], tokens[1], tokens[2:]

        work: queue.SimpleQueue = queue.SimpleQueue()
        for token in tokens:
            work.put(token)
        restart_due = threading.Event()

        def client():
            conn = None
            while True:
                try:
                    token = work.get_nowait()
                except queue.Empty:
                    return
                answer, conn = _post_ballot(port, poll_id, token, ledger.plan[token].body, conn)
                ledger.note(token, answer)
                if ledger.answered >= RESTART_AFTER:
                    restart_due.set()
                if answer.status != 201:  # a client told to come back later does, not at once
                    time.sleep(min(RETRY_AFTER_CAP, float(answer.retry_after or 1)))
                time.sleep(PACE)

        clients = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in clients:
            thread.start()
        assert restart_due.wait(60), "the burst did not get going"
        down_for, recovery, probes = _restart_and_probe(cluster, port, poll_id, burst_probe, ledger)
        for thread in clients:
            thread.join(120)
        first_answers = dict(ledger.statuses)

        # Every ballot not answered 201 can be cast again, and is then counted.
        unanswered = list(ledger.failed)
        again = {}
        for token in unanswered:
            answer, _conn = _post_ballot(port, poll_id, token, ledger.plan[token].body)
            again[token] = answer.status
            ledger.note(token, answer)
        # A restart while nobody votes: every pooled connection is now one the restart closed, and the idle
        # check (SALON_DB_IDLE_CHECK_SECONDS, 10 s) has not come due for them.
        quiet_down_for, quiet_recovery, quiet_probes = _restart_and_probe(cluster, port, poll_id, quiet_probe,
                                                                          ledger)
        assert server.poll() is None, "waitress stopped"
        turnout = _close(cluster.url, poll_id)
        decrypted = sealed_voting.trustees_decrypt(port, seeded.term_id, poll_id, seeded.trustees)
        status, board = sealed_voting.api(port, "GET", f"/polls/{poll_id}/board", tokens[0])
        by = {who: sum(1 for b in board.get("ballots", ()) if b["sealed_by"] == who) for who in ("voter", "server")}
        print(f"\nPostgreSQL restart mid-burst: {len(tokens) + 2} sealed ballots (sealed by the client {by['voter']}, "
              f"by the server {by['server']}), {CLIENTS} clients; first answers "
              f"{first_answers}; PostgreSQL down {down_for:.2f} s; first ballot counted {recovery:.2f} s after it "
              f"accepted connections again ({len(probes)} tries: {[a.status for a in probes]}). "
              f"Restarted again with no traffic: down {quiet_down_for:.2f} s, first ballot counted "
              f"{quiet_recovery:.2f} s after ({[a.status for a in quiet_probes]}). Set-up: {set_up}; whole test "
              f"{time.monotonic() - started:.1f} s; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

        assert ledger.bad == [], ledger.bad[:5]
        assert server.poll() is None, "waitress stopped"
        assert first_answers.get(503, 0) > 0, "the restart missed the burst: no ballot was refused"
        assert {t: s for t, s in again.items() if s != 201} == {}, "a refused ballot could not be cast again"
        assert ledger.failed == {}
        counted = set(ledger.receipts)
        assert counted == {burst_probe, quiet_probe, *tokens}
        assert decrypted == [False, False, True], "three of the four trustees decrypt (k = 3)"
        assert status == 200, board
        assert sealed_voting.board_problems(board, spec, option_ids, {t: ledger.plan[t] for t in counted},
                                            ledger.receipts, turnout) == []
        assert {b["sealed_by"] for b in board["ballots"]} == {"voter", "server"}
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(15)
        log.close()
        cluster.destroy()
