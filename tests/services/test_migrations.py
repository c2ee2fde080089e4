"""Migrations, on every database: pytest-alembic's checks on the revisions in migrations/ (one head; an empty
database upgraded to head; every revision up one at a time, down again and up again; the models match the
migrated schema), and the ballot tables' shape."""
import os

import pytest
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from salon import MIGRATIONS, create_app
from salon.extensions import db
from tests.conftest import BACKENDS, base_config, create_postgres_database, drop_postgres_database

# pytest collects the imported checks here, each run once per database by the fixtures below.
__all__ = ["test_single_head_revision", "test_upgrade", "test_up_down_consistency",
           "test_model_definitions_match_ddl"]


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield "sqlite:///" + str(tmp_path / "migrated.sqlite")
    else:
        url = create_postgres_database("salon_migrate")
        yield url
        drop_postgres_database(url)


@pytest.fixture
def migrating_app(empty_database, tmp_path):
    """The app on the empty database, in an app context: Flask-Migrate's env.py migrates the app's own engine
    (it reads current_app), so pytest-alembic is handed that same engine below."""
    app = create_app(base_config(empty_database, str(tmp_path)))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def alembic_config(migrating_app):
    return {"file": os.path.join(MIGRATIONS, "alembic.ini"), "script_location": MIGRATIONS}


@pytest.fixture
def alembic_engine(migrating_app):
    return db.engine


def test_ballot_tables_stay_without_rowid_on_sqlite(empty_database, tmp_path):
    """Migrations that rebuild a ballot table (SQLite's batch mode copies it) must keep it WITHOUT ROWID: a
    rowid would record who voted first (salon/ballots/__init__.py, SECRECY)."""
    if not empty_database.startswith("sqlite"):
        pytest.skip("WITHOUT ROWID is SQLite's")

    app = create_app(base_config(empty_database, str(tmp_path)))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        engine = create_engine(empty_database)
        with engine.connect() as conn:
            for table in ("ballot_voters", "ballot_receipts", "ballot_eligible_seats", "ballot_sealed",
                          "ballot_sealed_alphas"):
                sql = conn.scalar(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table})
                assert "WITHOUT ROWID" in sql, table
            foreign = {(t, fk["referred_table"]) for t in ("ballot_voters", "ballot_receipts")
                       for fk in inspect(conn).get_foreign_keys(t)}
        engine.dispose()
        assert foreign == {("ballot_voters", "seats")}


def test_0009_upgrades_the_demo_without_loss(empty_database, tmp_path, monkeypatch):
    """The demo's data down to 0008 and up again through 0009_committee_life: every member and decision kept;
    decisions backfilled with their term (from the picks) and reason (SPEC §4.1)."""
    from datetime import datetime

    from sqlalchemy import text

    from salon import clock, demo

    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2026, 11, 21, 2))
    app = create_app(base_config(empty_database, str(tmp_path)))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        with app.test_request_context():
            demo.load()
            db.session.commit()
        db.session.remove()
        engine = create_engine(empty_database)

        def snapshot():
            with engine.connect() as conn:
                return (conn.execute(text("SELECT term_id, seat_id, user_id FROM committee_members "
                                          "ORDER BY term_id, seat_id")).all(),
                        conn.execute(text("SELECT d.session_id, d.decider, d.nomination_id, d.term_id, d.reason, "
                                          "s.number FROM topic_decisions d JOIN salon_sessions s "
                                          "ON s.id = d.session_id ORDER BY d.session_id")).all())

        members, decisions = snapshot()
        downgrade(directory=MIGRATIONS, revision="0008_ballot_hot_rows")
        upgrade(directory=MIGRATIONS)
        after_members, after_decisions = snapshot()
        engine.dispose()
    assert members and after_members == members
    assert [d[:3] for d in after_decisions] == [d[:3] for d in decisions] and len(decisions) >= 10
    for session_id, decider, _n, term_id, reason, number in after_decisions:
        if decider == "committee":
            assert term_id is not None and reason == "majority"
        else:
            assert term_id is None and reason == ("bureau_sessions" if number <= 3 else "no_committee")


def demo_at_revision(url, tmp_path, monkeypatch, revision):
    """The demo loaded at head on the empty database (as of 2026-11-21), then the schema taken down to `revision`,
    for a test of the way up from there. Answers the app."""
    from datetime import datetime

    from salon import clock, demo

    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2026, 11, 21, 2))
    app = create_app(base_config(url, str(tmp_path)))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        with app.test_request_context():
            demo.load()
            db.session.commit()
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision=revision)
    return app


def test_0013_keeps_a_complaint_made_before_evidence_as_restarted(empty_database, tmp_path, monkeypatch):
    """A term's last complaint (trustee_terms.complaint, before complaints carried evidence) becomes a row of
    trustee_complaints with the verdict "restarted" on the way up through 0013_trustee_complaints."""
    import json

    app = demo_at_revision(empty_database, tmp_path, monkeypatch, "0012_trustees")
    with app.app_context():
        engine = create_engine(empty_database)
        with engine.begin() as conn:
            term_id = conn.execute(text("SELECT min(id) FROM trustee_terms")).scalar()
            conn.execute(text("UPDATE trustee_terms SET complaint = :c WHERE id = :t"),
                         {"c": json.dumps({"round": 1, "by": 3, "against": 2}), "t": term_id})
        upgrade(directory=MIGRATIONS)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT term_id, round, by, against, verdict FROM trustee_complaints")).all()
            columns = {c["name"] for c in inspect(conn).get_columns("trustee_terms")}
        engine.dispose()
    assert [tuple(r) for r in rows] == [(term_id, 1, 3, 2, "restarted")]
    assert "complaint" not in columns


def test_0016_gives_a_ceremony_under_way_a_full_step_and_calls_earlier_drops_complaints(empty_database, tmp_path,
                                                                                       monkeypatch):
    """On the way up through 0016_trustee_deadlines: a term in the middle of its ceremony gets a deadline a full
    step after the upgrade (nobody is dropped by a deadline they could not see); a ready one gets none; a trustee
    dropped before the revision was dropped by an upheld complaint."""
    from datetime import datetime, timedelta, timezone

    from salon.rules import trustees as rules

    app = demo_at_revision(empty_database, tmp_path, monkeypatch, "0013_trustee_complaints")
    with app.app_context():
        engine = create_engine(empty_database)
        with engine.begin() as conn:
            under_way, ready = conn.execute(text("SELECT min(id), max(id) FROM trustee_terms")).one()
            conn.execute(text("UPDATE trustee_terms SET state = 'sharing' WHERE id = :t"), {"t": under_way})
            conn.execute(text("UPDATE trustees SET dropped_at = :d WHERE term_id = :t AND \"index\" = 4"),
                         {"d": datetime(2026, 11, 20), "t": under_way})
        before = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        upgrade(directory=MIGRATIONS)
        after = datetime.now(timezone.utc).replace(tzinfo=None)
        with engine.connect() as conn:
            deadlines = {i: d if d is None or isinstance(d, datetime) else datetime.fromisoformat(d)
                         for i, d in conn.execute(text("SELECT id, deadline FROM trustee_terms")).all()}
            dropped = conn.execute(text("SELECT \"index\", dropped_for, missed_step FROM trustees "
                                        "WHERE dropped_at IS NOT NULL")).all()
        engine.dispose()
    step = timedelta(days=rules.STEP_DAYS)
    assert before + step <= deadlines[under_way] <= after + step
    assert deadlines[ready] is None
    assert [tuple(r) for r in dropped] == [(4, "complaint", None)]


def test_0017_makes_every_sealed_poll_opened_before_it_of_protocol_1(empty_database, tmp_path, monkeypatch):
    """Sealed polls opened before 0017_sealed_protocol_2 stay version 1 (no blank position); the demo loaded at
    head opens version 2 polls."""
    from datetime import datetime

    from salon import clock, demo

    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2026, 11, 21, 2))
    app = create_app(base_config(empty_database, str(tmp_path)))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        with app.test_request_context():
            demo.load()
            db.session.commit()
        db.session.remove()
        engine = create_engine(empty_database)
        with engine.connect() as conn:
            at_head = set(conn.execute(text("SELECT protocol FROM ballot_poll_keys")).scalars())
        downgrade(directory=MIGRATIONS, revision="0016_trustee_deadlines")
        with engine.connect() as conn:
            assert "protocol" not in {c["name"] for c in inspect(conn).get_columns("ballot_poll_keys")}
        upgrade(directory=MIGRATIONS)
        with engine.connect() as conn:
            after = conn.execute(text("SELECT protocol FROM ballot_poll_keys")).scalars().all()
        engine.dispose()
    assert at_head == {2} and after and set(after) == {1}
