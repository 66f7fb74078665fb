"""monthly compliance snapshots for the dashboard's trend

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02 08:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('compliance_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('unit_key', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('compliant', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_compliance_snapshot_agency_id_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compliance_snapshot')),
    sa.UniqueConstraint('agency_id', 'month', 'unit_key', name=op.f('uq_compliance_snapshot_agency_id_month_unit_key'))
    )


def downgrade():
    op.drop_table('compliance_snapshot')
