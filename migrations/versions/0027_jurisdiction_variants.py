"""Jurisdiction variants: an agency's jurisdiction, lessons' per-jurisdiction text, and the
jurisdiction an attempt was drawn for.

Revision ID: 0027
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("agency") as batch:
        batch.add_column(sa.Column("jurisdiction", sa.String(length=8), nullable=True))
    with op.batch_alter_table("course_lesson") as batch:
        batch.add_column(sa.Column("variants", sa.JSON(), nullable=True))
    with op.batch_alter_table("attempt") as batch:
        batch.add_column(sa.Column("jurisdiction", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("attempt") as batch:
        batch.drop_column("jurisdiction")
    with op.batch_alter_table("course_lesson") as batch:
        batch.drop_column("variants")
    with op.batch_alter_table("agency") as batch:
        batch.drop_column("jurisdiction")
