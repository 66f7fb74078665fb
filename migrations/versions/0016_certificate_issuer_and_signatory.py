"""certificate issuer and signatory: settings row, copied onto each certificate

Revision ID: 0016
Revises: 0011
Create Date: 2026-12-20 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('certificate_issuer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_name', sa.String(length=200), nullable=False),
    sa.Column('signatory_name', sa.String(length=120), nullable=False),
    sa.Column('signatory_title', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['user_account.id'], name=op.f('fk_certificate_issuer_updated_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_issuer'))
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issuer_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('signatory_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('signatory_title', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_column('signatory_title')
        batch_op.drop_column('signatory_name')
        batch_op.drop_column('issuer_name')
    op.drop_table('certificate_issuer')
