"""publishing: lesson reading hash and change notes, version origin, recertification

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-02 07:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('course_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=12), nullable=False,
                                      server_default='files'))
        batch_op.add_column(sa.Column('based_on_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('published_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('significance', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('recertify', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_foreign_key(op.f('fk_course_version_published_by_user_account'),
                                    'user_account', ['published_by'], ['id'])
    with op.batch_alter_table('course_lesson', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reading_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('change_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('changed_passages', sa.JSON(), nullable=True))
    # Until now progress compared the file hash: it is the reading hash of every stored lesson.
    op.execute("UPDATE course_lesson SET reading_hash = content_hash")
    with op.batch_alter_table('course_lesson', schema=None) as batch_op:
        batch_op.alter_column('reading_hash', existing_type=sa.String(length=64), nullable=False)
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recertify_by', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_column('recertify_by')
    with op.batch_alter_table('course_lesson', schema=None) as batch_op:
        batch_op.drop_column('changed_passages')
        batch_op.drop_column('change_note')
        batch_op.drop_column('reading_hash')
    with op.batch_alter_table('course_version', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_course_version_published_by_user_account'),
                                 type_='foreignkey')
        batch_op.drop_column('recertify')
        batch_op.drop_column('significance')
        batch_op.drop_column('published_by')
        batch_op.drop_column('based_on_hash')
        batch_op.drop_column('origin')
