"""Benchmark: CPU milliseconds per page with one and with ten years of history (SPEC §9; a script, not a test).

Builds two programmes in one fresh database (tests/history.py: a year, and ten years, of monthly sessions, each
with nominations, a closed poll, a decision, an agenda, a guest and action items, plus the coming year), then fetches every
page of tests/web/test_history_cost.py through the Flask test client REPEAT times and prints, per page, the
CPU time of this process (time.process_time: the Python of the request and the database driver; SQLite runs
in-process, PostgreSQL's server time is not included) and the statements and bytes of one response.

    .venv/bin/python bench/pages.py [--database sqlite|postgresql|both] [--repeat 20]

Prints the date and the load average first: on a busy machine single figures swing widely.
Environment: SALON_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres)."""
from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from salon import clock, create_app  # noqa: E402
from salon.extensions import db  # noqa: E402
from salon.schedule import services as schedule  # noqa: E402
from tests import history  # noqa: E402
from tests.conftest import (IsolatedClient, base_config, create_postgres_database, drop_postgres_database,  # noqa: E402
                            login, token_for)
from tests.web.test_history_cost import NOW, PAGES, counting  # noqa: E402


def _world(years: int) -> dict:
    programme, bureau, secretaries, communities = history.build(f"县{years}", years, NOW, prefix=f"y{years}")
    everything = schedule.sessions(programme.id)
    held = [s for s in everything if s.starts_at <= NOW]
    future = [s for s in everything if s.starts_at > NOW]
    feed, community_feed = schedule.create_feed(bureau), schedule.create_feed(bureau, communities[0].id)
    db.session.commit()
    return {"bureau": bureau.username, "secretary": secretaries[0].username, "token": token_for(bureau),
            "ids": {"held": held[-1].id, "next": future[0].id, "community": communities[0].id,
                    "oldest_shown": held[-schedule.PAST_PAGE].id, "feed": schedule.feed_token(feed),
                    "community_feed": schedule.feed_token(community_feed)}}


def _clients(app, world) -> dict:
    clients = {}
    for who in ("bureau", "secretary", "anonymous", "api"):
        client = app.test_client()
        if who in ("bureau", "secretary"):
            login(client, world[who])
        clients[who] = client
    return clients


def _measure(app, clients, world, who, path, repeat):
    headers = {"Authorization": f"Bearer {world['token']}"} if who == "api" else {}
    url = path.format(**world["ids"])
    with counting() as seen:
        response = clients[who].get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    started = time.process_time()
    for _ in range(repeat):
        clients[who].get(url, headers=headers)
    return (time.process_time() - started) * 1000 / repeat, len(seen), len(response.data)


def run(database: str, repeat: int) -> None:
    tmp = tempfile.mkdtemp(prefix="salon-bench-pages-")
    url = ("sqlite:///" + os.path.join(tmp, "bench.sqlite") if database == "sqlite"
           else create_postgres_database("salon_bench_pages"))
    config = base_config(url, tmp) | {"SECRET_KEY": uuid.uuid4().hex}
    app = create_app(config)
    app.test_client_class = IsolatedClient  # each request in its own app context, as in production
    try:
        with app.app_context():
            db.create_all()
            with app.test_request_context():
                worlds = {years: _world(years) for years in (1, 10)}
            clients = {years: _clients(app, worlds[years]) for years in (1, 10)}
            # The objects left from building the histories are not a page's cost: without this, a full garbage
            # collection that scans them lands on whichever page happens to trigger it (≈80 ms on one page).
            gc.collect()
            gc.freeze()
            print(f"database {database}, {repeat} requests per page, CPU of this process per request"
                  + (" (PostgreSQL's own time not included)" if database == "postgresql" else ""))
            print(f"{'who':9} {'page':45} {'1 year ms':>9} {'10 years ms':>11} {'queries':>9} {'KB 1→10':>12}")
            for who, path in PAGES:
                ms1, q1, b1 = _measure(app, clients[1], worlds[1], who, path, repeat)
                ms10, q10, b10 = _measure(app, clients[10], worlds[10], who, path, repeat)
                print(f"{who:9} {path:45} {ms1:9.1f} {ms10:11.1f} {q1:4}→{q10:<4} "
                      f"{b1 / 1024:5.1f}→{b10 / 1024:<5.1f}")
            db.session.remove()
            db.engine.dispose()
    finally:
        if database == "postgresql":
            drop_postgres_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    clock.utcnow = lambda: NOW
    started, load = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.getloadavg()
    print(f"{started}, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    for database in (["sqlite", "postgresql"] if args.database == "both" else [args.database]):
        run(database, args.repeat)
        print()
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
