"""Drafts remember where they came from: the browser, a rollback or a zip import.

Revision ID: 0031
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("course_draft") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=20), nullable=False,
                                   server_default="browser"))


def downgrade():
    with op.batch_alter_table("course_draft") as batch:
        batch.drop_column("origin")
