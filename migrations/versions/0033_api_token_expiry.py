"""API tokens expire: every token gets an expiry date.

A token created from this revision on lives for the period its manager chose (a year
at most). Tokens made before had none; each still active gets 90 days from the
upgrade, time enough for its agency to replace it, and its page shows the date.

Revision ID: 0033
Revises: 0032
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

GRACE = timedelta(days=90)


def upgrade():
    op.add_column("api_token", sa.Column("expires_at", sa.DateTime(), nullable=True))
    api_token = sa.table("api_token", sa.column("expires_at", sa.DateTime))
    until = datetime.now(UTC).replace(tzinfo=None, microsecond=0) + GRACE
    op.get_bind().execute(sa.update(api_token).where(api_token.c.expires_at.is_(None))
                          .values(expires_at=until))


def downgrade():
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("expires_at")
