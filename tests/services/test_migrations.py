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
