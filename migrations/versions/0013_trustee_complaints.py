"""Complaints in the trustees' key ceremony, decided by evidence; trustees dropped from a ceremony (SPEC §5.1)

Revision ID: 0013_trustee_complaints
Revises: 0012_trustees
Create Date: 2026-12-08 10:00:00

A new table of complaints with their evidence and verdict, and a trustee's `dropped_at`. The term's last
complaint (`trustee_terms.complaint`, made before complaints carried evidence) moves into the new table with the
verdict "restarted" (what such a complaint did then) and no evidence; the column goes.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_trustee_complaints'
down_revision = '0012_trustees'
branch_labels = None
depends_on = None


def upgrade():
    complaints = op.create_table('trustee_complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('by', sa.Integer(), nullable=False),
    sa.Column('against', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['term_id'], ['trustee_terms.id'],
                            name=op.f('fk_trustee_complaints_term_id_trustee_terms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trustee_complaints')),
    sa.UniqueConstraint('term_id', 'round', 'by', 'against', name=op.f('uq_trustee_complaints_term_id'))
    )
    with op.batch_alter_table('trustee_complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trustee_complaints_term_id'), ['term_id'], unique=False)
    with op.batch_alter_table('trustees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dropped_at', sa.DateTime(), nullable=True))

    terms = sa.table('trustee_terms', sa.column('id', sa.Integer()), sa.column('complaint', sa.JSON()),
                     sa.column('started_at', sa.DateTime()), sa.column('created_at', sa.DateTime()))
    connection = op.get_bind()
    old = connection.execute(sa.select(terms.c.id, terms.c.complaint, terms.c.started_at, terms.c.created_at)
                             .where(terms.c.complaint.is_not(None)).order_by(terms.c.id)).all()
    rows = [{"term_id": term_id, "round": c["round"], "by": c["by"], "against": c["against"],
             "verdict": "restarted", "reason": "restarted", "evidence": {}, "created_at": started or created}
            for term_id, c, started, created in old if isinstance(c, dict)]
    if rows:
        op.bulk_insert(complaints, rows)
    # A plain ALTER TABLE … DROP COLUMN on both databases (SQLite 3.35 and later): SQLite's batch mode would
    # rebuild trustee_terms, which three tables reference.
    op.drop_column('trustee_terms', 'complaint')


def downgrade():
    with op.batch_alter_table('trustee_terms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('complaint', sa.JSON(), nullable=True))
    with op.batch_alter_table('trustees', schema=None) as batch_op:
        batch_op.drop_column('dropped_at')
    with op.batch_alter_table('trustee_complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trustee_complaints_term_id'))
    op.drop_table('trustee_complaints')
