"""Migrations: an empty database upgraded to head has exactly the schema the models describe."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect

from salon import MIGRATIONS, create_app
from salon.extensions import db
from tests.conftest import BACKENDS, base_config, create_postgres_database, drop_postgres_database


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield "sqlite:///" + str(tmp_path / "migrated.sqlite")
    else:
        url = create_postgres_database("salon_migrate")
        yield url
        drop_postgres_database(url)


def test_upgrade_to_head_matches_the_models(empty_database, tmp_path):
    app = create_app(base_config(empty_database, str(tmp_path)))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        engine = create_engine(empty_database)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        engine.dispose()
        assert diff == [], f"models and migrations disagree: {diff}"


def test_downgrade_to_base_and_up_again(empty_database, tmp_path):
    app = create_app(base_config(empty_database, str(tmp_path)))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        downgrade(directory=MIGRATIONS, revision="base")
        engine = create_engine(empty_database)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        upgrade(directory=MIGRATIONS)


def test_ballot_tables_stay_without_rowid_on_sqlite(empty_database, tmp_path):
    """Migrations that rebuild a ballot table (SQLite's batch mode copies it) must keep it WITHOUT ROWID: a
    rowid would record who voted first (salon/ballots/__init__.py, SECRECY)."""
    if not empty_database.startswith("sqlite"):
        pytest.skip("WITHOUT ROWID is SQLite's")
    from sqlalchemy import text

    app = create_app(base_config(empty_database, str(tmp_path)))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        engine = create_engine(empty_database)
        with engine.connect() as conn:
            for table in ("ballot_voters", "ballot_receipts", "ballot_eligible_seats"):
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
