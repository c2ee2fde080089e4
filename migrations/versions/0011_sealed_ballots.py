"""Sealed ballots (SPEC §5.1): a poll's trustee key, its sealed ballots, the encrypted tally and decryptions

Revision ID: 0011_sealed_ballots
Revises: 0010_review_scope
Create Date: 2026-12-07 04:10:00

ballot_polls.sealed marks a poll opened with a trustee key. ballot_poll_keys keeps that key's public record (a
snapshot for the poll's life), the encrypted tally computed at the close and when the counts were combined.
ballot_sealed holds each sealed ballot by its fingerprint, with no seat, time or surrogate id (WITHOUT ROWID on
SQLite, like ballot_voters); ballot_sealed_alphas keeps each ciphertext once per poll, so a copied answer is
refused; ballot_decryptions holds each trustee's proven factors.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_sealed_ballots'
down_revision = '0010_review_scope'
branch_labels = None
depends_on = None


def upgrade():
    # ADD COLUMN in place (a batch rebuild of ballot_polls fails once other tables' rows point at it).
    op.add_column('ballot_polls', sa.Column('sealed', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table('ballot_poll_keys',
    sa.Column('poll_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=64), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.Column('trustees', sa.JSON(), nullable=False),
    sa.Column('tally', sa.JSON(), nullable=True),
    sa.Column('counted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['poll_id'], ['ballot_polls.id'], name=op.f('fk_ballot_poll_keys_poll_id_ballot_polls')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'],
                            name=op.f('fk_ballot_poll_keys_programme_id_programmes')),
    sa.PrimaryKeyConstraint('poll_id', name=op.f('pk_ballot_poll_keys'))
    )
    with op.batch_alter_table('ballot_poll_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_poll_keys_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ballot_poll_keys_term'), ['term'], unique=False)

    op.create_table('ballot_sealed',
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('ballot', sa.Text(), nullable=False),
    sa.Column('sealed_by', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('poll_id', 'fingerprint', name=op.f('pk_ballot_sealed')),
    sqlite_with_rowid=False
    )
    op.create_table('ballot_sealed_alphas',
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('alpha', sa.String(length=66), nullable=False),
    sa.PrimaryKeyConstraint('poll_id', 'alpha', name=op.f('pk_ballot_sealed_alphas')),
    sqlite_with_rowid=False
    )
    op.create_table('ballot_decryptions',
    sa.Column('poll_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('trustee', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('factors', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['poll_id'], ['ballot_polls.id'], name=op.f('fk_ballot_decryptions_poll_id_ballot_polls')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'],
                            name=op.f('fk_ballot_decryptions_programme_id_programmes')),
    sa.PrimaryKeyConstraint('poll_id', 'trustee', name=op.f('pk_ballot_decryptions'))
    )
    with op.batch_alter_table('ballot_decryptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_decryptions_programme_id'), ['programme_id'], unique=False)


def downgrade():
    with op.batch_alter_table('ballot_decryptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_decryptions_programme_id'))
    op.drop_table('ballot_decryptions')
    op.drop_table('ballot_sealed_alphas')
    op.drop_table('ballot_sealed')
    with op.batch_alter_table('ballot_poll_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_poll_keys_term'))
        batch_op.drop_index(batch_op.f('ix_ballot_poll_keys_programme_id'))
    op.drop_table('ballot_poll_keys')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE ballot_polls DROP COLUMN sealed")
    else:
        op.drop_column('ballot_polls', 'sealed')
