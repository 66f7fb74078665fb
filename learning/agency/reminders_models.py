"""The reminder outbox: one row per message, sent at most once by ``flask notify send``."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from learning.extensions import db
from learning.timeutil import utcnow


class Notification(db.Model):
    """A queued message to one user.

    ``dedupe_key`` (kind, user, the items listed and the ISO week) is unique, so queueing
    the same digest again adds nothing. A sender claims a row (``claimed_at``) before
    sending and sets ``sent_at`` once the mail server has accepted it; a failed send
    records ``last_error`` and releases the claim so a later run retries it.
    """

    __table_args__ = (sa.Index("ix_notification_pending", "sent_at", "id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))
    dedupe_key: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    subject: so.Mapped[str] = so.mapped_column(sa.String(300))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    claimed_at: so.Mapped[datetime | None]
    sent_at: so.Mapped[datetime | None]
    attempts: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    last_error: so.Mapped[str | None] = so.mapped_column(sa.Text)

    def __repr__(self) -> str:
        return f"<Notification {self.kind} to {self.user_id} sent={self.sent_at}>"
