"""time zones: each agency has one (default UTC), each user may choose their own

Revision ID: 0017
Revises: 0023
Create Date: 2026-12-22 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), server_default='UTC',
                                      nullable=False))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
