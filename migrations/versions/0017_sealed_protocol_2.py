"""Sealed polls keep their protocol version: approval questions count blank ballots from salon-sealed-2 on

Revision ID: 0017_sealed_protocol_2
Revises: 0016_trustee_deadlines
Create Date: 2026-12-07 15:00:00

`ballot_poll_keys.protocol`: every sealed poll opened before this revision is of version 1 (its seal spec,
ballots, tally, decryption and board stay so until it is closed and published); polls opened from now on are
of version 2 (docs/sealed-ballots.md, "Versions"). Nothing else changes: a poll's version is fixed at its opening.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_sealed_protocol_2'
down_revision = '0016_trustee_deadlines'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ballot_poll_keys') as batch:
        batch.add_column(sa.Column('protocol', sa.Integer(), nullable=False, server_default='1'))


def downgrade():
    with op.batch_alter_table('ballot_poll_keys') as batch:
        batch.drop_column('protocol')
