"""Interface languages: an agency's language; a person's own choice becomes optional.

Revision ID: 0025
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("agency") as batch:
        batch.add_column(sa.Column("language", sa.String(length=12), nullable=True))
    with op.batch_alter_table("user_account") as batch:
        batch.alter_column("language", existing_type=sa.String(length=12), nullable=True)
    # Nobody could choose before: "en" was the default, not a choice.
    op.execute("UPDATE user_account SET language = NULL WHERE language = 'en'")


def downgrade():
    op.execute("UPDATE user_account SET language = 'en' WHERE language IS NULL")
    with op.batch_alter_table("user_account") as batch:
        batch.alter_column("language", existing_type=sa.String(length=12), nullable=False)
    with op.batch_alter_table("agency") as batch:
        batch.drop_column("language")
