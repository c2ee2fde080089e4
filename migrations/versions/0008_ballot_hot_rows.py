"""ballot_voters and ballot_receipts without foreign keys to ballot_polls and programmes

Revision ID: 0008_ballot_hot_rows
Revises: 0007_committee
Create Date: 2026-12-04 18:40:00

Every ballot inserts a row into each table; checking these foreign keys took FOR KEY SHARE on the poll's and
the programme's rows, shared by every ballot in flight, which PostgreSQL turns into MultiXacts (issue 10).
The columns and keys stay; what keeps the ids right is written in salon/ballots/models.py. The tables stay
WITHOUT ROWID on SQLite (their secrecy depends on it: salon/ballots/__init__.py), which batch mode's copy is
told explicitly.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008_ballot_hot_rows'
down_revision = '0007_committee'
branch_labels = None
depends_on = None

TABLES = ('ballot_voters', 'ballot_receipts')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None, table_kwargs={'sqlite_with_rowid': False}) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_poll_id_ballot_polls'), type_='foreignkey')
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_programme_id_programmes'), type_='foreignkey')


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None, table_kwargs={'sqlite_with_rowid': False}) as batch_op:
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_poll_id_ballot_polls'), 'ballot_polls',
                                        ['poll_id'], ['id'])
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_programme_id_programmes'), 'programmes',
                                        ['programme_id'], ['id'])
