"""Course translations: rendered per lesson and version; the language of each attempt.

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("course_version") as batch:
        batch.add_column(sa.Column("translations", sa.JSON(), nullable=True))
    with op.batch_alter_table("course_lesson") as batch:
        batch.add_column(sa.Column("translations", sa.JSON(), nullable=True))
    with op.batch_alter_table("attempt") as batch:
        batch.add_column(sa.Column("language", sa.String(length=12), nullable=True))


def downgrade():
    with op.batch_alter_table("attempt") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("course_lesson") as batch:
        batch.drop_column("translations")
    with op.batch_alter_table("course_version") as batch:
        batch.drop_column("translations")
