"""the committee through real life (SPEC §4.1): personal membership, deadline and term settings, decisions that
remember their term and reason, early and by-elections, the SHA-256 lot's public ids

Revision ID: 0009_committee_life
Revises: 0008_ballot_hot_rows
Create Date: 2026-12-06 22:10:00

committee_elections.term_id (a by-election's term) is a plain column: a foreign key would make SQLite's batch
mode rebuild committee_elections, which committee_terms and committee_candidates reference.
committee_members gets its own id (a by-election may seat the successor of a seat whose earlier holder sat in
the same term, so (term, seat) no longer names one place); the table is rebuilt and its rows copied, on both
databases. Existing decisions are backfilled: a committee decision gets the term of its picks and reason
"majority"; a bureau decision "bureau_sessions" for the programme's first sessions, "recall" when the last term
before it had been recalled, else "no_committee".
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_committee_life'
down_revision = '0008_ballot_hot_rows'
branch_labels = None
depends_on = None


def _members_table(name, with_life):
    columns = [sa.Column('id', sa.Integer(), nullable=False)] if with_life else []
    columns += [
        sa.Column('term_id', sa.Integer(), nullable=False),
        sa.Column('seat_id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
    ]
    if with_life:
        columns += [
            sa.Column('joined_at', sa.DateTime(), nullable=True),
            sa.Column('joined_how', sa.String(length=16), nullable=False, server_default='elected'),
            sa.Column('replaces_id', sa.Integer(), nullable=True),
            sa.Column('left_at', sa.DateTime(), nullable=True),
            sa.Column('left_reason', sa.String(length=16), nullable=True),
            sa.ForeignKeyConstraint(['replaces_id'], ['committee_members.id'],
                                    name='fk_committee_members_replaces_id_committee_members'),
            sa.PrimaryKeyConstraint('id', name='pk_committee_members'),
        ]
    else:
        columns.append(sa.PrimaryKeyConstraint('term_id', 'seat_id', name='pk_committee_members'))
    columns += [
        sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name='fk_committee_members_programme_id_programmes'),
        sa.ForeignKeyConstraint(['seat_id'], ['seats.id'], name='fk_committee_members_seat_id_seats'),
        sa.ForeignKeyConstraint(['term_id'], ['committee_terms.id'], name='fk_committee_members_term_id_committee_terms'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_committee_members_user_id_users'),
    ]
    op.create_table(name, *columns)


def _rebuild_members(with_life):
    """Rename the old table away, free its index and key names, create the new one, copy, drop the old."""
    op.rename_table('committee_members', 'committee_members_old')
    op.drop_index('ix_committee_members_programme_id', table_name='committee_members_old')
    if with_life is False:
        op.drop_index('ix_committee_members_term_id', table_name='committee_members_old')
    if op.get_bind().dialect.name == 'postgresql':
        if not with_life:
            op.execute('ALTER TABLE committee_members_old '
                       'DROP CONSTRAINT fk_committee_members_replaces_id_committee_members')
        op.execute('ALTER TABLE committee_members_old DROP CONSTRAINT pk_committee_members')
    _members_table('committee_members', with_life)
    op.create_index('ix_committee_members_programme_id', 'committee_members', ['programme_id'], unique=False)
    if with_life:
        op.create_index('ix_committee_members_term_id', 'committee_members', ['term_id'], unique=False)
        op.execute('INSERT INTO committee_members (term_id, seat_id, programme_id, user_id, joined_how) '
                   "SELECT term_id, seat_id, programme_id, user_id, 'elected' FROM committee_members_old "
                   'ORDER BY term_id, seat_id')
    else:
        # Going back keeps one row per (term, seat): the latest.
        op.execute('INSERT INTO committee_members (term_id, seat_id, programme_id, user_id) '
                   'SELECT term_id, seat_id, programme_id, user_id FROM committee_members_old m '
                   'WHERE m.id = (SELECT MAX(o.id) FROM committee_members_old o '
                   'WHERE o.term_id = m.term_id AND o.seat_id = m.seat_id)')
    op.drop_table('committee_members_old')


def _backfill_decisions():
    bind = op.get_bind()
    decisions = sa.table('topic_decisions', sa.column('id'), sa.column('session_id'), sa.column('programme_id'),
                         sa.column('decider'), sa.column('decided_at'), sa.column('term_id'), sa.column('reason'))
    picks = sa.table('committee_picks', sa.column('session_id'), sa.column('term_id'), sa.column('id'))
    sessions = sa.table('salon_sessions', sa.column('id'), sa.column('number'))
    programmes = sa.table('programmes', sa.column('id'), sa.column('bureau_sessions'))
    terms = sa.table('committee_terms', sa.column('programme_id'), sa.column('started_at'),
                     sa.column('ended_at'), sa.column('end_reason'))
    rows = bind.execute(sa.select(decisions.c.id, decisions.c.session_id, decisions.c.programme_id,
                                  decisions.c.decider, decisions.c.decided_at)).all()
    first = dict(bind.execute(sa.select(programmes.c.id, programmes.c.bureau_sessions)).all())
    numbers = dict(bind.execute(sa.select(sessions.c.id, sessions.c.number)).all())
    for row in rows:
        if row.decider == 'committee':
            term_id = bind.scalar(sa.select(picks.c.term_id).where(picks.c.session_id == row.session_id)
                                  .order_by(picks.c.id.desc()).limit(1))
            values = {'term_id': term_id, 'reason': 'majority'}
        elif (numbers.get(row.session_id) or 0) <= first.get(row.programme_id, 0):
            values = {'reason': 'bureau_sessions'}
        else:
            last = bind.execute(sa.select(terms.c.ended_at, terms.c.end_reason).where(
                terms.c.programme_id == row.programme_id, terms.c.started_at <= row.decided_at)
                .order_by(terms.c.started_at.desc()).limit(1)).first()
            recalled = last is not None and last.end_reason == 'recalled' and last.ended_at is not None \
                and last.ended_at <= row.decided_at
            values = {'reason': 'recall' if recalled else 'no_committee'}
        bind.execute(decisions.update().where(decisions.c.id == row.id).values(**values))


def upgrade():
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_deadline_days', sa.Integer(), nullable=False, server_default='3'))
        batch_op.add_column(sa.Column('committee_term_months', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('committee_terms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ends_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('committee_elections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('term_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lot_entries', sa.JSON(), nullable=True))

    with op.batch_alter_table('topic_decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('term_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.String(length=16), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_topic_decisions_term_id'), ['term_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_topic_decisions_term_id_committee_terms'),
                                    'committee_terms', ['term_id'], ['id'])

    _rebuild_members(True)
    _backfill_decisions()


def downgrade():
    _rebuild_members(False)

    with op.batch_alter_table('topic_decisions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_topic_decisions_term_id_committee_terms'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_topic_decisions_term_id'))
        batch_op.drop_column('reason')
        batch_op.drop_column('term_id')

    # Plain DROP COLUMN (SQLite 3.35+): batch mode would rebuild these tables, which others reference.
    for table, column in (('committee_elections', 'lot_entries'), ('committee_elections', 'term_id'),
                          ('committee_elections', 'note'), ('committee_terms', 'ends_at')):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')

    for column in ('committee_term_months', 'decision_deadline_days'):
        op.execute(f'ALTER TABLE programmes DROP COLUMN {column}')
