"""Sent reset, welcome and invitation messages keep their text, not their live links.

From this revision a queued message holding a link is sealed until it is sent and kept
redacted afterwards (``learning.core.sealed``); rows sent before it still hold the link
in clear, so their link paths are redacted here. Unsent rows are left for the sender.

Revision ID: 0032
Revises: 0030
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0030"
branch_labels = None
depends_on = None

# The same rule as learning.core.redact for these two paths (copied: a migration must not
# change when the app's code does later).
_LINK = re.compile(r"(/(?:invite|reset)/)[^/?#&\s\"']+", re.IGNORECASE)
_KINDS = ("password_reset", "welcome", "invitation")


def upgrade():
    notification = sa.table("notification", sa.column("id", sa.Integer),
                            sa.column("kind", sa.String), sa.column("body", sa.Text),
                            sa.column("sent_at", sa.DateTime))
    connection = op.get_bind()
    rows = connection.execute(sa.select(notification.c.id, notification.c.body).where(
        notification.c.kind.in_(_KINDS), notification.c.sent_at.is_not(None))).all()
    for row_id, body in rows:
        redacted = _LINK.sub(lambda m: m.group(1) + "[redacted]", body)
        if redacted != body:
            connection.execute(sa.update(notification).where(notification.c.id == row_id)
                               .values(body=redacted))


def downgrade():
    pass  # a redacted link cannot be restored (and no longer works either)
