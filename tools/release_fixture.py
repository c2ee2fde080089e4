"""Capture the release fixtures: a database at this release's schema holding the demo and its history, as SQL
dumps per database, for the upgrade test (tests/services/test_upgrade.py; docs/upgrades.md says when to run it).

    make release-fixture            # or: .venv/bin/python tools/release_fixture.py [--postgres URL]

Builds each database the way an installation does (`salon migrate`, then `salon demo --as-of AS_OF`), notes what
the upgrade must keep (the published results of every closed poll, the audit chain's length), then writes
tests/fixtures/release/{sqlite,postgresql}.sql.gz and manifest.json, replacing the previous release's. The day
is fixed, so the fixture does not depend on when it is captured. Needs pg_dump (PostgreSQL's client tools)."""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "tests" / "fixtures" / "release"
AS_OF = "2026-12-01T02:00"  # 10:00 in Shanghai: the demo's history, laid out as it stood that morning
POSTGRES_URL = os.environ.get("SALON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _app(url: str, instance: str):
    from salon import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": uuid.uuid4().hex, "SALON_INSTANCE": instance,
                       "RATELIMIT_ENABLED": False})


def _run_cli(app, *args: str) -> None:
    result = app.test_cli_runner().invoke(args=list(args))
    if result.exit_code != 0:
        raise SystemExit(f"salon {' '.join(args)} failed:\n{result.output}{result.exception!r}")


def kept(app) -> dict:
    """What an upgrade must keep that row-by-row comparison cannot show: each closed poll's published results
    and receipts, as the release's own services give them, and the audit chain's length."""
    from salon.audit import services as audit
    from salon.ballots import services as ballots
    from salon.ballots.models import Poll, PollState
    from salon.extensions import db

    with app.app_context():
        checked, broken = audit.verify()
        if broken is not None:
            raise SystemExit(f"the demo's audit chain is broken at {broken}")
        polls = {}
        for poll in db.session.scalars(select(Poll).where(Poll.state == PollState.CLOSED).order_by(Poll.id)):
            result = ballots.results(poll)
            polls[str(poll.id)] = {
                "turnout": result.turnout, "eligible": result.eligible, "published": result.published,
                "counts": {str(k): v for k, v in sorted(result.counts.items())},
                "blanks": {str(k): v for k, v in sorted(result.blanks.items())},
                "ref_counts": {str(k): v for k, v in sorted(result.ref_counts.items())},
                "receipts": ballots.receipts(poll)}
        revision = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        db.session.remove()
    if not polls:
        raise SystemExit("the demo holds no closed poll: nothing to check results against")
    return {"revision": revision, "audit_events": checked, "closed_polls": polls}


def _write_gzip(path: Path, lines) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out:
        for line in lines:
            out.write(line.encode("utf-8"))


def capture_sqlite(workdir: str) -> dict:
    path = os.path.join(workdir, "release.sqlite")
    app = _app("sqlite:///" + path, workdir)
    _run_cli(app, "migrate")
    _run_cli(app, "demo", "--as-of", AS_OF)
    facts = kept(app)
    with app.app_context():
        from salon.extensions import db

        db.engine.dispose()
    conn = sqlite3.connect(path)
    _write_gzip(OUT / "sqlite.sql.gz", (line + "\n" for line in conn.iterdump()))
    conn.close()
    return facts


def capture_postgresql(workdir: str, server: str) -> dict:
    if shutil.which("pg_dump") is None:
        raise SystemExit("pg_dump is not installed (PostgreSQL's client tools)")
    name = f"salon_release_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name)
    try:
        app = _app(url.render_as_string(hide_password=False), workdir)
        _run_cli(app, "migrate")
        _run_cli(app, "demo", "--as-of", AS_OF)
        facts = kept(app)
        with app.app_context():
            from salon.extensions import db

            db.engine.dispose()
        dump = subprocess.run(
            ["pg_dump", "--format=plain", "--no-owner", "--no-privileges", "--no-comments",
             url.set(drivername="postgresql").render_as_string(hide_password=False)],
            capture_output=True, text=True, check=False)
        if dump.returncode != 0:
            raise SystemExit(f"pg_dump failed: {dump.stderr}")
        _write_gzip(OUT / "postgresql.sql.gz", [dump.stdout])
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=POSTGRES_URL, help="a PostgreSQL server's maintenance database URL")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as workdir:
        databases = {"sqlite": capture_sqlite(workdir), "postgresql": capture_postgresql(workdir, args.postgres)}
    revisions = {facts.pop("revision") for facts in databases.values()}
    if len(revisions) != 1:
        raise SystemExit(f"the databases ended at different revisions: {revisions}")
    manifest = {"revision": revisions.pop(), "as_of": AS_OF,
                "captured_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%MZ"),
                "databases": databases}
    (OUT / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    sizes = ", ".join(f"{p.name} {p.stat().st_size // 1024} KiB" for p in sorted(OUT.glob("*.gz")))
    print(f"release fixture at {manifest['revision']} written to {OUT.relative_to(ROOT)}: {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
