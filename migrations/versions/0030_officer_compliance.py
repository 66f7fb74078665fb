"""compliance summed up per officer, and indexes for the dashboard's reads

Revision ID: 0030
Revises: 0031
Create Date: 2026-12-03 07:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import orm


revision = '0030'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('officer_compliance',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('assignments', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.Column('compliant_until', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_officer_compliance_agency_id_agency')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_officer_compliance_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_officer_compliance'))
    )
    with op.batch_alter_table('officer_compliance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officer_compliance_agency_id'), ['agency_id'], unique=False)

    with op.batch_alter_table('compliance_tally', schema=None) as batch_op:
        batch_op.create_index('ix_compliance_tally_course', ['agency_id', 'course_id', 'state', 'day', 'unit_key', 'delta'], unique=False)

    with op.batch_alter_table('compliance_state', schema=None) as batch_op:
        batch_op.create_index('ix_compliance_state_expiry', ['agency_id', 'expires_on', 'officer_name', 'user_id', 'course_id'], unique=False)

    # Fill the summaries and their tally steps from the data already there: the state table,
    # its tally and the summaries, all recomputed (the same code as `flask compliance rebuild`).
    from learning.agency.compliance_events import window_days
    from learning.agency.compliance_state import rebuild

    # Core statements on the migration's own connection and transaction; never closed, so
    # nothing rolls the migration back.
    rebuild(orm.Session(bind=op.get_bind()), window_days())


def downgrade():
    with op.batch_alter_table('compliance_state', schema=None) as batch_op:
        batch_op.drop_index('ix_compliance_state_expiry')

    with op.batch_alter_table('compliance_tally', schema=None) as batch_op:
        batch_op.drop_index('ix_compliance_tally_course')

    with op.batch_alter_table('officer_compliance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_officer_compliance_agency_id'))

    op.drop_table('officer_compliance')
    # The tally's officer steps (course 0) outlive the table; drop them with it.
    op.execute("DELETE FROM compliance_tally WHERE course_id = 0")
