"""Benchmark: pages per second from outside, as issue 18 measured them (a script, not a test).

Creates a PostgreSQL database, migrates it and loads the demo (`salon demo`), serves it with waitress
`--threads=8` as `make run` does, logs in as the bureau and as a secretary (sec01), and runs wrk with 16
connections for 12 s against each page: the bureau's home, the secretary's home, the session page of the
session in progress (as the bureau), its vote page (as the secretary) and the log-in page. For each it prints
pages/s, p50 and p99 (wrk's latency distribution), answers other than 2xx/3xx and socket errors, and the CPU
milliseconds per page of the server process and of the database's backends (from /proc), with the machine's
load average before and after. Then it drops the database.

    .venv/bin/python bench/pages_wrk.py [--duration 12] [--connections 16] [--threads 8] [--repeat 1]
                                        [--pages bureau_home,secretary_home,session,vote,login]
                                        [--tree DIR]     serve another checkout's code (a before/after pair)

Needs wrk (Debian: apt-get install wrk). Environment: SALON_TEST_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres)."""
from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as bench  # noqa: E402  bench/harness.py: database, seeding, ports, CPU from /proc, load average
from cluster import Browser  # noqa: E402  bench/cluster.py: a client with a cookie jar

PAGES = ["bureau_home", "secretary_home", "session", "vote", "login"]
BUREAU = ("bureau", "demo-bureau-2023")  # salon.demo's logins (imported from the served tree's salon.demo)
SECRETARY = ("sec01", "demo-secretary-2023")


def _session_in_progress(url: str) -> int:
    """The next planned numbered session: the one the month's nominations, vote and packet are about."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT id FROM salon_sessions WHERE status = 'PLANNED' AND number IS NOT NULL "
                                  "AND starts_at > now() AT TIME ZONE 'UTC' ORDER BY starts_at LIMIT 1")).scalar()
    engine.dispose()
    return found


def _parse_wrk(output: str) -> dict:
    def duration_ms(value: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    found = {"rate": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
             "requests": int(re.search(r"(\d+) requests in", output).group(1)),
             "p50": duration_ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1)),
             "p99": duration_ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)),
             "non2xx": 0, "socket": 0}
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if bad:
        found["non2xx"] = int(bad.group(1))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket:
        found["socket"] = sum(int(g) for g in socket.groups())
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=12, help="seconds of wrk per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--repeat", type=int, default=1, help="measure every page this many times, in turn")
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--tree", default=bench.ROOT, help="the checkout whose code is served (default: this one)")
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed (Debian: apt-get install wrk)")
        return 2
    tree = os.path.abspath(args.tree)
    pages = args.pages.split(",")
    url = bench.create_database()
    instance = tempfile.mkdtemp(prefix="salon-pages-wrk-")
    server = None
    try:
        env = dict(os.environ, SALON_DATABASE_URL=url, SALON_SECRET_KEY="pages-" + secrets.token_hex(8),
                   SALON_RATELIMIT_ENABLED="0", SALON_INSTANCE_PATH=instance, PYTHONPATH=tree)
        salon = os.path.join(bench.ROOT, ".venv/bin/salon")
        subprocess.run([salon, "migrate"], env=env, cwd=tree, check=True, capture_output=True)
        subprocess.run([salon, "demo"], env=env, cwd=tree, check=True, capture_output=True)
        session_id = _session_in_progress(url)
        port = bench.free_port()
        server = subprocess.Popen([os.path.join(bench.ROOT, ".venv/bin/waitress-serve"), f"--listen=127.0.0.1:{port}",
                                   f"--threads={args.threads}", "--call", "salon:create_app"],
                                  env=env, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bench.wait_for_port(port)
        cookies = {}
        for who, (username, password) in (("bureau", BUREAU), ("secretary", SECRETARY)):
            browser = Browser(port)
            status = browser.log_in(username, password)
            if status != 302:
                raise SystemExit(f"log-in as {username} answered {status}")
            cookies[who] = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        targets = {"bureau_home": ("bureau", "/"), "secretary_home": ("secretary", "/"),
                   "session": ("bureau", f"/sessions/{session_id}"),
                   "vote": ("secretary", f"/topics/sessions/{session_id}/vote"), "login": (None, "/login")}
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}; code of {tree}; demo on PostgreSQL; "
              f"waitress 1 process × {args.threads} threads; wrk {args.connections} connections × {args.duration} s "
              f"per page; machine load {bench.load()} on {os.cpu_count()} cores")
        print(f"{'page':15} {'path':28} {'pages/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7} "
              f"{'CPU ms/page: web + PostgreSQL':>30}  load before → after")
        for _round in range(args.repeat):
            for page in pages:
                who, path = targets[page]
                # One request first: the first view of a page may open or close a poll (not its steady cost).
                warm = Browser(port)
                if who:
                    warm.cookies = dict(c.split("=", 1) for c in cookies[who].split("; "))
                status = warm.request("GET", path)[0]
                if status != 200:
                    raise SystemExit(f"{page} {path} answered {status}")
                headers = ["-H", f"Cookie: {cookies[who]}"] if who else []
                pids = bench.server_pids(server)
                before_load, web, db_before = bench.load(), bench.cpu_seconds(pids), bench.backend_cpu(url)
                # --timeout: a slow page is a slow page, not a socket error (wrk's default gives up after 2 s).
                out = subprocess.run([wrk, "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s",
                                      "--latency", *headers, f"http://127.0.0.1:{port}{path}"],
                                     capture_output=True, text=True, check=True).stdout
                web = bench.cpu_seconds(pids) - web
                db_after = bench.backend_cpu(url)
                database = sum(cpu - db_before.get(pid, 0.0) for pid, cpu in db_after.items())
                m = _parse_wrk(out)
                n = max(m["requests"], 1)
                print(f"{page:15} {path:28} {m['rate']:8.1f} {m['p50']:7.1f} {m['p99']:7.1f} "
                      f"{m['non2xx'] + m['socket']:7d} {web / n * 1000:17.1f} + {database / n * 1000:5.1f} ms"
                      f"  {before_load} → {bench.load()}", flush=True)
        return 0
    finally:
        bench.stop(server)
        bench.drop_database(url)
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
