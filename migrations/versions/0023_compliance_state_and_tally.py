"""compliance state kept current: one row per (officer, assignment), and the unit tally

Revision ID: 0023
Revises: 0025
Create Date: 2026-12-02 07:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('compliance_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('unit_name', sa.String(length=200), nullable=False),
    sa.Column('officer_name', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('started', sa.Boolean(), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('score', sa.Double(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('next_due', sa.Date(), nullable=True),
    sa.Column('watch_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_compliance_state_agency_id_agency')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_compliance_state_assignment_id_assignment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_compliance_state_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compliance_state')),
    sa.UniqueConstraint('assignment_id', 'user_id', name=op.f('uq_compliance_state_assignment_id_user_id'))
    )
    with op.batch_alter_table('compliance_state', schema=None) as batch_op:
        batch_op.create_index('ix_compliance_state_order', ['agency_id', 'unit_name', 'officer_name', 'user_id'], unique=False)
        batch_op.create_index('ix_compliance_state_unit', ['agency_id', 'unit_id', 'officer_name', 'user_id'], unique=False)
        batch_op.create_index('ix_compliance_state_user', ['user_id', 'course_id'], unique=False)

    op.create_table('compliance_tally',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('unit_key', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_compliance_tally_agency_id_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compliance_tally')),
    sa.UniqueConstraint('agency_id', 'day', 'unit_key', 'course_id', 'state', name=op.f('uq_compliance_tally_agency_id_day_unit_key_course_id_state'))
    )

    # Filled from the data already there by 0030 (officer_compliance), with every table the
    # current `flask compliance rebuild` writes; some do not exist yet at this revision.


def downgrade():
    op.drop_table('compliance_tally')
    with op.batch_alter_table('compliance_state', schema=None) as batch_op:
        batch_op.drop_index('ix_compliance_state_user')
        batch_op.drop_index('ix_compliance_state_unit')
        batch_op.drop_index('ix_compliance_state_order')
    op.drop_table('compliance_state')
