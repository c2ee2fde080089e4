"""ballots: closed polls whose data files are still to be rewritten

Revision ID: 0005_scrub
Revises: 0004_topics
Create Date: 2026-11-23 14:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005_scrub'
down_revision = '0004_topics'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ballot_pending_scrubs',
    sa.Column('poll_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('closed_xid', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['poll_id'], ['ballot_polls.id'], name=op.f('fk_ballot_pending_scrubs_poll_id_ballot_polls')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_ballot_pending_scrubs_programme_id_programmes')),
    sa.PrimaryKeyConstraint('poll_id', name=op.f('pk_ballot_pending_scrubs'))
    )
    with op.batch_alter_table('ballot_pending_scrubs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_pending_scrubs_programme_id'), ['programme_id'], unique=False)


def downgrade():
    with op.batch_alter_table('ballot_pending_scrubs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_pending_scrubs_programme_id'))

    op.drop_table('ballot_pending_scrubs')
