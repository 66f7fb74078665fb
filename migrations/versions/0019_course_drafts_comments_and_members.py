"""course drafts written in the browser, review comments, and course owners and editors

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-21 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0017'
branch_labels = None
depends_on = None

OPEN = sa.text("state IN ('draft', 'in_review', 'approved')")


def upgrade():
    op.create_table('course_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_slug', sa.String(length=100), nullable=False),
    sa.Column('base_version_id', sa.Integer(), nullable=True),
    sa.Column('base_hash', sa.String(length=64), nullable=True),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('assets', sa.JSON(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('contributors', sa.JSON(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('published_version_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("state IN ('draft', 'in_review', 'approved', 'published', 'withdrawn')", name=op.f('ck_course_draft_state')),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_course_draft_author_id_user_account')),
    sa.ForeignKeyConstraint(['base_version_id'], ['course_version.id'], name=op.f('fk_course_draft_base_version_id_course_version')),
    sa.ForeignKeyConstraint(['published_version_id'], ['course_version.id'], name=op.f('fk_course_draft_published_version_id_course_version')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['user_account.id'], name=op.f('fk_course_draft_reviewer_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_draft'))
    )
    with op.batch_alter_table('course_draft', schema=None) as batch_op:
        batch_op.create_index('uq_course_draft_one_open', ['course_slug'], unique=True, sqlite_where=OPEN, postgresql_where=OPEN)

    op.create_table('draft_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_draft_comment_author_id_user_account')),
    sa.ForeignKeyConstraint(['draft_id'], ['course_draft.id'], name=op.f('fk_draft_comment_draft_id_course_draft')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draft_comment'))
    )
    with op.batch_alter_table('draft_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draft_comment_draft_id'), ['draft_id'], unique=False)

    op.create_table('course_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_slug', sa.String(length=100), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('granted_by', sa.Integer(), nullable=True),
    sa.Column('granted_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("role IN ('owner', 'editor')", name=op.f('ck_course_member_role')),
    sa.ForeignKeyConstraint(['granted_by'], ['user_account.id'], name=op.f('fk_course_member_granted_by_user_account')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_course_member_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_member')),
    sa.UniqueConstraint('course_slug', 'user_id', name=op.f('uq_course_member_course_slug_user_id'))
    )
    with op.batch_alter_table('course_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_member_course_slug'), ['course_slug'], unique=False)


def downgrade():
    with op.batch_alter_table('course_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_member_course_slug'))
    op.drop_table('course_member')
    with op.batch_alter_table('draft_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draft_comment_draft_id'))
    op.drop_table('draft_comment')
    with op.batch_alter_table('course_draft', schema=None) as batch_op:
        batch_op.drop_index('uq_course_draft_one_open')
    op.drop_table('course_draft')
