"""Upgrading a database with data loses nothing (SPEC §9).

The last release's database (tests/fixtures/release/: the demo and its history, captured by
tools/release_fixture.py when the release was cut; docs/upgrades.md) is loaded into a fresh database of each kind
and upgraded to whatever head is now. Then every table keeps its rows, a sample of each table's rows keeps every
value it had, the audit chain verifies, each closed poll publishes the same results and receipts, and the demo's
bureau and a secretary get their pages."""
from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import make_url

from salon import MIGRATIONS, create_app, demo
from salon.extensions import db
from tests.conftest import BACKENDS, base_config, create_postgres_database, drop_postgres_database
from tests.web.test_permissions import CASES

RELEASE = Path(__file__).resolve().parents[1] / "fixtures" / "release"
MANIFEST = json.loads((RELEASE / "manifest.json").read_text(encoding="utf-8"))
SAMPLE = 25  # rows compared value by value per table, spread evenly by primary key (first and last included)

# What a migration retired on purpose: "table" or "table.column" -> why. Anything else must come through.
RETIRED: dict[str, str] = {
    "ballot_pending_scrubs": "0015_no_plain_polls: no plain poll's ballots are left to erase (the upgrade checks)",
    "ballot_polls.counter_shards": "0015_no_plain_polls: counts are written once, by the trustees' count",
}
# Tables whose primary key a migration replaced: rows are matched by the old key's columns, still unique.
MATCHED_BY: dict[str, tuple[str, ...]] = {
    "committee_members": ("term_id", "seat_id"),  # 0009_committee_life: an id of its own (personal membership)
}


def load_release(backend: str, tmp_path: Path) -> str:
    """A fresh database holding the release fixture; its URL."""
    sql = gzip.decompress((RELEASE / f"{backend}.sql.gz").read_bytes()).decode("utf-8")
    if backend == "sqlite":
        import sqlite3

        path = tmp_path / "release.sqlite"
        conn = sqlite3.connect(path)
        conn.executescript(sql)
        conn.close()
        return f"sqlite:///{path}"
    url = create_postgres_database("salon_upgrade")
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    loaded = subprocess.run(["psql", "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--single-transaction",
                             "--dbname", libpq], input=sql, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    return url


def snapshot(url: str) -> dict:
    """Per table: its row count, primary key columns and every row by key (read through reflection, so it works
    on any schema, the release's or head's)."""
    engine = create_engine(url)
    metadata = MetaData()
    metadata.reflect(engine)
    tables = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            key = ([table.columns[c] for c in MATCHED_BY[table.name]] if table.name in MATCHED_BY
                   else list(table.primary_key.columns) or list(table.columns))
            rows = conn.execute(select(table).order_by(*key)).mappings().all()
            tables[table.name] = {"columns": [c.name for c in table.columns],
                                  "rows": {tuple(row[c.name] for c in key): dict(row) for row in rows}}
        revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
    engine.dispose()
    return {"revision": revision, "tables": tables}


def sample(keys: list) -> list:
    if len(keys) <= SAMPLE:
        return keys
    step = (len(keys) - 1) / (SAMPLE - 1)
    return [keys[round(i * step)] for i in range(SAMPLE)]


@pytest.fixture(scope="module", params=BACKENDS)
def upgraded(request, tmp_path_factory):
    """The release fixture loaded and upgraded to head, with what it held before and after, read at once (the
    pages served later may move the demo on)."""
    tmp_path = tmp_path_factory.mktemp("upgrade")
    url = load_release(request.param, tmp_path)
    before = snapshot(url)
    app = create_app(base_config(url, str(tmp_path)))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        db.session.remove()
    after = snapshot(url)
    facts = MANIFEST["databases"][request.param]
    yield {"app": app, "before": before, "after": after, "facts": facts}
    with app.app_context():
        db.engine.dispose()
    if request.param == "postgresql":
        drop_postgres_database(url)


def test_the_fixture_is_the_release_and_ends_at_head(upgraded):
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    heads = ScriptDirectory.from_config(config)
    assert upgraded["before"]["revision"] == MANIFEST["revision"]
    assert upgraded["after"]["revision"] == heads.get_current_head()
    assert sum(len(t["rows"]) for t in upgraded["before"]["tables"].values()) > 1000  # the demo with its history


def test_every_table_keeps_its_rows(upgraded):
    before, after = upgraded["before"]["tables"], upgraded["after"]["tables"]
    for name, table in before.items():
        if name in RETIRED:
            continue
        assert name in after, f"table {name} is gone after the upgrade"
        count_before, count_after = len(table["rows"]), len(after[name]["rows"])
        assert count_after == count_before, f"{name}: {count_before} rows before the upgrade, {count_after} after"


def test_a_sample_of_each_table_keeps_its_values(upgraded):
    before, after = upgraded["before"]["tables"], upgraded["after"]["tables"]
    compared = 0
    for name, table in before.items():
        if name in RETIRED:
            continue
        columns = [c for c in table["columns"] if f"{name}.{c}" not in RETIRED]
        missing = [c for c in columns if c not in after[name]["columns"]]
        assert not missing, f"{name}: columns gone after the upgrade: {missing}"
        for key in sample(sorted(table["rows"])):
            old, new = table["rows"][key], after[name]["rows"].get(key)
            assert new is not None, f"{name} {key}: row gone"
            for column in columns:
                assert new[column] == old[column], f"{name} {key}.{column}: {old[column]!r} became {new[column]!r}"
                compared += 1
    assert compared > 1000


def test_the_audit_chain_verifies(upgraded):
    from salon.audit import services as audit

    with upgraded["app"].app_context():
        checked, broken = audit.verify()
    assert broken is None, f"audit chain broken at programme {broken.programme_id}, event {broken.seq}: {broken.reason}"
    assert checked == upgraded["facts"]["audit_events"]


def test_closed_polls_publish_the_same_results(upgraded):
    from salon.ballots import services as ballots
    from salon.ballots.models import PollState

    kept = upgraded["facts"]["closed_polls"]
    with upgraded["app"].app_context():
        for poll_id, was in kept.items():
            poll = ballots.get(int(poll_id))
            assert poll is not None and poll.state == PollState.CLOSED, poll_id
            result = ballots.results(poll)
            now = {"turnout": result.turnout, "eligible": result.eligible, "published": result.published,
                   "counts": {str(k): v for k, v in sorted(result.counts.items())},
                   "blanks": {str(k): v for k, v in sorted(result.blanks.items())},
                   "ref_counts": {str(k): v for k, v in sorted(result.ref_counts.items())},
                   "receipts": ballots.receipts(poll)}
            assert now == was, f"poll {poll_id}"
        db.session.remove()
    assert any(was["published"] for was in kept.values())


# Pages whose answer depends on the programme's state, not on the role: the matrix's world gets the one, the
# upgraded demo may get the other. Opening a review shows its confirmation while one may open (SPEC §4.1: from 14
# days before it is due, earlier with a reason) and otherwise sends the bureau back to the reviews page.
STATE_DEPENDENT = {("/reviews/new", "bureau"): {200, 302}}


def _pages() -> list[tuple[str, dict]]:
    """The pages without ids in their address, with the status the permission matrix gives each role."""
    pages = []
    for endpoint, case in sorted(CASES.items()):
        if case.method != "GET" or case.api or endpoint in ("static", "accounts.login"):
            continue
        try:
            url = case.url(None)
        except (AttributeError, TypeError, KeyError):
            continue  # the address holds an id of the matrix's world
        pages.append((url, case.expect))
    return pages


@pytest.mark.parametrize("who, role", [(demo.BUREAU_LOGIN[0], "bureau"), ("sec01", "secretary")])
def test_the_demo_logs_in_and_gets_its_pages(upgraded, who, role):
    from salon.schedule.models import Session

    app = upgraded["app"]
    client = app.test_client()
    password = demo.BUREAU_LOGIN[1] if role == "bureau" else demo.SECRETARY_PASSWORD
    assert client.post("/login", data={"username": who, "password": password}).status_code == 302
    with app.app_context():
        sessions = db.session.scalars(select(Session.id).order_by(Session.number)).all()
        db.session.remove()
    pages = [(url, expect[role]) for url, expect in _pages()]
    pages += [(f"/sessions/{sid}", 200) for sid in sessions]
    assert len(pages) > 20
    for url, status in pages:
        response = client.get(url)
        allowed = STATE_DEPENDENT.get((url, role), {status})
        assert response.status_code in allowed, f"{who} {url}: {response.status_code}"
    assert "景翼社区" in client.get("/communities").get_data(as_text=True)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("left", ["an open plain poll", "a pending scrub"])
def test_the_upgrade_stops_while_a_plain_poll_is_open_or_unscrubbed(backend, tmp_path, left, capfd):
    """0015 removes the plain path's storage: with a plain poll still open, or a closed one's scrub pending, it
    stops (`salon migrate` exits 1 with the message), naming the polls and what to do, and changes nothing; once
    they are dealt with, it goes through."""
    from flask_migrate import upgrade as upgrade_to

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    script = ScriptDirectory.from_config(config)
    no_plain = script.get_revision("0015_no_plain_polls")
    url = load_release(backend, tmp_path)
    app = create_app(base_config(url, str(tmp_path)))
    try:
        with app.app_context():
            upgrade_to(directory=MIGRATIONS, revision=no_plain.down_revision)
            with db.engine.begin() as conn:
                if left == "an open plain poll":
                    conn.execute(text("UPDATE ballot_polls SET state = 'OPEN' WHERE id = 10"))
                else:
                    conn.execute(text("INSERT INTO ballot_pending_scrubs (poll_id, programme_id) VALUES (10, 1)"))
            db.session.remove()
            with pytest.raises(SystemExit):
                upgrade_to(directory=MIGRATIONS)
            said = capfd.readouterr().err  # Flask-Migrate logs the migration's message and exits 1
            what = "still open" if left == "an open plain poll" else "still have their ballots in the database files"
            assert "cannot upgrade" in said and f"(ids 10): " in said and what in said and "Nothing was changed" in said
            db.session.remove()
            with db.engine.begin() as conn:
                assert conn.scalar(text("SELECT version_num FROM alembic_version")) == no_plain.down_revision
                assert conn.scalar(text("SELECT count(*) FROM ballot_pending_scrubs")) == (left == "a pending scrub")
                assert conn.scalar(text("SELECT max(counter_shards) FROM ballot_polls")) == 16
                conn.execute(text("UPDATE ballot_polls SET state = 'CLOSED' WHERE id = 10"))
                conn.execute(text("DELETE FROM ballot_pending_scrubs"))
            upgrade_to(directory=MIGRATIONS)
            db.session.remove()
            with db.engine.connect() as conn:
                assert conn.scalar(text("SELECT version_num FROM alembic_version")) == script.get_current_head()
            db.engine.dispose()
    finally:
        if backend == "postgresql":
            drop_postgres_database(url)
