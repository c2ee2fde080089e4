"""Trustee terms, their trustees and the encrypted shares their devices relay (SPEC §5.1)

Revision ID: 0012_trustees
Revises: 0011_sealed_ballots
Create Date: 2026-12-07 04:10:00

New tables only. No secret is stored: the shares are encrypted by the dealer's device to the recipient's
transport key.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_trustees'
down_revision = '0011_sealed_ballots'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('trustee_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('committee_term_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=True),
    sa.Column('lot_entries', sa.JSON(), nullable=True),
    sa.Column('complaint', sa.JSON(), nullable=True),
    sa.Column('key_record', sa.JSON(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('ready_at', sa.DateTime(), nullable=True),
    sa.Column('ends_at', sa.DateTime(), nullable=True),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_trustee_terms_created_by_id_users')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_trustee_terms_programme_id_programmes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trustee_terms'))
    )
    with op.batch_alter_table('trustee_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trustee_terms_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_trustee_terms_committee_term_id'), ['committee_term_id'], unique=False)

    op.create_table('trustees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('index', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('seat_id', sa.Integer(), nullable=True),
    sa.Column('public_id', sa.String(length=80), nullable=False),
    sa.Column('transport_key', sa.String(length=66), nullable=True),
    sa.Column('commitments', sa.JSON(), nullable=True),
    sa.Column('proofs', sa.JSON(), nullable=True),
    sa.Column('dealt_at', sa.DateTime(), nullable=True),
    sa.Column('shared_at', sa.DateTime(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_trustees_programme_id_programmes')),
    sa.ForeignKeyConstraint(['term_id'], ['trustee_terms.id'], name=op.f('fk_trustees_term_id_trustee_terms')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_trustees_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trustees')),
    sa.UniqueConstraint('term_id', 'index', name=op.f('uq_trustees_term_id_index')),
    sa.UniqueConstraint('term_id', 'user_id', name=op.f('uq_trustees_term_id_user_id'))
    )
    with op.batch_alter_table('trustees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trustees_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_trustees_term_id'), ['term_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_trustees_user_id'), ['user_id'], unique=False)

    op.create_table('trustee_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.Column('dealer', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.Integer(), nullable=False),
    sa.Column('ciphertext', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['term_id'], ['trustee_terms.id'], name=op.f('fk_trustee_shares_term_id_trustee_terms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trustee_shares')),
    sa.UniqueConstraint('term_id', 'dealer', 'recipient', name=op.f('uq_trustee_shares_term_id'))
    )
    with op.batch_alter_table('trustee_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trustee_shares_term_id'), ['term_id'], unique=False)


def downgrade():
    with op.batch_alter_table('trustee_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trustee_shares_term_id'))
    op.drop_table('trustee_shares')
    with op.batch_alter_table('trustees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trustees_user_id'))
        batch_op.drop_index(batch_op.f('ix_trustees_term_id'))
        batch_op.drop_index(batch_op.f('ix_trustees_programme_id'))
    op.drop_table('trustees')
    with op.batch_alter_table('trustee_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trustee_terms_committee_term_id'))
        batch_op.drop_index(batch_op.f('ix_trustee_terms_programme_id'))
    op.drop_table('trustee_terms')
