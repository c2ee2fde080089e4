"""A review's topics fixed when it opens, and an early review's reason (SPEC §4.1)

Revision ID: 0010_review_scope
Revises: 0009_committee_life
Create Date: 2026-12-06 22:10:00

review_topics holds what each review covers: the topics it judges (those the term's committee decided) and
those listed apart (decided by the bureau or by another committee). Reviews opened before this revision judged
exactly their ballot's topic questions; those are copied in, so the demo's reviews keep their list.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_review_scope'
down_revision = '0009_committee_life'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('early_reason', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.alter_column('early_reason', server_default=None)

    op.create_table('review_topics',
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('judged', sa.Boolean(), nullable=False),
    sa.Column('decided_by', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_review_topics_programme_id_programmes')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_review_topics_review_id_reviews')),
    sa.ForeignKeyConstraint(['session_id'], ['salon_sessions.id'], name=op.f('fk_review_topics_session_id_salon_sessions')),
    sa.PrimaryKeyConstraint('review_id', 'session_id', name=op.f('pk_review_topics'))
    )
    with op.batch_alter_table('review_topics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_topics_programme_id'), ['programme_id'], unique=False)

    op.execute(sa.text(
        "INSERT INTO review_topics (review_id, session_id, programme_id, judged, decided_by) "
        "SELECT DISTINCT r.id, q.ref_id, r.programme_id, :judged, 'committee' FROM reviews r "
        "JOIN ballot_questions q ON q.poll_id = r.poll_id "
        "JOIN salon_sessions s ON s.id = q.ref_id "
        "WHERE q.ref_id IS NOT NULL").bindparams(judged=True))


def downgrade():
    with op.batch_alter_table('review_topics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_topics_programme_id'))
    op.drop_table('review_topics')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('early_reason')
