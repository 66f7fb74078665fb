"""course versions: one content hash may be published twice (rollback); pending zip imports

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-02 07:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0018'  # 0016 on its own; chained after the merged publish branch
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('course_version', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_course_version_course_id_content_hash'),
                                 type_='unique')
    op.create_table('pending_course_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=False),
    sa.Column('course_slug', sa.String(length=100), nullable=False),
    sa.Column('base_version_id', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['base_version_id'], ['course_version.id'], name=op.f('fk_pending_course_import_base_version_id_course_version')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['user_account.id'], name=op.f('fk_pending_course_import_uploaded_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_course_import'))
    )
    with op.batch_alter_table('pending_course_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_course_import_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_course_import_uploaded_by'), ['uploaded_by'], unique=False)


def downgrade():
    with op.batch_alter_table('pending_course_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_course_import_uploaded_by'))
        batch_op.drop_index(batch_op.f('ix_pending_course_import_created_at'))
    op.drop_table('pending_course_import')
    with op.batch_alter_table('course_version', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_course_version_course_id_content_hash'),
                                          ['course_id', 'content_hash'])
