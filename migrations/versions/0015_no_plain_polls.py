"""No plain polls: the plain ballot path's storage goes (SPEC §5.1)

Revision ID: 0015_no_plain_polls
Revises: 0013_trustee_complaints
Create Date: 2026-12-07 15:00:00

Every poll opens sealed since 0013. A poll opened plain before it kept live counts in counter shards
(`ballot_polls.counter_shards`) and, once closed, waited in `ballot_pending_scrubs` for its ballots to be erased
from the database files; this version no longer has the code for either. So the upgrade first checks that no plain
poll is open and no scrub is pending, and stops, changing nothing, if one is: close such polls and let `salon tick`
finish their scrub with the version installed, then upgrade. What closed plain polls published (their counts in
`ballot_counters`, their receipt codes in `ballot_receipts`) stays.

SQLite drops the column with ALTER TABLE … DROP COLUMN (SQLite 3.35 or later).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_no_plain_polls'
down_revision = '0013_trustee_complaints'
branch_labels = None
depends_on = None


class PlainPollsRemain(RuntimeError):
    """The upgrade would leave a plain poll open, or a closed one's ballots in the database files."""


def refuse_if_plain_polls_remain(conn) -> None:
    open_ids = conn.execute(sa.text(
        "SELECT id FROM ballot_polls WHERE state = 'OPEN' AND NOT sealed ORDER BY id")).scalars().all()
    pending = conn.execute(sa.text("SELECT poll_id FROM ballot_pending_scrubs ORDER BY poll_id")).scalars().all()
    problems = []
    if open_ids:
        problems.append(f"{len(open_ids)} poll(s) opened before sealed ballots are still open (ids "
                        f"{', '.join(map(str, open_ids))}): close them (by hand, or `salon tick` once their window "
                        f"has ended)")
    if pending:
        problems.append(f"{len(pending)} closed poll(s) still have their ballots in the database files (ids "
                        f"{', '.join(map(str, pending))}): run `salon tick` until it no longer says so")
    if problems:
        raise PlainPollsRemain("Salon cannot upgrade to 0015_no_plain_polls yet: " + "; ".join(problems)
                               + ". Do this with the version now installed, then upgrade again. Nothing was changed.")


def upgrade():
    refuse_if_plain_polls_remain(op.get_bind())
    with op.batch_alter_table('ballot_pending_scrubs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_pending_scrubs_programme_id'))
    op.drop_table('ballot_pending_scrubs')
    op.execute("ALTER TABLE ballot_polls DROP COLUMN counter_shards")


def downgrade():
    op.add_column('ballot_polls', sa.Column('counter_shards', sa.Integer(), nullable=False, server_default='1'))
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
