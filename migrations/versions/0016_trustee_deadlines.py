"""Deadlines of the trustees' key ceremony: a term's current step ends at `deadline`, and a trustee dropped from
a ceremony says why (SPEC §5.1)

Revision ID: 0016_trustee_deadlines
Revises: 0015_no_plain_polls
Create Date: 2026-12-07 15:00:00

`trustee_terms.deadline`: when the current step (dealing, sharing, checking) ends; the trustees who have not done
it by then are dropped. A term in the middle of its ceremony at the upgrade gets a full step from the upgrade
(nobody is dropped by a deadline they could not see). `trustees.dropped_for` ("complaint" or "deadline") and
`trustees.missed_step`: those dropped before this revision were dropped by an upheld complaint.
"""
from datetime import datetime, timedelta, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_trustee_deadlines'
down_revision = '0015_no_plain_polls'
branch_labels = None
depends_on = None

# salon.rules.trustees.STEP_DAYS when this revision was written (a migration does not import the application).
STEP_DAYS = 3


def upgrade():
    # Plain ALTER TABLE … ADD/DROP COLUMN on both databases (SQLite 3.35 and later), as in 0013: SQLite's batch
    # mode would rebuild trustee_terms, which other tables reference.
    op.add_column('trustee_terms', sa.Column('deadline', sa.DateTime(), nullable=True))
    op.add_column('trustees', sa.Column('dropped_for', sa.String(length=16), nullable=True))
    op.add_column('trustees', sa.Column('missed_step', sa.String(length=16), nullable=True))

    terms = sa.table('trustee_terms', sa.column('state', sa.String()), sa.column('deadline', sa.DateTime()))
    trustees = sa.table('trustees', sa.column('dropped_at', sa.DateTime()), sa.column('dropped_for', sa.String()))
    deadline = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0) + timedelta(days=STEP_DAYS)
    op.execute(terms.update().where(terms.c.state.in_(('dealing', 'sharing', 'checking')))
               .values(deadline=deadline))
    op.execute(trustees.update().where(trustees.c.dropped_at.is_not(None)).values(dropped_for='complaint'))


def downgrade():
    op.drop_column('trustees', 'missed_step')
    op.drop_column('trustees', 'dropped_for')
    op.drop_column('trustee_terms', 'deadline')
